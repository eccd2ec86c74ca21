/**
 * The extension against a shared deployment. The shared daemon is being built in the daemon separately;
 * until it is on this branch, `SharedDeploymentStandIn` (a real HTTPS server with a private CA, answering
 * the documented shapes of protocol/daemonApi.ts) stands in for its API. Everything on the extension's
 * side is real: the client, the event stream, the connection, the model, files on disk, TLS.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TenantView } from '../../../protocol/daemonApi';
import { createServerCredentials } from '../../../sim/tls/certificateAuthority';
import type { ServerCredentials } from '../../../sim/tls/certificateAuthority';
import type { ConnectionState } from '../../../extension/client/connectionState';
import { DaemonApiError } from '../../../extension/client/daemonApiError';
import { DaemonClient } from '../../../extension/client/daemonClient';
import { DaemonConnection } from '../../../extension/client/daemonConnection';
import { DaemonController } from '../../../extension/client/daemonController';
import type { DaemonLocation } from '../../../extension/client/daemonLocator';
import { daemonLocator } from '../../../extension/client/daemonLocator';
import { DaemonProcess } from '../../../extension/client/daemonProcess';
import { DaemonUnreachableError } from '../../../extension/client/daemonUnreachableError';
import type { SecretStore } from '../../../extension/client/sharedTokenStore';
import { SharedTokenStore } from '../../../extension/client/sharedTokenStore';
import { SignInNeededError } from '../../../extension/client/signInNeededError';
import { verifySharedToken } from '../../../extension/client/verifySharedToken';
import { defaultSettings } from '../../../extension/common/extensionSettings';
import type { ExtensionSettings } from '../../../extension/common/extensionSettings';
import type { Logger } from '../../../extension/common/logger';
import { accessRefusal } from '../../../extension/model/accessRefusal';
import { statusBarPresentation } from '../../../extension/model/statusBarPresentation';
import { StatusModel } from '../../../extension/model/statusModel';
import { SharedDeploymentStandIn } from '../support/sharedDeploymentStandIn';
import { tenantView } from '../support/viewFixtures';
import { tempDataDir } from '../../support/tempDataDir';

/** VS Code's SecretStorage cannot run outside VS Code; this keeps secrets the same way, in memory. */
class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.values.get(key));
  }
  store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.values.delete(key);
    return Promise.resolve();
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('extension: connecting to a shared deployment over HTTPS with a private CA', function () {
  this.timeout(30_000);
  const TENANT_ID = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b';
  let tls: ServerCredentials;
  let standIn: SharedDeploymentStandIn;
  let caFile: string;
  let cleanup: () => Promise<void>;
  let aliceToken: string;
  let bobToken: string;
  const logLines: string[] = [];
  const logger: Logger = {
    debug: (message) => logLines.push(message),
    info: (message) => logLines.push(message),
    warn: (message) => logLines.push(message),
    error: (message) => logLines.push(message),
  };
  const errorMessages: string[] = [];
  const tokensSeen: string[] = [];

  before(async () => {
    tls = await createServerCredentials();
    const dir = await tempDataDir('m365-shared-ca');
    cleanup = dir.cleanup;
    caFile = join(dir.dir, 'team-ca.pem');
    await writeFile(caFile, tls.caPem);
    standIn = await SharedDeploymentStandIn.start({ tls, tenants: [tenantView({ id: TENANT_ID, displayName: 'Contoso' })] });
    aliceToken = standIn.addEngineer({ name: 'alice', role: 'operator' });
    bobToken = standIn.addEngineer({ name: 'bob', role: 'reader' });
    tokensSeen.push(aliceToken, bobToken);
  });
  after(async () => {
    await standIn?.stop();
    await cleanup?.();
  });

  function sharedLocation(token: string, caPem: string | undefined = tls.caPem): DaemonLocation {
    return { mode: 'shared', url: standIn.url, token, ...(caPem ? { caPem } : {}) };
  }

  function connectionTo(secrets: MemorySecrets, options: { operator?: string; startDaemon?: () => Promise<never> } = {}): { model: StatusModel; connection: DaemonConnection; states: ConnectionState['kind'][] } {
    const tokens = new SharedTokenStore(secrets);
    const model: StatusModel = new StatusModel({ users: { listUsers: (tenantId, query) => connection.client.listUsers(tenantId, query) } });
    const states: ConnectionState['kind'][] = [];
    model.onDidChangeConnection((state) => states.push(state.kind));
    const connection: DaemonConnection = new DaemonConnection(model, {
      locate: daemonLocator({ sharedUrl: () => standIn.url, caFile: () => caFile, token: (url) => tokens.get(url), dataDirectory: () => '/nonexistent' }),
      includeAutomatedTasks: () => false,
      backoff: { initialMs: 30, maxMs: 60 },
      logger,
      ...(options.operator ? { operator: options.operator } : {}),
      ...(options.startDaemon ? { startDaemon: options.startDaemon } : {}),
    });
    return { model, connection, states };
  }

  it('reads who is signed in (GET /v1/session) over HTTPS, trusting the CA file from the settings', async () => {
    const locate = daemonLocator({ sharedUrl: () => `${standIn.url}/`, caFile: () => caFile, token: () => Promise.resolve(aliceToken), dataDirectory: () => '/nonexistent' });
    const location = await locate();
    assert.ok(location);
    assert.equal(location.mode, 'shared');
    assert.equal(location.url, standIn.url, 'the URL is reduced to its origin');
    const client = new DaemonClient({ endpoint: () => location });
    try {
      const session = await client.session();
      assert.deepEqual(session.engineer, { name: 'alice', role: 'operator', tenants: null });
      assert.equal(session.mode, 'shared');
      assert.equal((await client.listTenants())[0]?.id, TENANT_ID);
    } finally {
      client.dispose();
    }
  });

  it('refuses a certificate from a CA it was not given, naming the setting that fixes it and not the token', async () => {
    const client = new DaemonClient({ endpoint: () => sharedLocation(aliceToken, '') });
    try {
      const error = await client.session().then(
        () => assert.fail('an untrusted certificate was accepted'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof DaemonUnreachableError);
      assert.match(error.message, /certificate is not trusted/);
      assert.match(error.message, /m365Status\.shared\.caFile/);
      errorMessages.push(error.message);
    } finally {
      client.dispose();
    }
  });

  it('says plainly when the CA file setting points at no file or at something that is not a certificate', async () => {
    const missing = daemonLocator({ sharedUrl: () => standIn.url, caFile: () => `${caFile}.missing`, token: () => Promise.resolve(aliceToken), dataDirectory: () => '/nonexistent' });
    await assert.rejects(missing(), /m365Status\.shared\.caFile .*there is no such file/);
    const notPem = `${caFile}.txt`;
    await writeFile(notPem, 'not a certificate');
    const wrong = daemonLocator({ sharedUrl: () => standIn.url, caFile: () => notPem, token: () => Promise.resolve(aliceToken), dataDirectory: () => '/nonexistent' });
    await assert.rejects(wrong(), /holds no PEM certificate/);
  });

  it('connects in shared mode: tenants, who is signed in and live events reach the model, and no daemon is started', async () => {
    const secrets = new MemorySecrets();
    await new SharedTokenStore(secrets).store(standIn.url, aliceToken);
    let starts = 0;
    const { model, connection } = connectionTo(secrets, {
      operator: 'os-account',
      startDaemon: () => {
        starts++;
        return Promise.reject(new Error('must not be called'));
      },
    });
    try {
      const before = standIn.requests.length;
      await connection.connect();
      await until(() => model.connection.kind === 'connected', 10_000, 'connected');
      assert.equal(starts, 0, 'the extension never starts a daemon in shared mode');
      assert.deepEqual(model.session?.engineer, { name: 'alice', role: 'operator', tenants: null });
      assert.deepEqual(model.tenants().map((tenant: TenantView) => tenant.id), [TENANT_ID]);
      const shown = statusBarPresentation(model.connection, model.tenants(), Date.now(), { mode: 'shared', session: model.session });
      assert.match(shown.text, / · shared · alice \(operator\)$/);
      assert.match(shown.tooltip, /Signed in to the shared deployment as \*\*alice\*\* \(operator\)/);

      await model.loadMoreUsers(TENANT_ID);
      assert.equal(model.users(TENANT_ID).find('adele')?.state, 'enabled');
      await connection.client.lockUser(TENANT_ID, 'adele');
      await until(() => model.users(TENANT_ID).find('adele')?.lock?.by === 'alice', 10_000, 'the lock event, naming alice');

      const sent = standIn.requests.slice(before).filter((request) => request.path !== '/v1/health');
      assert.ok(sent.some((request) => request.path === '/v1/session'), 'the session is read after connecting');
      assert.ok(sent.some((request) => request.path === '/v1/events'));
      for (const request of sent) {
        assert.equal(request.authorization, `Bearer ${aliceToken}`, `${request.method} ${request.path} carries alice's own token`);
        assert.equal(request.operatorHeader, undefined, `${request.method} ${request.path} sends no x-m365-operator`);
      }
    } finally {
      connection.dispose();
      model.dispose();
    }
  });

  it('asks to sign in, without trying the deployment, when no token is kept for its URL', async () => {
    const { model, connection } = connectionTo(new MemorySecrets());
    try {
      const before = standIn.requests.length;
      await connection.connect();
      assert.equal(model.connection.kind, 'signInNeeded');
      assert.match(model.connection.kind === 'signInNeeded' ? model.connection.reason : '', /Not signed in to the shared deployment at https:\/\/127\.0\.0\.1:\d+/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(standIn.requests.length, before, 'nothing was sent without a token');
      const shown = statusBarPresentation(model.connection, [], Date.now(), { mode: 'shared' });
      assert.equal(shown.text, '$(account) M365: sign in');
      assert.equal(shown.command, 'm365Status.signInToSharedDeployment');
    } finally {
      connection.dispose();
      model.dispose();
    }
  });

  it('stops and asks to sign in again when a revoked token is refused, instead of retrying, and forgets what it showed', async () => {
    const carolToken = standIn.addEngineer({ name: 'carol', role: 'operator' });
    tokensSeen.push(carolToken);
    const secrets = new MemorySecrets();
    await new SharedTokenStore(secrets).store(standIn.url, carolToken);
    const { model, connection } = connectionTo(secrets);
    try {
      await connection.connect();
      await until(() => model.connection.kind === 'connected' && standIn.streamCount() > 0, 10_000, 'connected');
      standIn.revoke(carolToken);
      await until(() => model.connection.kind === 'signInNeeded', 10_000, 'the refusal to be seen');
      assert.match(model.connection.kind === 'signInNeeded' ? model.connection.reason : '', /refused the token: it was revoked or is wrong/);
      assert.equal(model.tenants().length, 0, 'nothing read with a revoked token is still shown');
      assert.equal(model.session, undefined);
      const attempts = (): number => standIn.requests.filter((request) => request.authorization === `Bearer ${carolToken}` && request.path === '/v1/events').length;
      const refusedSoFar = attempts();
      // The backoff is 30-60 ms: a retrying stream would have tried several times in this wait.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(attempts(), refusedSoFar, 'no retry after the refusal');
    } finally {
      connection.dispose();
      model.dispose();
    }
  });

  it("answers a reader's lock with the role it needs, in the engineer's words", async () => {
    const client = new DaemonClient({ endpoint: () => sharedLocation(bobToken) });
    try {
      const error = await client.lockUser(TENANT_ID, 'adele').then(
        () => assert.fail('a reader locked a user'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof DaemonApiError);
      assert.equal(error.status, 403);
      assert.equal(error.requiredRole, 'operator');
      const session = await client.session();
      assert.deepEqual(accessRefusal(error, session), { message: 'needs the operator role. You are signed in as bob (reader).', signIn: false });
      errorMessages.push(error.message);
    } finally {
      client.dispose();
    }
  });

  it('shows a refused token as a reason to sign in again, and nothing else as an access refusal', async () => {
    const client = new DaemonClient({ endpoint: () => sharedLocation('m365s_not-a-token-anyone-issued') });
    try {
      const error = await client.listTenants().then(
        () => assert.fail('an unknown token was let in'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof DaemonApiError);
      assert.equal(error.status, 401);
      const refusal = accessRefusal(error, { mode: 'shared', engineer: { name: 'alice', role: 'operator', tenants: null } });
      assert.equal(refusal?.signIn, true);
      assert.match(refusal?.message ?? '', /refused your token: it was revoked or is wrong\. Sign in again\./);
      assert.equal(accessRefusal(new Error('socket hang up'), undefined), undefined);
      assert.equal(accessRefusal(new DaemonApiError(400, { code: 'INVALID_REQUEST', message: 'bad' }), undefined), undefined);
    } finally {
      client.dispose();
    }
  });

  it('checks a token before keeping it: the engineer for a good one, a plain refusal for a bad one', async () => {
    const session = await verifySharedToken({ url: standIn.url, token: aliceToken, caPem: tls.caPem });
    assert.deepEqual(session.engineer, { name: 'alice', role: 'operator', tenants: null });
    const revoked = standIn.addEngineer({ name: 'dave', role: 'admin' });
    tokensSeen.push(revoked);
    standIn.revoke(revoked);
    const error = await verifySharedToken({ url: standIn.url, token: revoked, caPem: tls.caPem }).then(
      () => assert.fail('a revoked token was accepted'),
      (caught: unknown) => caught as Error,
    );
    assert.match(error.message, /refused this token: it is mistyped, or was revoked/);
    errorMessages.push(error.message);
  });

  it("does not take a local daemon's answer (plain http on loopback) for a shared deployment", async () => {
    const local = await SharedDeploymentStandIn.start({ mode: 'local' });
    try {
      const token = local.addEngineer({ name: 'root', role: 'admin' });
      tokensSeen.push(token);
      await assert.rejects(verifySharedToken({ url: local.url, token }), /is an engineer's local daemon, not a shared deployment/);
    } finally {
      await local.stop();
    }
  });

  it('never starts, stops or restarts a daemon in shared mode, and says why', async () => {
    const settings: ExtensionSettings = { ...defaultSettings, shared: { url: standIn.url, caFile } };
    const controller = new DaemonController({ settings: () => settings, process: new DaemonProcess({}), daemonScript: '/nonexistent/daemon.js' });
    for (const [action, run] of [
      ['start', () => controller.start()],
      ['stop', () => controller.stop()],
      ['restart', () => controller.restart()],
      ['start', () => controller.launch()],
    ] as const) {
      await assert.rejects(run(), new RegExp(`shared deployment at ${standIn.url.replace(/\./g, '\\.')}, whose daemons are run by your team: the extension does not ${action} them`));
    }
    assert.equal(await controller.running(), undefined);
  });

  it('keeps each token under its own deployment URL, and forgets it on sign-out', async () => {
    const secrets = new MemorySecrets();
    const tokens = new SharedTokenStore(secrets);
    await tokens.store('https://m365.example.net:8443', 'm365s_first');
    await tokens.store('https://other.example.net', 'm365s_second');
    assert.equal(await tokens.get('https://m365.example.net:8443/'), 'm365s_first', 'a trailing slash is the same deployment');
    assert.equal(await tokens.get('https://other.example.net'), 'm365s_second');
    assert.equal(await tokens.get('https://m365.example.net'), undefined, 'another port is another deployment');
    await tokens.delete('https://m365.example.net:8443');
    assert.equal(await tokens.get('https://m365.example.net:8443'), undefined);
    assert.equal(secrets.values.size, 1);
  });

  it('rejects a sign-in with nothing stored as SignInNeededError, so the connection stops instead of retrying', async () => {
    const locate = daemonLocator({ sharedUrl: () => standIn.url, caFile: () => '', token: () => Promise.resolve(undefined), dataDirectory: () => '/nonexistent' });
    await assert.rejects(locate(), SignInNeededError);
  });

  it('never writes a token into the log or an error message', () => {
    assert.ok(logLines.length > 0, 'the connections logged something');
    assert.ok(errorMessages.length >= 3);
    for (const text of [...logLines, ...errorMessages]) {
      for (const token of tokensSeen) assert.ok(!text.includes(token), `a token leaked into: ${text}`);
      assert.doesNotMatch(text, /m365s_[0-9a-f]{8}/);
    }
  });
});
