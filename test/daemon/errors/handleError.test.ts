import assert from 'node:assert/strict';
import { z } from 'zod';
import { systemClock } from '../../../daemon/clock';
import { AppError } from '../../../daemon/errors/AppError';
import type { SystemLogRecord } from '../../../daemon/errors/handleError';
import { handleError } from '../../../daemon/errors/handleError';
import { createLogger } from '../../../daemon/logging/logger';
import { rememberSecret } from '../../../daemon/logging/redactSecrets';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import { tempDataDir } from '../../support/tempDataDir';

function capture() {
  const lines: string[] = [];
  const records: SystemLogRecord[] = [];
  return {
    lines,
    records,
    parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    sinks: {
      logger: createLogger({ write: (line) => lines.push(line), level: 'debug' }),
      systemLog: {
        appendSystemLog: async (record: SystemLogRecord) => {
          records.push(record);
        },
      },
    },
  };
}

describe('errors: handleError', () => {
  it('answers an AppError with its own status, code, message and details, logged once as a warning', () => {
    const out = capture();
    const error = AppError.badRequest('VALIDATION_FAILED', 'appId is required.', { field: 'appId' });
    const handled = handleError(error, { source: 'http' }, out.sinks);
    assert.deepEqual(
      { status: handled.status, code: handled.code, message: handled.message, details: handled.details, expected: handled.expected },
      { status: 400, code: 'VALIDATION_FAILED', message: 'appId is required.', details: { field: 'appId' }, expected: true },
    );
    const [line, ...rest] = out.parsed();
    assert.equal(rest.length, 0);
    assert.equal(line?.['level'], 'warn');
    assert.equal(line?.['errorId'], handled.errorId);
    assert.equal(out.records.length, 0, 'a 4xx answered over HTTP is not a system log event');
  });

  it('turns an unknown error into a 500 without its internals, keeping them in the daemon log under the same id', () => {
    const out = capture();
    const handled = handleError(new TypeError("Cannot read properties of undefined (reading 'tenants')"), { source: 'http' }, out.sinks);
    assert.equal(handled.status, 500);
    assert.equal(handled.code, 'INTERNAL_ERROR');
    assert.doesNotMatch(handled.message, /tenants|TypeError/);
    assert.match(handled.message, new RegExp(handled.errorId));
    const [line] = out.parsed();
    assert.equal(line?.['level'], 'error');
    assert.equal(line?.['errorId'], handled.errorId);
    assert.match(JSON.stringify(line?.['error']), /reading 'tenants'/);
    assert.match(JSON.stringify(line?.['error']), /handleError\.test\.ts/, 'the stack stays in the daemon log');
  });

  it('logs an error handled twice (by the task and again by Express) only once, with one error id', () => {
    const out = capture();
    const error = new Error('boom');
    const first = handleError(error, { source: 'action', tenantId: 't1' }, out.sinks);
    const second = handleError(error, { source: 'http' }, out.sinks);
    assert.equal(second.errorId, first.errorId);
    assert.equal(out.lines.length, 1);
    assert.equal(out.records.length, 1);
  });

  it('records task and poller errors in the system log with the task id and tenant', () => {
    const out = capture();
    handleError(new AppError({ status: 502, code: 'GRAPH_UNAVAILABLE', message: 'Graph answered 503.' }), { source: 'task', taskId: 'task-1', tenantId: 't1' }, out.sinks);
    assert.deepEqual(out.records.map((r) => [r.level, r.code, r.taskId, r.tenantId, r.source]), [['error', 'GRAPH_UNAVAILABLE', 'task-1', 't1', 'task']]);
  });

  it('never writes a secret to the log: known secrets, bearer tokens, private keys and secret-named fields', () => {
    const out = capture();
    const secret = 'Qx8~verySecretClientValue.123';
    rememberSecret(secret);
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    const error = new Error(`token request failed for client_secret=${secret} with Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl and key ${pem}`);
    handleError(error, { source: 'poller' }, out.sinks);
    out.sinks.logger.info('registering', { clientSecret: 'another-plain-secret', privateKeyPem: pem, appId: 'app-1' });
    const text = out.lines.join('\n');
    assert.doesNotMatch(text, /verySecretClientValue/);
    assert.doesNotMatch(text, /another-plain-secret/);
    assert.doesNotMatch(text, /MIIEvQIBADANBgkqhkiG9w0BAQEFAASC/);
    assert.doesNotMatch(text, /eyJhbGciOi\.eyJzdWIiOi/);
    assert.match(text, /app-1/, 'what is not secret stays readable');
  });

  it('turns a zod validation error into a 400 naming the field', () => {
    const out = capture();
    const result = z.object({ tenant: z.object({ appId: z.string() }) }).safeParse({ tenant: { appId: 7 } });
    assert.equal(result.success, false);
    const handled = handleError(result.error, { source: 'http' }, out.sinks);
    assert.equal(handled.status, 400);
    assert.equal(handled.code, 'VALIDATION_FAILED');
    assert.deepEqual(handled.details, { field: 'tenant.appId' });
    assert.match(handled.message, /"tenant\.appId"/);
  });
});

