import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetch } from 'undici';
import type { ApiError, DaemonEndpointFile, DaemonEvent, LockOutcome, SessionView, SystemLogEntryView, TaskListEntry, TenantView, UserPage } from '../../../protocol/daemonApi';
import { createLogger } from '../../../daemon/logging/logger';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { engineerAuthentication } from '../../../daemon/team/engineerAuthentication';
import { EngineerDirectory } from '../../../daemon/team/engineerDirectory';
import { DaemonHarness } from '../../support/daemonHarness';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';
import { readSseMessages } from '../../support/sseMessages';

interface SimUserDetail {
  accountEnabled: boolean;
}

const quiet = createLogger({ write: () => undefined, level: 'error' });

describe('daemon API in shared mode: engineers, roles and tenant restrictions', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let database: SharedDatabase;
  let directory: EngineerDirectory;
  let harness: DaemonHarness;
  const tokens: Record<'admin' | 'operator' | 'reader' | 'restricted', string> = { admin: '', operator: '', reader: '', restricted: '' };
  let contoso: { id: string; simId: string };
  let fabrikam: { id: string; simId: string };

  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  async function register(token: string): Promise<{ id: string; simId: string }> {
    const sim = await harness.sim.createTenant({ users: 4, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    const answer = await harness.api<TenantView>(
      'POST',
      '/v1/tenants',
      { tenant: sim.id, displayName: sim.domain.split('.')[0], appId: sim.app.appId, credential: { kind: 'secret', clientSecret: sim.app.secret } },
      as(token),
    );
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    await harness.until(async () => (await harness.api<UserPage>('GET', `/v1/tenants/${answer.body.id}/users?limit=1`, undefined, as(token))).body.total > 0);
    return { id: answer.body.id, simId: sim.id };
  }

  async function firstEnabledUser(tenantId: string): Promise<string> {
    const page = await harness.api<UserPage>('GET', `/v1/tenants/${tenantId}/users?state=enabled&limit=1`, undefined, as(tokens.admin));
    const user = page.body.users[0];
    if (!user) throw new Error('no enabled user');
    return user.id;
  }

  before(async () => {
    server = await startPostgres();
    database = await openSharedDatabase(await server.createDatabase(), { logger: quiet });
    directory = new EngineerDirectory(database.pool);
    tokens.admin = (await directory.add({ name: 'ada', role: 'admin' })).token;
    tokens.operator = (await directory.add({ name: 'olga', role: 'operator' })).token;
    tokens.reader = (await directory.add({ name: 'rita', role: 'reader' })).token;
    harness = await DaemonHarness.start({}, undefined, { authentication: engineerAuthentication(directory) });
    contoso = await register(tokens.admin);
    fabrikam = await register(tokens.admin);
    tokens.restricted = (await directory.add({ name: 'remy', role: 'operator', tenants: [contoso.simId] })).token;
  });
  after(async () => {
    await harness?.stop();
    await database?.close();
    await server?.stop();
  });

  it('answers the health check without a token, and refuses no token, an unknown one and the local daemon file token with 401', async () => {
    assert.equal((await fetch(`${harness.daemon.url}/v1/health`)).status, 200);
    assert.equal((await fetch(`${harness.daemon.url}/v1/tenants`)).status, 401);
    const unknown = await harness.api<ApiError>('GET', '/v1/tenants', undefined, as(`m365s_${'A'.repeat(43)}`));
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error.code, 'UNAUTHORIZED');
    assert.match(unknown.body.error.message, /engineer token/);
    const endpoint = JSON.parse(await readFile(join(harness.dataDir, 'daemon.json'), 'utf8')) as DaemonEndpointFile;
    assert.equal((await harness.api('GET', '/v1/tenants', undefined, as(endpoint.token))).status, 401);
  });

  it('says which mode it is in and who is signed in, with their role and tenants', async () => {
    const reader = await harness.api<SessionView>('GET', '/v1/session', undefined, as(tokens.reader));
    assert.deepEqual(reader.body, { mode: 'shared', engineer: { name: 'rita', role: 'reader', tenants: null } });
    const restricted = await harness.api<SessionView>('GET', '/v1/session', undefined, { ...as(tokens.restricted), 'x-m365-operator': 'someone else' });
    assert.deepEqual(restricted.body, { mode: 'shared', engineer: { name: 'remy', role: 'operator', tenants: [contoso.simId] } });
  });

  it("answers a reader's lock with 403 naming the operator role, changes nothing, and writes the refusal to the system log", async () => {
    const userId = await firstEnabledUser(contoso.id);
    const refused = await harness.api<ApiError>('POST', `/v1/tenants/${contoso.id}/users/${userId}/lock`, { revokeSessions: true }, as(tokens.reader));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'FORBIDDEN');
    assert.equal(refused.body.error.details?.requiredRole, 'operator');
    assert.match(refused.body.error.message, /rita is a reader/);
    assert.equal((await harness.sim.control<SimUserDetail>('GET', `/tenants/${contoso.simId}/users/${userId}`)).body.accountEnabled, true);
    const locked = await harness.api<UserPage>('GET', `/v1/tenants/${contoso.id}/users?state=locked`, undefined, as(tokens.reader));
    assert.equal(locked.body.total, 0);
    const activities = await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?tenantId=${contoso.id}`, undefined, as(tokens.admin));
    assert.ok(!activities.body.entries.some((entry) => entry.type === 'activity' && entry.activity.userId === userId), 'no activity was recorded');
    const logs = await harness.api<{ entries: SystemLogEntryView[] }>('GET', '/v1/logs', undefined, as(tokens.admin));
    const entry = logs.body.entries.find((each) => each.code === 'FORBIDDEN');
    assert.ok(entry, 'the refusal is in the system log');
    assert.match(entry.message, /rita is a reader/);
  });

  it('writes repeated refusals of one kind to the system log once, not each', async () => {
    const count = async () =>
      (await harness.api<{ entries: SystemLogEntryView[] }>('GET', '/v1/logs', undefined, as(tokens.admin))).body.entries.filter((each) => each.code === 'FORBIDDEN').length;
    const before = await count();
    const userId = await firstEnabledUser(contoso.id);
    for (let i = 0; i < 5; i++) {
      assert.equal((await harness.api('POST', `/v1/tenants/${contoso.id}/users/${userId}/unlock`, {}, as(tokens.reader))).status, 403);
    }
    // The first test's refusal opened the window for this kind (POST on /v1/tenants): all are counted.
    assert.equal(await count(), Math.max(before, 1));
  });

  it("records an operator's lock under the operator's name, whatever X-M365-Operator says", async () => {
    const userId = await firstEnabledUser(contoso.id);
    const answer = await harness.api<LockOutcome>('POST', `/v1/tenants/${contoso.id}/users/${userId}/lock`, {}, { ...as(tokens.operator), 'x-m365-operator': 'mallory' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.outcome, 'locked');
    if (answer.body.outcome !== 'locked') return;
    assert.equal(answer.body.activity.actor, 'olga');
    assert.equal(answer.body.user.lock?.by, 'olga');
    assert.equal((await harness.sim.control<SimUserDetail>('GET', `/tenants/${contoso.simId}/users/${userId}`)).body.accountEnabled, false);
    // Ignored means not judged either: a header local mode would refuse as too long changes nothing here.
    const unlock = await harness.api<LockOutcome>('POST', `/v1/tenants/${contoso.id}/users/${userId}/unlock`, {}, { ...as(tokens.operator), 'x-m365-operator': 'm'.repeat(300) });
    assert.equal(unlock.status, 200, JSON.stringify(unlock.body));
    assert.equal(unlock.body.outcome === 'unlocked' ? unlock.body.activity.actor : undefined, 'olga');
  });

  it('lets a reader refresh and re-check credential health, and keeps tenant management to admins', async () => {
    const refresh = await harness.api('POST', `/v1/tenants/${fabrikam.id}/refresh`, undefined, as(tokens.reader));
    assert.ok(refresh.status === 202 || refresh.status === 200, `refresh answered ${refresh.status}`);
    assert.equal((await harness.api('POST', `/v1/tenants/${fabrikam.id}/credential-health`, undefined, as(tokens.reader))).status, 200);
    const remove = await harness.api<ApiError>('DELETE', `/v1/tenants/${fabrikam.id}`, undefined, as(tokens.operator));
    assert.equal(remove.status, 403);
    assert.equal(remove.body.error.details?.requiredRole, 'admin');
    const rotate = await harness.api<ApiError>('PUT', `/v1/tenants/${fabrikam.id}/credentials`, { credential: { kind: 'secret', clientSecret: 'x'.repeat(40) } }, as(tokens.operator));
    assert.equal(rotate.body.error.details?.requiredRole, 'admin');
    assert.equal((await harness.api('GET', `/v1/tenants/${fabrikam.id}`, undefined, as(tokens.admin))).status, 200, 'the tenant is still there');
  });

  it('shows an engineer restricted to some tenants only theirs, and answers 404 for any other', async () => {
    const listed = await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants', undefined, as(tokens.restricted));
    assert.deepEqual(listed.body.tenants.map((tenant) => tenant.id), [contoso.id]);
    const other = await harness.api<ApiError>('GET', `/v1/tenants/${fabrikam.id}`, undefined, as(tokens.restricted));
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, 'TENANT_NOT_FOUND');
    const userId = await firstEnabledUser(fabrikam.id);
    const lock = await harness.api<ApiError>('POST', `/v1/tenants/${fabrikam.id}/users/${userId}/lock`, {}, as(tokens.restricted));
    assert.equal(lock.status, 404);
    assert.equal((await harness.sim.control<SimUserDetail>('GET', `/tenants/${fabrikam.simId}/users/${userId}`)).body.accountEnabled, true);
    const tasks = await harness.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?limit=200', undefined, as(tokens.restricted));
    const tenantsSeen = new Set(tasks.body.entries.map((entry) => (entry.type === 'activity' ? entry.activity.tenantId : entry.task.tenantId)));
    assert.ok(!tenantsSeen.has(fabrikam.id), 'no activity of another tenant');
    assert.ok(tenantsSeen.has(contoso.id), 'the activities of their own tenant');
    assert.equal((await harness.api('GET', `/v1/tenants/${contoso.id}`, undefined, as(tokens.restricted))).status, 200);
  });

  it('keeps app profiles and onboarding from an admin restricted to some tenants, who registers their own one by one', async () => {
    const own = await harness.sim.createTenant({ users: 2 });
    const other = await harness.sim.createTenant({ users: 2 });
    const { token } = await directory.add({ name: 'rafa', role: 'admin', tenants: [contoso.simId, own.id] });
    const before = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants', undefined, as(tokens.admin))).body.tenants.length;
    const refusals = [
      await harness.api<ApiError>('GET', '/v1/app-profiles', undefined, as(token)),
      await harness.api<ApiError>('POST', '/v1/tenants:batch', { tenants: [{ tenant: other.id, appId: other.app.appId, clientSecret: other.app.secret }] }, as(token)),
      await harness.api<ApiError>('POST', `/v1/app-profiles/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/consents`, { tenant: other.domain }, as(token)),
    ];
    for (const refused of refusals) {
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'FORBIDDEN');
      assert.equal(refused.body.error.details?.restricted, true);
      assert.match(refused.body.error.message, /rafa is restricted to some tenants/);
    }
    assert.equal((await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants', undefined, as(tokens.admin))).body.tenants.length, before, 'nothing was added');
    assert.equal((await harness.api('GET', '/v1/app-profiles', undefined, as(tokens.admin))).status, 200, 'an admin of every tenant manages profiles');

    const credential = (sim: typeof own) => ({ tenant: sim.id, appId: sim.app.appId, credential: { kind: 'secret', clientSecret: sim.app.secret } });
    assert.equal((await harness.api('POST', '/v1/tenants', credential(own), as(token))).status, 201, 'a tenant of their list');
    assert.equal((await harness.api('POST', '/v1/tenants', credential(other), as(token))).status, 403, 'a tenant outside it');
  });

  it("streams a restricted engineer only their tenants' events", async () => {
    const controller = new AbortController();
    const response = await fetch(`${harness.daemon.url}/v1/events`, { headers: as(tokens.restricted), signal: controller.signal });
    assert.equal(response.status, 200);
    const events: DaemonEvent[] = [];
    let hello = false;
    const reading = readSseMessages(response.body as AsyncIterable<Uint8Array>, (message) => {
      if (message.event === 'hello') hello = true;
      else if (message.event === 'message') events.push(JSON.parse(message.data) as DaemonEvent);
    }).catch(() => undefined);
    await harness.until(() => hello, 5_000, 'the hello event');
    const elsewhere = await firstEnabledUser(fabrikam.id);
    assert.equal((await harness.api('POST', `/v1/tenants/${fabrikam.id}/users/${elsewhere}/lock`, {}, as(tokens.operator))).status, 200);
    const own = await firstEnabledUser(contoso.id);
    assert.equal((await harness.api('POST', `/v1/tenants/${contoso.id}/users/${own}/lock`, {}, as(tokens.operator))).status, 200);
    await harness.until(() => events.some((e) => e.type === 'activity' && e.activity.userId === own), 5_000, 'the activity of their own tenant');
    controller.abort();
    await reading;
    const tenantOf = (event: DaemonEvent): string | null =>
      event.type === 'tenant' ? event.tenant.id : event.type === 'activity' ? event.activity.tenantId : event.type === 'task' ? event.task.tenantId : event.type === 'log' ? event.entry.tenantId : event.type === 'consent' ? event.consent.tenantId : event.tenantId;
    assert.deepEqual([...new Set(events.map(tenantOf))], [contoso.id]);
  });

  it('ends an open event stream once its token is revoked or its engineer given another role, and keeps the others', async () => {
    const quick = await DaemonHarness.start({}, undefined, { authentication: engineerAuthentication(directory), eventStreamHeartbeatMs: 200 });
    const open = async (token: string) => {
      const response = await fetch(`${quick.daemon.url}/v1/events`, { headers: as(token) });
      assert.equal(response.status, 200);
      let ended = false;
      let hello = false;
      void readSseMessages(response.body as AsyncIterable<Uint8Array>, (message) => {
        if (message.event === 'hello') hello = true;
      })
        .catch(() => undefined)
        .finally(() => {
          ended = true;
        });
      await quick.until(() => hello, 5_000, 'the hello event');
      return { ended: () => ended, close: () => response.body?.cancel().catch(() => undefined) };
    };
    try {
      const revoked = (await directory.add({ name: 'vic', role: 'reader' })).token;
      const moved = (await directory.add({ name: 'mo', role: 'reader', tenants: [contoso.simId] })).token;
      const kept = (await directory.add({ name: 'kim', role: 'reader' })).token;
      const [vic, mo, kim] = [await open(revoked), await open(moved), await open(kept)];
      await directory.revoke('vic');
      await directory.setRole('mo', 'operator');
      await quick.until(() => vic.ended() && mo.ended(), 5_000, 'the streams of the revoked token and of the changed role to end');
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(kim.ended(), false, 'a stream whose token still stands stays open');
      assert.equal((await fetch(`${quick.daemon.url}/v1/events`, { headers: as(revoked) })).status, 401, 'and the revoked one cannot open another');
      await kim.close();
    } finally {
      await quick.stop();
    }
  });

  it('refuses a revoked token at once, on this daemon and on a second daemon with its own pool', async () => {
    const { token } = await directory.add({ name: 'temp', role: 'reader' });
    // Another daemon of the deployment: its own process state and its own connections to the database.
    const secondPool = await openSharedDatabase(String(database.pool.options.connectionString), { logger: quiet });
    const second = await DaemonHarness.start({}, undefined, { authentication: engineerAuthentication(new EngineerDirectory(secondPool.pool)) });
    try {
      assert.equal((await harness.api('GET', '/v1/tenants', undefined, as(token))).status, 200);
      assert.equal((await second.api('GET', '/v1/tenants', undefined, as(token))).status, 200);
      await directory.revoke('temp');
      assert.equal((await harness.api('GET', '/v1/tenants', undefined, as(token))).status, 401);
      assert.equal((await second.api('GET', '/v1/tenants', undefined, as(token))).status, 401);
    } finally {
      await second.stop();
      await secondPool.close();
    }
  });
});
