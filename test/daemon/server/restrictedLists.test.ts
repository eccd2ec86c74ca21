import assert from 'node:assert/strict';
import type { TaskListEntry, TenantView, UserPage } from '../../../protocol/daemonApi';
import { createLogger } from '../../../daemon/logging/logger';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { engineerAuthentication } from '../../../daemon/team/engineerAuthentication';
import { EngineerDirectory } from '../../../daemon/team/engineerDirectory';
import { DaemonHarness } from '../../support/daemonHarness';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';

const quiet = createLogger({ write: () => undefined, level: 'error' });
const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('activity lists of an engineer restricted to some tenants', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let database: SharedDatabase;
  let harness: DaemonHarness;

  before(async () => {
    server = await startPostgres();
    database = await openSharedDatabase(await server.createDatabase(), { logger: quiet });
    harness = await DaemonHarness.start({ pollIntervalMs: '1h' }, undefined, { authentication: engineerAuthentication(new EngineerDirectory(database.pool)) });
  });
  after(async () => {
    await harness?.stop();
    await database?.close();
    await server?.stop();
  });

  it('gets as many entries as asked for when the newest ones belong to tenants the engineer may not see', async () => {
    const directory = new EngineerDirectory(database.pool);
    const admin = (await directory.add({ name: 'ada', role: 'admin' })).token;
    const register = async (): Promise<{ id: string; simId: string }> => {
      const sim = await harness.sim.createTenant({ users: 2 });
      const answer = await harness.api<TenantView>(
        'POST',
        '/v1/tenants',
        { tenant: sim.id, displayName: sim.domain.split('.')[0], appId: sim.app.appId, credential: { kind: 'secret', clientSecret: sim.app.secret } },
        as(admin),
      );
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      await harness.until(async () => (await harness.api<UserPage>('GET', `/v1/tenants/${answer.body.id}/users?limit=1`, undefined, as(admin))).body.total > 0);
      return { id: answer.body.id, simId: sim.id };
    };
    const contoso = await register();
    const fabrikam = await register();
    const remy = (await directory.add({ name: 'remy', role: 'reader', tenants: [contoso.simId] })).token;
    for (let i = 0; i < 3; i++) assert.ok((await harness.api('POST', `/v1/tenants/${contoso.id}/refresh`, {}, as(admin))).status < 300);
    // Newer than anything of contoso's: with the filter applied after the limit, remy would see none of his.
    for (let i = 0; i < 12; i++) assert.ok((await harness.api('POST', `/v1/tenants/${fabrikam.id}/refresh`, {}, as(admin))).status < 300);
    await harness.daemon.whenIdle();

    const everything = (await harness.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?limit=500', undefined, as(remy))).body.entries;
    const tenantOf = (entry: TaskListEntry): string | null => (entry.type === 'activity' ? entry.activity.tenantId : entry.task.tenantId);
    assert.ok(everything.length > 3, `contoso has more than three entries (${everything.length})`);
    assert.ok(everything.every((entry) => tenantOf(entry) === contoso.id), 'only contoso is listed to remy');

    const page = (await harness.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?limit=3', undefined, as(remy))).body.entries;
    assert.equal(page.length, 3, 'three asked for, three given');
    assert.deepEqual(page.map(tenantOf), [contoso.id, contoso.id, contoso.id]);
    assert.deepEqual(page, everything.slice(0, 3), "the newest three of contoso's");
    const all = (await harness.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?limit=3', undefined, as(admin))).body.entries;
    assert.deepEqual(all.map(tenantOf), [fabrikam.id, fabrikam.id, fabrikam.id], 'an unrestricted engineer sees the newest, fabrikam’s');
  });
});