describe('errors: handleError while the daemon stops', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let closed: LowdbStore;
  let tenantId: string;
  /** What a closed store answers a write with, as work still running at a stop meets it (a new one each time). */
  const storeClosed = (): Promise<unknown> =>
    closed.recordSyncAttempt(tenantId).then(
      () => assert.fail('a closed store took a write'),
      (error: unknown) => error,
    );

  before(async () => {
    ({ dir, cleanup } = await tempDataDir('m365-handle-error-stopping'));
    closed = await LowdbStore.open({ dataDir: dir, clock: systemClock });
    tenantId = (await closed.addTenant({ tenantIdOrDomain: 'contoso.example', appId: 'app-1', credentialKind: 'secret', by: 'alice' })).id;
    await closed.close();
    assert.equal(((await storeClosed()) as AppError).code, 'STORE_CLOSED');
  });
  after(async () => {
    await cleanup();
  });

  /** Resolves once the system-log write `handleError` starts (and does not wait for) has settled. */
  const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('logs a closed store met once the daemon is stopping at debug, and writes nothing to the system log', async () => {
    const out = capture();
    const stopping = new AbortController();
    stopping.abort();
    const handled = handleError(await storeClosed(), { source: 'credential-health', tenantId: 't1', operation: 'check credential health' }, { ...out.sinks, stopping: stopping.signal });
    assert.equal(handled.code, 'STORE_CLOSED');
    assert.deepEqual(
      out.parsed().map((line) => [line['level'], line['code'], line['source'], line['tenantId']]),
      [['debug', 'STORE_CLOSED', 'credential-health', 't1']],
    );
    assert.equal(out.records.length, 0);
  });

  it('reports a closed store met while the daemon is not stopping as an error, in the log and the system log', async () => {
    const out = capture();
    const handled = handleError(await storeClosed(), { source: 'credential-health', tenantId: 't1', operation: 'check credential health' }, { ...out.sinks, stopping: new AbortController().signal });
    assert.deepEqual(out.parsed().map((line) => [line['level'], line['code'], line['errorId']]), [['error', 'STORE_CLOSED', handled.errorId]]);
    assert.deepEqual(out.records.map((record) => [record.level, record.code, record.errorId]), [['error', 'STORE_CLOSED', handled.errorId]]);
  });

  it('still reports any other failure while the daemon stops, its system-log copy lost to the closed store at debug', async () => {
    const out = capture();
    const stopping = new AbortController();
    stopping.abort();
    const failure = new AppError({ status: 502, code: 'GRAPH_UNAVAILABLE', message: 'Graph answered 503.' });
    const handled = handleError(failure, { source: 'poller', tenantId: 't1', operation: 'poll' }, { logger: out.sinks.logger, systemLog: closed, stopping: stopping.signal });
    await settled();
    assert.deepEqual(
      out.parsed().map((line) => [line['level'], line['msg'], line['errorId']]),
      [
        ['error', 'Graph answered 503.', handled.errorId],
        ['debug', 'Could not write to the system log', handled.errorId],
      ],
    );
  });

  it('reports a system-log copy lost to a closed store as an error while the daemon is not stopping', async () => {
    const out = capture();
    const failure = new AppError({ status: 502, code: 'GRAPH_UNAVAILABLE', message: 'Graph answered 503.' });
    const handled = handleError(failure, { source: 'poller', tenantId: 't1', operation: 'poll' }, { logger: out.sinks.logger, systemLog: closed, stopping: new AbortController().signal });
    await settled();
    assert.deepEqual(
      out.parsed().map((line) => [line['level'], line['msg'], line['errorId']]),
      [
        ['error', 'Graph answered 503.', handled.errorId],
        ['error', 'Could not write to the system log', handled.errorId],
      ],
    );
  });
});
