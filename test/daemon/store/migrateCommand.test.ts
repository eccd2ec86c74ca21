import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { fetch } from 'undici';
import type { AppProfileView, LockOutcome, TaskListEntry, TenantBatchView, TenantView, UserPage } from '../../../protocol/daemonApi';
import { Daemon } from '../../../daemon/daemon';
import { createLogger } from '../../../daemon/logging/logger';
import { migrateCommand } from '../../../daemon/store/migrateCommand';
import { INTERRUPTED_BY_MIGRATION } from '../../../daemon/store/postgres/importLocalStore';
import { openSharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { EngineerDirectory } from '../../../daemon/team/engineerDirectory';
import { DaemonHarness } from '../../support/daemonHarness';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';
import type { CreatedTenant } from '../../support/simHarness';
import { tempDataDir } from '../../support/tempDataDir';
import { productRoles } from '../../support/productRoles';

const quiet = createLogger({ write: () => undefined });
const noUserMix = { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 };

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function migrate(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const code = await migrateCommand(args, { env, stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) });
  return { code, stdout, stderr };
}

/** Every file of the data directory but the lock, by its SHA-256: what "left untouched" is checked against. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === 'daemon.lock' || entry.name.startsWith('daemon.log')) continue;
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length + 1)] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return out;
}

async function count(url: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? -1;
  } finally {
    await client.end();
  }
}

describe('m365-status migrate --to postgres://…: a local store moved into a shared database', function () {
  this.timeout(90_000);
  let server: PostgresServer;
  let local: DaemonHarness;
  let vaultKeyFile: string;
  let tenantA: { id: string; simId: string };
  let tenantB: { id: string; simId: string };
  let lockedUserId: string;
  let secrets: string[];
  let profile: AppProfileView;
  let customerId: string;

  before(async () => {
    server = await startPostgres();
    // A local user's store made by a real daemon against the simulator: two tenants synced, a user locked by alice.
    local = await DaemonHarness.start();
    const a = await local.registerTenant({ users: 6, userMix: noUserMix });
    const b = await local.registerTenant({ users: 3, userMix: noUserMix });
    tenantA = { id: a.id, simId: a.sim.id };
    tenantB = { id: b.id, simId: b.sim.id };
    // And a customer that signs in through the partner's multi-tenant app: an app profile and its one credential.
    const partner = await local.sim.createTenant({ users: 1, app: { multiTenant: true, redirectUris: ['http://localhost/consent'], roles: productRoles } });
    const added = await local.api<AppProfileView>('POST', '/v1/app-profiles', {
      name: 'Partner app',
      partnerTenant: partner.domain,
      appId: partner.app.appId,
      credential: { kind: 'secret', clientSecret: partner.app.secret },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    profile = added.body;
    const customer = await local.sim.control<CreatedTenant>('POST', '/tenants', { domain: `customer-${randomBytes(4).toString('hex')}.onmicrosoft.com`, displayName: 'Customer', users: 4 });
    assert.equal((await local.sim.control('POST', `/tenants/${customer.body.id}/servicePrincipals`, { appId: partner.app.appId })).status, 201);
    const batch = await local.api<TenantBatchView>('POST', '/v1/tenants:batch', { tenants: [{ tenant: customer.body.id, profile: profile.id }] });
    const result = batch.body.results[0];
    assert.ok(result?.outcome === 'added', JSON.stringify(batch.body));
    customerId = result.tenantView.id;
    await local.until(async () => (await local.api<UserPage>('GET', `/v1/tenants/${customerId}/users`)).body.total === 4, 15_000, 'the first sync of the customer');
    secrets = [a.sim.app.secret, b.sim.app.secret, partner.app.secret];
    await local.until(async () => (await local.api<UserPage>('GET', `/v1/tenants/${a.id}/users`)).body.total === 6, 15_000, 'the first sync of A');
    await local.until(async () => (await local.api<UserPage>('GET', `/v1/tenants/${b.id}/users`)).body.total === 3, 15_000, 'the first sync of B');
    const user = (await local.api<UserPage>('GET', `/v1/tenants/${a.id}/users?limit=1`)).body.users[0];
    assert.ok(user);
    lockedUserId = user.id;
    const locked = await local.api<LockOutcome>('POST', `/v1/tenants/${a.id}/users/${user.id}/lock`, { revokeSessions: true }, { 'x-m365-operator': 'alice' });
    assert.equal(locked.body.outcome, 'locked');
    await local.api('POST', `/v1/tenants/${b.id}/refresh`, {}, { 'x-m365-operator': 'bob' });
    // The refresh's tasks finished here, so that the shared daemon's first sync of B is its own, from the delta link moved.
    await local.until(
      async () =>
        (await local.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?automated=true&limit=500')).body.entries.every((e) =>
          e.type === 'task' ? e.task.status !== 'PENDING' && e.task.status !== 'IN_PROGRESS' : e.activity.tasks.every((t) => t.status !== 'PENDING' && t.status !== 'IN_PROGRESS'),
        ),
      20_000,
      "the refresh's tasks to finish",
    );
    await local.daemon.whenIdle();
    vaultKeyFile = join(local.dataDir, '..', `m365-migrate-${randomBytes(6).toString('hex')}.key`);
    await writeFile(vaultKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  });

  after(async () => {
    await local?.stop();
    await server?.stop();
    if (vaultKeyFile) await rm(vaultKeyFile, { force: true });
  });

  it('refuses while the local daemon runs on the data directory, naming it, and writes nothing', async () => {
    const url = await server.createDatabase();
    const ran = await migrate(['--to', url, '--data-dir', local.dataDir, '--vault-key-file', vaultKeyFile]);
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, /Another m365-status daemon \(pid \d+.*\) is using .*Stop it first/);
    assert.equal(ran.stdout, '');
    // Refused before the database was touched: not even its schema was made.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'tenants'");
      assert.equal(rows[0]?.n, 0);
    } finally {
      await client.end();
    }
  });

  it('moves tenants, users and locks, app profiles, tasks, activities and credentials; a shared daemon already running takes them up, serves and syncs them', async () => {
    const localTimeline = (await local.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?automated=true&limit=500')).body.entries;
    const localTenants = (await local.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants;
    await local.daemon.stop();
    const before = await fingerprint(local.dataDir);
    const url = (await server.createDatabase()).replace('postgres://m365@', 'postgres://m365:pg-password-not-to-print@');

    // A shared daemon already runs on the (empty) database: it must take up what is moved in, as it commits.
    const database = await openSharedDatabase(url, { logger: quiet });
    const ada = await new EngineerDirectory(database.pool).add({ name: 'ada', role: 'admin', tenants: null });
    await database.close();
    const peer = await tempDataDir('m365-shared');
    const shared = await Daemon.start({
      config: DaemonHarness.configFor(local.sim, peer.dir, local.caFile, { store: url, vaultKeyFile, pollIntervalMs: '5s' }),
      logger: quiet,
    });
    try {
      const ran = await migrate(['--to', url, '--data-dir', local.dataDir, '--vault-key-file', vaultKeyFile]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /tenants +3\n/);
      assert.match(ran.stdout, /users +13 \(1 locked by m365-status\)/);
      assert.match(ran.stdout, /app profiles +1\n/);
      assert.match(ran.stdout, /credentials +3, encrypted under the shared vault key/);
      assert.ok(ran.stdout.includes('postgres://m365:***@'), ran.stdout);
      for (const text of [ran.stdout, ran.stderr]) {
        assert.ok(!text.includes('pg-password-not-to-print'), 'the database password is never printed');
        for (const secret of secrets) assert.ok(!text.includes(secret), 'no client secret is printed');
      }
      assert.deepEqual(await fingerprint(local.dataDir), before, 'the local store is left as it was');

      // The shared database holds ciphertext only.
      const direct = new pg.Client({ connectionString: url });
      await direct.connect();
      try {
        const { rows } = await direct.query<{ credential_id: string; ciphertext: Buffer }>('SELECT credential_id, ciphertext FROM vault_credentials ORDER BY credential_id');
        assert.deepEqual(rows.map((r) => r.credential_id), [tenantA.id, tenantB.id, `app-profile:${profile.id}`].sort());
        for (const row of rows) for (const secret of secrets) assert.ok(!row.ciphertext.toString('latin1').includes(secret));
      } finally {
        await direct.end();
      }

      const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const response = await fetch(`${shared.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${ada.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${await response.clone().text()}`);
        return (await response.json()) as T;
      };
      const { tenants } = await api<{ tenants: TenantView[] }>('GET', '/v1/tenants');
      assert.deepEqual(
        tenants.map((t) => [t.id, t.displayName, t.counts]).sort(),
        localTenants.map((t) => [t.id, t.displayName, t.counts]).sort(),
        'the same tenants, with the same user counts',
      );
      const lockedOnShared = await api<UserPage>('GET', `/v1/tenants/${tenantA.id}/users?state=locked`);
      assert.deepEqual(lockedOnShared.users.map((u) => [u.id, u.lock?.by, u.lock?.revokedSessions, u.accountEnabled]), [[lockedUserId, 'alice', true, false]]);

      const sharedTimeline = (await api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?automated=true&limit=500')).entries;
      const activities = (entries: TaskListEntry[]) =>
        entries.flatMap((e) => (e.type === 'activity' ? [[e.activity.id, e.activity.kind, e.activity.actor, e.activity.tenantId]] : []));
      const localActivities = activities(localTimeline);
      assert.ok(localActivities.some(([, kind, actor]) => kind === 'lock' && actor === 'alice'));
      assert.ok(localActivities.some(([, kind, actor]) => kind === 'refresh' && actor === 'bob'));
      for (const activity of localActivities) assert.ok(activities(sharedTimeline).some((a) => a[0] === activity[0] && a[2] === activity[2]), `activity ${activity.join(' ')} moved with its operator`);

      // The migrated credential works: an outside change is seen by the shared daemon's sync, and a lock goes through Graph.
      const [other] = (await api<UserPage>('GET', `/v1/tenants/${tenantB.id}/users?state=enabled&limit=1`)).users;
      assert.ok(other);
      await local.sim.control('PATCH', `/tenants/${tenantB.simId}/users/${other.id}`, { accountEnabled: false });
      await local.until(
        async () => (await api<UserPage>('GET', `/v1/tenants/${tenantB.id}/users?state=disabled`)).users.some((u) => u.id === other.id),
        20_000,
        'the shared daemon to sync the outside change with the migrated credential',
      );
      // It continued from the migrated delta link: its first sync of the tenant is a delta round, not a full one.
      const localTaskIds = new Set(localTimeline.flatMap((e) => (e.type === 'task' ? [e.task.id] : e.activity.tasks.map((t) => t.id))));
      const ownSyncs = await local.until(async () => {
        const entries = (await api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?automated=true&tenantId=${tenantB.id}&limit=500`)).entries;
        const found = entries.flatMap((e) => (e.type === 'task' && e.task.kind === 'sync-users' && e.task.status === 'COMPLETE' && !localTaskIds.has(e.task.id) ? [e.task] : []));
        return found.length > 0 ? found.sort((x, y) => x.createdAt - y.createdAt) : undefined;
      }, 20_000, "the shared daemon's own sync of B to be listed");
      assert.match(ownSyncs[0]?.description ?? '', /^Delta sync/, `the shared daemon's first sync: ${ownSyncs.map((t) => t.description).join(' / ')}`);
      assert.ok(
        !(await api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?automated=true&tenantId=${tenantB.id}&limit=500`)).entries.some(
          (e) => e.type === 'activity' && e.activity.tasks.some((t) => t.kind === 'update-ad-cache' && !localTaskIds.has(t.id)),
        ),
        'no full resync task ran on the shared daemon',
      );
      const [target] = (await api<UserPage>('GET', `/v1/tenants/${tenantA.id}/users?state=enabled&limit=1`)).users;
      assert.ok(target);
      const lock = await api<LockOutcome>('POST', `/v1/tenants/${tenantA.id}/users/${target.id}/lock`, {});
      assert.equal(lock.outcome, 'locked');
      assert.equal(lock.outcome === 'locked' ? lock.activity.actor : undefined, 'ada');

      // The profile moved with its one credential: its customer syncs through the partner's app.
      const profiles = await api<{ appProfiles: AppProfileView[] }>('GET', '/v1/app-profiles');
      assert.deepEqual(profiles.appProfiles.map((p) => [p.id, p.name, p.appId]), [[profile.id, profile.name, profile.appId]]);
      const [customerUser] = (await api<UserPage>('GET', `/v1/tenants/${customerId}/users?state=enabled&limit=1`)).users;
      assert.ok(customerUser);
      const customerLock = await api<LockOutcome>('POST', `/v1/tenants/${customerId}/users/${customerUser.id}/lock`, {});
      assert.equal(customerLock.outcome, 'locked');
    } finally {
      await shared.stop();
      await peer.cleanup();
    }
  });

  it('refuses a database that already holds tenants, and a vault written under another key, changing nothing', async () => {
    // The local daemon is stopped by now (the test before): the store can be read.
    const url = await server.createDatabase();
    assert.equal((await migrate(['--to', url, '--data-dir', local.dataDir, '--vault-key-file', vaultKeyFile])).code, 0);
    const activities = await count(url, 'activities');
    const again = await migrate(['--to', url, '--data-dir', local.dataDir, '--vault-key-file', vaultKeyFile]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds 3 tenants and 1 app profile: .*Nothing was changed/);
    assert.equal(await count(url, 'tenants'), 3);
    assert.equal(await count(url, 'activities'), activities, 'no activity was copied twice');

    const other = await server.createDatabase();
    const database = await openSharedDatabase(other, { logger: quiet });
    await database.pool.query("INSERT INTO vault_key (key_id) VALUES ('0123456789abcdef')");
    await database.close();
    const wrongKey = await migrate(['--to', other, '--data-dir', local.dataDir, '--vault-key-file', vaultKeyFile]);
    assert.equal(wrongKey.code, 2);
    assert.match(wrongKey.stderr, /not the key the shared vault was written with \(key id 0123456789abcdef\).*Nothing was changed/);
    for (const table of ['tenants', 'users', 'tasks', 'activities', 'vault_credentials']) assert.equal(await count(other, table), 0, `${table} stays empty`);
  });

  it('refuses without a vault key, a data directory without a store, and a bad --to, each naming the problem', async () => {
    const url = await server.createDatabase();
    const noKey = await migrate(['--to', url, '--data-dir', local.dataDir]);
    assert.notEqual(noKey.code, 0);
    assert.match(noKey.stderr, /vault key/i);
    const empty = await tempDataDir('m365-empty');
    try {
      const noStore = await migrate(['--to', url, '--data-dir', empty.dir, '--vault-key-file', vaultKeyFile]);
      assert.equal(noStore.code, 2);
      assert.match(noStore.stderr, /holds no local store \(store\.json is missing\)/);
      assert.deepEqual(await readdir(empty.dir), [], 'nothing was created in it');
    } finally {
      await empty.cleanup();
    }
    const badTo = await migrate(['--to', 'mysql://m365:hunter2@db/x', '--data-dir', local.dataDir, '--vault-key-file', vaultKeyFile]);
    assert.equal(badTo.code, 2);
    assert.match(badTo.stderr, /--to|--store/);
    assert.ok(!badTo.stderr.includes('hunter2'));
    const none = await migrate(['--data-dir', local.dataDir]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--to/);
  });

  it('ends a task the local store still had running as interrupted', async () => {
    // A daemon killed mid-task leaves it IN_PROGRESS in store.json; the move must not leave it running forever.
    const storePath = join(local.dataDir, 'store.json');
    const original = await readFile(storePath, 'utf8');
    const data = JSON.parse(original) as { tasks: Array<{ id: string; status: string; startedAt: number | null; finishedAt: number | null; error: unknown }> };
    const task = data.tasks.find((t) => t.status === 'COMPLETE');
    assert.ok(task);
    Object.assign(task, { status: 'IN_PROGRESS', finishedAt: null, error: null });
    await writeFile(storePath, JSON.stringify(data), { mode: 0o600 });
    try {
      const url = await server.createDatabase();
      const ran = await migrate(['--to', url, '--data-dir', local.dataDir, '--vault-key-file', vaultKeyFile]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /\(1 left running, now ended as interrupted\)/);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ status: string; error: { code: string; message: string } }>('SELECT status, error FROM tasks WHERE id = $1', [task.id]);
        assert.deepEqual(rows, [{ status: 'ERROR', error: { code: 'INTERRUPTED', message: INTERRUPTED_BY_MIGRATION, errorId: null } }]);
      } finally {
        await client.end();
      }
    } finally {
      await writeFile(storePath, original, { mode: 0o600 });
    }
  });
});
