import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import pg from 'pg';
import type { LockOutcome, TaskListEntry, TenantView, UserPage } from '../../../../protocol/daemonApi';
import { DaemonHarness } from '../../../support/daemonHarness';
import { startPostgres, type PostgresServer } from '../../../support/postgresServer';

describe('the daemon in shared mode (--store postgres://…)', function () {
  this.timeout(60_000);
  let server: PostgresServer;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  it('keeps a registered tenant, its synced users and a lock in PostgreSQL, and finds them all after a restart', async () => {
    const url = await server.createDatabase();
    const harness = await DaemonHarness.start({ store: url });
    try {
      const { id } = await harness.registerTenant({ users: 5, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
      await harness.until(async () => (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users`)).body.total === 5, 15_000, 'the first sync');
      const user = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0];
      assert.ok(user);
      const locked = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${user.id}/lock`, {}, { 'x-m365-operator': 'alice' });
      assert.equal(locked.body.outcome, 'locked');

      const files = await readdir(harness.dataDir);
      assert.ok(!files.includes('store.json') && !files.includes('users'), `no local store in the data directory (${files.join(', ')})`);
      const direct = new pg.Client({ connectionString: url });
      await direct.connect();
      try {
        const { rows } = await direct.query<{ lock_by: string; account_enabled: boolean }>('SELECT lock_by, account_enabled FROM users WHERE tenant_id = $1 AND user_id = $2', [id, user.id]);
        assert.deepEqual(rows, [{ lock_by: 'alice', account_enabled: false }], 'the lock is a row in the shared database');
      } finally {
        await direct.end();
      }

      await harness.restart();
      const { tenants } = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body;
      const tenant = tenants.find((t) => t.id === id);
      assert.ok(tenant, 'the tenant is still registered');
      assert.deepEqual(tenant.counts, { total: 5, enabled: 4, disabled: 0, locked: 1 });
      const lockedUsers = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?state=locked`)).body;
      assert.deepEqual(lockedUsers.users.map((u) => [u.id, u.lock?.by, u.accountEnabled]), [[user.id, 'alice', false]]);
      const timeline = (await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?tenantId=${id}`)).body.entries;
      assert.ok(
        timeline.some((e) => e.type === 'activity' && e.activity.kind === 'lock' && e.activity.actor === 'alice' && e.activity.userId === user.id),
        'the lock activity is still there',
      );
      // The restarted daemon still reaches the tenant: its secret is in the data directory's vault.
      const unlocked = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${user.id}/unlock`, {}, { 'x-m365-operator': 'bob' });
      assert.equal(unlocked.body.outcome, 'unlocked');
    } finally {
      await harness.stop();
    }
  });
});
