import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '../../../../daemon/logging/logger';
import { openSharedDatabase } from '../../../../daemon/store/postgres/sharedDatabase';
import { EngineerDirectory } from '../../../../daemon/team/engineerDirectory';
import { fetch } from 'undici';
import type { DaemonEvent, LockOutcome, TaskListEntry, TenantView, UserPage } from '../../../../protocol/daemonApi';
import { Daemon } from '../../../../daemon/daemon';
import { DaemonHarness } from '../../../support/daemonHarness';
import { readSseMessages } from '../../../support/sseMessages';
import { tempDataDir } from '../../../support/tempDataDir';
import { startPostgres, type PostgresServer } from '../../../support/postgresServer';

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('the daemon in shared mode (--store postgres://…)', function () {
  this.timeout(60_000);
  let server: PostgresServer;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  /**
   * What an admin does before the first daemon starts (the vault key every daemon is given, two engineers),
   * then daemon A on the deployment, asking as bob (admin) unless a request says otherwise.
   */
  async function startDeployment() {
    const url = await server.createDatabase();
    const vaultKeyFile = join(tmpdir(), `m365-vault-${randomBytes(6).toString('hex')}.key`);
    await writeFile(vaultKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const database = await openSharedDatabase(url, { logger: createLogger({ write: () => undefined }) });
    const directory = new EngineerDirectory(database.pool);
    const alice = await directory.add({ name: 'alice', role: 'operator', tenants: null });
    const bob = await directory.add({ name: 'bob', role: 'admin', tenants: null });
    await database.close();
    const harness = await DaemonHarness.start({ store: url, vaultKeyFile });
    const api = harness.api.bind(harness);
    harness.api = (method, path, body, headers = {}) => api(method, path, body, { ...as(bob.token), ...headers });
    return { url, vaultKeyFile, alice, bob, harness };
  }

  it('keeps a registered tenant, its synced users and a lock in PostgreSQL, and finds them all after a restart', async () => {
    const { url, vaultKeyFile, alice, harness } = await startDeployment();
    try {
      const { id } = await harness.registerTenant({ users: 5, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
      await harness.until(async () => (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users`)).body.total === 5, 15_000, 'the first sync');
      const user = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0];
      assert.ok(user);
      const locked = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${user.id}/lock`, {}, { ...as(alice.token), 'x-m365-operator': 'mallory' });
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
      // The restarted daemon still reaches the tenant: its secret is in the shared vault, as ciphertext.
      const unlocked = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${user.id}/unlock`, {});
      assert.equal(unlocked.body.outcome, 'unlocked');
      assert.equal(unlocked.body.outcome === 'unlocked' ? unlocked.body.activity.actor : undefined, 'bob');
      assert.ok(!files.includes('vault.json'), 'no local vault either');
    } finally {
      await harness.stop();
      await rm(vaultKeyFile, { force: true });
    }
  });

  it("shows a lock made on one daemon on another daemon's event stream and API, naming the engineer", async () => {
    const { url, vaultKeyFile, alice, bob, harness } = await startDeployment();
    // Daemon B beside the harness's daemon A: one deployment, each with its own data directory, one simulator.
    const peerDir = await tempDataDir('m365-daemon-b');
    const logger = createLogger({ write: () => undefined });
    const b = await Daemon.start({ config: DaemonHarness.configFor(harness.sim, peerDir.dir, harness.caFile, { store: url, vaultKeyFile }), logger });
    const controller = new AbortController();
    try {
      const { id } = await harness.registerTenant({ users: 5, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
      await harness.until(async () => (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users`)).body.total === 5, 15_000, 'the first sync');
      const user = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0];
      assert.ok(user);

      const stream = await fetch(`${b.url}/v1/events`, { headers: as(bob.token), signal: controller.signal });
      assert.equal(stream.status, 200);
      const events: DaemonEvent[] = [];
      let hello = false;
      const reading = readSseMessages(stream.body as AsyncIterable<Uint8Array>, (message) => {
        if (message.event === 'hello') hello = true;
        else if (message.event === 'message') events.push(JSON.parse(message.data) as DaemonEvent);
      }).catch(() => undefined);
      await harness.until(() => hello, 5_000, "B's event stream to open");

      const locked = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${user.id}/lock`, {}, as(alice.token));
      assert.equal(locked.body.outcome, 'locked');
      const onB = await harness.until(
        () => events.find((e) => e.type === 'activity' && e.activity.kind === 'lock' && e.activity.userId === user.id),
        5_000,
        "the lock on B's event stream",
      );
      assert.equal(onB.type === 'activity' ? onB.activity.actor : undefined, 'alice');
      const page = await fetch(`${b.url}/v1/tenants/${id}/users?state=locked`, { headers: as(bob.token) });
      const lockedOnB = (await page.json()) as UserPage;
      assert.deepEqual(lockedOnB.users.map((u) => [u.id, u.lock?.by]), [[user.id, 'alice']], "B's API shows the lock and who made it");
      controller.abort();
      await reading;
    } finally {
      controller.abort();
      await b.stop();
      await harness.stop();
      await peerDir.cleanup();
      await rm(vaultKeyFile, { force: true });
    }
  });
});
