import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { fetch } from 'undici';
import type { DaemonEndpointFile, SessionView, TenantView } from '../../../protocol/daemonApi';
import { DaemonHarness } from '../../support/daemonHarness';
import { vaultFilesText } from '../../support/vaultFilesText';

/** A raw request, so the Host header can be anything (fetch would not let a test forge it). */
function rawRequest(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('daemon API: refusals and secrets', function () {
  this.timeout(30_000);
  let harness: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start();
  });
  after(async () => harness.stop());

  it('answers the health check without a token, and without data', async () => {
    const response = await fetch(`${harness.daemon.url}/v1/health`);
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys((await response.json()) as object).sort(), ['ok', 'version']);
  });

  it('refuses a missing or wrong token with 401', async () => {
    const none = await fetch(`${harness.daemon.url}/v1/tenants`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    const wrong = await harness.api('GET', '/v1/tenants', undefined, { authorization: 'Bearer not-the-token' });
    assert.equal(wrong.status, 401);
  });

  it('says it is a local daemon, signed in as the operator the extension names or the OS user, who may do everything', async () => {
    const named = await harness.api<SessionView>('GET', '/v1/session', undefined, { 'x-m365-operator': 'Jo Operator' });
    assert.deepEqual(named.body, { mode: 'local', engineer: { name: 'Jo Operator', role: 'admin', tenants: null } });
    const unnamed = await harness.api<SessionView>('GET', '/v1/session');
    assert.equal(unnamed.body.engineer.name, userInfo().username);
  });

  it('refuses a foreign Host (DNS rebinding) even with the right token', async () => {
    const answer = await rawRequest(harness.daemon.port, '/v1/tenants', { host: 'evil.example:80', authorization: `Bearer ${harness.daemon.token}` });
    assert.equal(answer.status, 421);
    assert.match(answer.body, /FOREIGN_HOST/);
    const ok = await rawRequest(harness.daemon.port, '/v1/tenants', { host: `localhost:${harness.daemon.port}`, authorization: `Bearer ${harness.daemon.token}` });
    assert.equal(ok.status, 200);
  });

  it('refuses browser requests that carry an Origin, and sends no CORS headers', async () => {
    const answer = await harness.api('GET', '/v1/tenants', undefined, { origin: 'https://evil.example' });
    assert.equal(answer.status, 403);
    const response = await fetch(`${harness.daemon.url}/v1/health`, { headers: { origin: 'https://evil.example' } });
    assert.equal(response.headers.get('access-control-allow-origin'), null);
  });

  it('answers bad bodies with 400 naming the field, and changes nothing', async () => {
    const before = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants.length;
    const badAppId = await harness.api<{ error: { code: string; message: string; details?: { field?: string } } }>('POST', '/v1/tenants', {
      tenant: 'contoso.onmicrosoft.com',
      appId: 'not-a-guid',
      credential: { kind: 'secret', clientSecret: 'x' },
    });
    assert.equal(badAppId.status, 400);
    assert.match(JSON.stringify(badAppId.body), /appId/);
    const badKind = await harness.api('POST', '/v1/tenants', { tenant: 'contoso.onmicrosoft.com', appId: '6e0b3c8a-1f59-4d43-9d1e-2b7f1c3a9e11', credential: { kind: 'password' } });
    assert.equal(badKind.status, 400);
    assert.match(JSON.stringify(badKind.body), /credential/);
    const notJson = await harness.api('POST', '/v1/tenants', '{"tenant":', { 'content-type': 'application/json' });
    assert.equal(notJson.status, 400);
    const huge = await harness.api('POST', '/v1/tenants', { tenant: 'x'.repeat(100_000) });
    assert.equal(huge.status, 413);
    const unknown = await harness.api('POST', '/v1/tenants', { tenant: 'contoso.onmicrosoft.com', appId: '6e0b3c8a-1f59-4d43-9d1e-2b7f1c3a9e11', credential: { kind: 'secret', clientSecret: 'x' }, extra: true });
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(unknown.body), /extra/);
    const badQuery = await harness.api('GET', '/v1/tasks?limit=abc');
    assert.equal(badQuery.status, 400);
    assert.equal((await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants.length, before);
  });

  it('answers an unknown tenant or route with 404', async () => {
    assert.equal((await harness.api('GET', '/v1/tenants/nope')).status, 404);
    assert.equal((await harness.api('GET', '/v1/nothing-here')).status, 404);
  });

  it('writes the daemon file 0600 with the token, and keeps the secret out of answers, logs and the main store', async () => {
    const secretTenant = await harness.registerTenant({ users: 5 });
    const secret = secretTenant.sim.app.secret;
    const wrong = await harness.registerTenant({ users: 2 }, { secret: 'Zz98Q~wrong-secret-that-must-stay-hidden' });
    await harness.api('POST', `/v1/tenants/${wrong.id}/refresh`);
    await harness.daemon.whenIdle();
    await harness.daemon.store.checkpoint();

    const endpoint = JSON.parse(await readFile(join(harness.dataDir, 'daemon.json'), 'utf8')) as DaemonEndpointFile;
    assert.equal(endpoint.token, harness.daemon.token);
    assert.equal(endpoint.port, harness.daemon.port);
    assert.equal((await stat(join(harness.dataDir, 'daemon.json'))).mode & 0o777, 0o600);

    const answers = JSON.stringify([
      (await harness.api('GET', '/v1/tenants')).body,
      (await harness.api('GET', `/v1/tenants/${secretTenant.id}`)).body,
      (await harness.api('GET', '/v1/tasks?automated=true')).body,
      (await harness.api('GET', '/v1/logs')).body,
    ]);
    for (const text of [secret, 'wrong-secret-that-must-stay-hidden']) {
      assert.ok(!answers.includes(text), 'not in API answers');
      assert.ok(!harness.logLines.join('\n').includes(text), 'not in the daemon log');
      for (const name of ['store.json', 'store.journal', 'system-log.json', 'system-log.journal', ...(await readdir(join(harness.dataDir, 'users'))).map((f) => join('users', f))]) {
        assert.ok(!(await readFile(join(harness.dataDir, name), 'utf8')).includes(text), `not in ${name}`);
      }
      assert.ok(!(await vaultFilesText(harness.dataDir)).includes(text), 'not in clear text in the vault');
    }
    assert.ok(answers.includes('AADSTS7000215'), 'the failure itself is reported');
  });
});
