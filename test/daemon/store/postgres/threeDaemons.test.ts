import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { fetch } from 'undici';
import type { ApiError, DaemonEvent, LockOutcome, RefreshOutcome, SessionView, UserPage } from '../../../../protocol/daemonApi';
import { createLogger } from '../../../../daemon/logging/logger';
import { openSharedDatabase } from '../../../../daemon/store/postgres/sharedDatabase';
import { TASK_KINDS } from '../../../../daemon/tasks/taskKinds';
import { EngineerDirectory } from '../../../../daemon/team/engineerDirectory';
import { vaultKeys } from '../../../../daemon/vault/vaultKeys';
import type { ObservedRequest } from '../../../../sim/simServer';
import { startPostgres, type PostgresServer } from '../../../support/postgresServer';
import { SharedDaemonProcess } from '../../../support/sharedDaemonProcess';
import { SimHarness } from '../../../support/simHarness';
import { readSseMessages } from '../../../support/sseMessages';
import { tempDataDir } from '../../../support/tempDataDir';

const TENANTS = 100;
const USERS_PER_TENANT = 20;
/** Each tenant's poll interval: 10 rounds a second over the three daemons, so a loaded machine keeps up. */
const POLL_MS = 10_000;
/** `--tenant-lease`: short, so a takeover fits in the test; renewed every second. */
const LEASE_MS = 3_000;
const RENEWAL_MS = LEASE_MS / 3;

interface Tenant {
  id: string;
  simId: string;
}

async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string | (() => string)): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T, R>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, index);
      }
    }),
  );
  return results;
}

describe('three daemon processes of one shared deployment on one PostgreSQL database', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let sim: SimHarness;
  let cleanup: () => Promise<void>;
  let url: string;
  let db: pg.Pool;
  /** Every Graph request the simulator answered, with the bearer token it carried. */
  const graphRequests: ObservedRequest[] = [];
  const daemons: SharedDaemonProcess[] = [];
  /** Each daemon's id in the shared database (`daemons`, `tenant_leases`, `tasks.daemon_id`), by index. */
  const daemonIds: string[] = [];
  const tokens = { ada: '', alice: '', rita: '', mallory: '' };
  let tenants: Tenant[] = [];

  const daemon = (i: number): SharedDaemonProcess => daemons[i] as SharedDaemonProcess;
  const tenant = (i: number): Tenant => tenants[i] as Tenant;
  const deltaRequests = (from: number, to = Number.POSITIVE_INFINITY) =>
    graphRequests.filter((r) => r.path === '/v1.0/users/delta' && r.status === 200 && r.at >= from && r.at <= to);
  const leaseHolders = async (): Promise<Map<string, string>> => {
    const { rows } = await db.query<{ tenant_id: string; daemon_id: string }>('SELECT tenant_id, daemon_id FROM tenant_leases');
    return new Map(rows.map((row) => [row.tenant_id, row.daemon_id]));
  };
  const enabledUser = async (t: Tenant) => {
    const page = await daemon(0).api<UserPage>(tokens.ada, 'GET', `/v1/tenants/${t.id}/users?state=enabled&limit=1`);
    const user = page.body.users[0];
    assert.ok(user, 'the tenant has an enabled user');
    return user;
  };

  before(async function () {
    this.timeout(180_000);
    let dir: string;
    [server, sim, { dir, cleanup }] = await Promise.all([
      startPostgres(),
      SimHarness.start({ observe: (request) => void (request.path.startsWith('/v1.0/') && graphRequests.push(request)) }),
      tempDataDir('m365-three-daemons'),
    ]);
    url = await server.createDatabase();
    db = new pg.Pool({ connectionString: url, max: 4 });
    const caFile = join(dir, 'sim-ca.pem');
    await writeFile(caFile, sim.sim.caPem);
    const vaultKeyFile = join(dir, 'vault.key');
    await writeFile(vaultKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });

    // What an admin does before the first daemon starts: the schema and the engineers.
    const setup = await openSharedDatabase(url, { logger: createLogger({ write: () => undefined }) });
    try {
      const directory = new EngineerDirectory(setup.pool);
      tokens.ada = (await directory.add({ name: 'ada', role: 'admin', tenants: null })).token;
      tokens.alice = (await directory.add({ name: 'alice', role: 'operator', tenants: null })).token;
      tokens.rita = (await directory.add({ name: 'rita', role: 'reader', tenants: null })).token;
      tokens.mallory = (await directory.add({ name: 'mallory', role: 'operator', tenants: null })).token;
    } finally {
      await setup.close();
    }

    const simTenants = await inParallel(Array.from({ length: TENANTS }, (_, i) => i), 8, (i) =>
      sim.createTenant({ users: USERS_PER_TENANT, seed: i + 1, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0.1 } }),
    );

    // One after another, so each daemon's id is the row its start added to `daemons`.
    for (const name of ['a', 'b', 'c']) {
      const known = new Set((await db.query<{ id: string }>('SELECT id FROM daemons')).rows.map((row) => row.id));
      daemons.push(
        await SharedDaemonProcess.start({
          dataDir: join(dir, `daemon-${name}`),
          store: url,
          vaultKeyFile,
          simUrl: sim.sim.url,
          caFile,
          pollInterval: `${POLL_MS / 1000}s`,
          tenantLease: `${LEASE_MS / 1000}s`,
        }),
      );
      const added = (await db.query<{ id: string }>('SELECT id FROM daemons')).rows.map((row) => row.id).filter((id) => !known.has(id));
      assert.equal(added.length, 1, `daemon ${name} marked itself alive once`);
      daemonIds.push(added[0] as string);
    }

    // Registered by the admin through all three daemons, as engineers on different shifts would.
    tenants = await inParallel(simTenants, 6, async (t, i) => {
      const answer = await daemon(i % 3).api<{ id: string }>(tokens.ada, 'POST', '/v1/tenants', {
        tenant: t.id,
        displayName: t.domain.split('.')[0],
        appId: t.app.appId,
        credential: { kind: 'secret', clientSecret: t.app.secret },
      });
      assert.equal(answer.status, 201, `registering ${t.domain}: ${JSON.stringify(answer.body)}`);
      return { id: answer.body.id, simId: t.id };
    });
    await until(
      async () => {
        const { rows } = await db.query<{ synced: number; leased: number }>(
          `SELECT (SELECT count(*) FROM tenants WHERE users_total = $1)::integer AS synced,
                  (SELECT count(*) FROM tenant_leases)::integer AS leased`,
          [USERS_PER_TENANT],
        );
        return rows[0]?.synced === TENANTS && rows[0].leased === TENANTS;
      },
      60_000,
      'every tenant synced and leased',
    );
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await db?.end();
    await sim?.stop();
    await server?.stop();
    await cleanup?.();
  });

  it('spreads 100 tenants over the three, each polled by exactly one daemon: the lease holder, with its own token', async () => {
    // A window longer than a poll interval and a round: any daemon polling a tenant polls it in there.
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS + 5_000));
    const to = Date.now();

    // The simulator's side: the bearer tokens each tenant's delta requests carried. Each daemon process
    // gets tokens of its own, so two daemons polling one tenant would show as two tokens.
    const callers = new Map<string, Set<string | undefined>>();
    for (const r of deltaRequests(from, to)) callers.set(r.tenantId ?? '', (callers.get(r.tenantId ?? '') ?? new Set()).add(r.authorization));
    assert.equal(callers.size, TENANTS, 'every tenant polled');
    const polledByMore = tenants.filter((t) => callers.get(t.simId)?.size !== 1);
    assert.deepEqual(polledByMore, [], 'no tenant polled with two callers’ tokens in the window');

    // The database's side: which daemon ran each of those syncs, against who holds the lease.
    const holders = await leaseHolders();
    const { rows } = await db.query<{ tenant_id: string; daemon_ids: string[] }>(
      `SELECT tenant_id, array_agg(DISTINCT daemon_id) AS daemon_ids FROM tasks
        WHERE kind = $1 AND started_at BETWEEN $2 AND $3 GROUP BY tenant_id`,
      [TASK_KINDS.syncUsers.kind, from, to],
    );
    assert.equal(rows.length, TENANTS);
    for (const row of rows) assert.deepEqual(row.daemon_ids, [holders.get(row.tenant_id)], `tenant ${row.tenant_id} synced by its lease holder alone`);
    const perDaemon = daemonIds.map((id) => [...holders.values()].filter((holder) => holder === id).length);
    assert.equal(perDaemon.reduce((sum, n) => sum + n, 0), TENANTS);
    assert.ok(perDaemon.every((n) => n >= 32 && n <= 34), `each daemon holds its fair share of 100 (${perDaemon.join(', ')})`);
  });

  it('keeps the six-hour rule across daemons: refreshes asked on each of the three queue one pair', async () => {
    const target = tenant(7);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => daemon(i % 3).api<RefreshOutcome>(i % 2 === 0 ? tokens.alice : tokens.rita, 'POST', `/v1/tenants/${target.id}/refresh`)),
    );
    const queued = answers.flatMap((a) => (a.body.outcome === 'queued' ? [a.body] : []));
    assert.deepEqual(
      answers.map((a) => a.status).sort((x, y) => x - y),
      [...Array<number>(29).fill(200), 202],
      'one 202 Accepted, the rest 200',
    );
    assert.equal(queued.length, 1, 'one refresh queued the pair');
    const pair = (queued[0]?.tasks ?? []).map((t) => t.id).sort();
    assert.equal(pair.length, 2);
    for (const answer of answers) {
      if (answer.body.outcome === 'already-requested') assert.ok(pair.includes(answer.body.earlierTask.id), 'the others name the queued task');
    }
    const { rows: refreshTasks } = await db.query<{ id: string }>("SELECT id FROM tasks WHERE tenant_id = $1 AND origin = 'refresh' ORDER BY id", [target.id]);
    assert.deepEqual(refreshTasks.map((t) => t.id), pair, 'the database holds that pair and no other');
    const { rows: activities } = await db.query<{ n: number }>("SELECT count(*)::integer AS n FROM activities WHERE tenant_id = $1 AND kind = 'refresh'", [target.id]);
    assert.equal(activities[0]?.n, 30, 'every refresh is recorded as an activity');

    // Done, the pair still blocks a refresh inside the window, on every daemon.
    await until(
      async () => (await db.query("SELECT 1 FROM tasks WHERE id = ANY($1) AND status = 'COMPLETE'", [pair])).rowCount === 2,
      20_000,
      'the pair to complete',
    );
    const again = await Promise.all([0, 1, 2].map((i) => daemon(i).api<RefreshOutcome>(tokens.alice, 'POST', `/v1/tenants/${target.id}/refresh`)));
    assert.deepEqual(again.map((a) => a.body.outcome), ['already-requested', 'already-requested', 'already-requested']);
  });

  it("shows a lock made on daemon A on B's and C's event streams, naming the engineer", async () => {
    const controller = new AbortController();
    const arrivals = [new Map<string, number>(), new Map<string, number>()];
    const hellos = [false, false];
    const streams = await Promise.all(
      [1, 2].map((i) => fetch(`${daemon(i).url}/v1/events`, { headers: { authorization: `Bearer ${tokens.rita}` }, signal: controller.signal })),
    );
    assert.deepEqual(streams.map((s) => s.status), [200, 200]);
    const readers = streams.map((stream, n) =>
      readSseMessages(stream.body as AsyncIterable<Uint8Array>, (message) => {
        if (message.event === 'hello') hellos[n] = true;
        if (message.event !== 'message') return;
        const event = JSON.parse(message.data) as DaemonEvent;
        if (event.type === 'activity' && event.activity.kind === 'lock' && event.activity.userId) {
          arrivals[n]?.set(`${event.activity.userId}/${event.activity.actor}`, Date.now());
        }
      }).catch(() => undefined),
    );
    try {
      await until(() => hellos.every(Boolean), 10_000, 'both event streams to open');
      const target = tenant(3);
      const user = await enabledUser(target);
      const locked = await daemon(0).api<LockOutcome>(tokens.alice, 'POST', `/v1/tenants/${target.id}/users/${user.id}/lock`, {});
      assert.equal(locked.body.outcome, 'locked');
      // B and C never see a lock by polling Graph: only the database's notification brings it.
      await until(
        () => {
          const times = arrivals.map((m) => m.get(`${user.id}/alice`));
          return times.every((t) => t !== undefined) && (times as number[]);
        },
        5_000,
        () => `the lock on B's and C's event streams (seen on ${arrivals.filter((m) => m.has(`${user.id}/alice`)).length} of 2)`,
      );
      for (const i of [1, 2]) {
        const page = await daemon(i).api<UserPage>(tokens.rita, 'GET', `/v1/tenants/${target.id}/users?state=locked`);
        assert.deepEqual(page.body.users.map((u) => [u.id, u.lock?.by]), [[user.id, 'alice']], `daemon ${i} serves the lock and who made it`);
      }
    } finally {
      controller.abort();
      await Promise.all(readers);
    }
  });

  it("refuses a reader's lock with 403 on any daemon, and changes nothing in the store or the simulator", async () => {
    const target = tenant(5);
    const user = await enabledUser(target);
    const since = Date.now();
    const refusals = await Promise.all([0, 1, 2].map((i) => daemon(i).api<ApiError>(tokens.rita, 'POST', `/v1/tenants/${target.id}/users/${user.id}/lock`, {})));
    for (const refused of refusals) {
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'FORBIDDEN');
      assert.equal(refused.body.error.details?.['requiredRole'], 'operator');
    }
    const inSim = await sim.control<{ accountEnabled: boolean }>('GET', `/tenants/${target.simId}/users/${user.id}`);
    assert.equal(inSim.body.accountEnabled, true, 'still enabled in Microsoft 365');
    assert.deepEqual(
      graphRequests.filter((r) => r.at >= since && r.method !== 'GET'),
      [],
      'no daemon wrote to Graph',
    );
    const { rows } = await db.query<{ account_enabled: boolean; lock_by: string | null }>('SELECT account_enabled, lock_by FROM users WHERE tenant_id = $1 AND user_id = $2', [
      target.id,
      user.id,
    ]);
    assert.deepEqual(rows, [{ account_enabled: true, lock_by: null }]);
    const { rows: activities } = await db.query("SELECT 1 FROM activities WHERE tenant_id = $1 AND user_id = $2 AND kind = 'lock'", [target.id, user.id]);
    assert.equal(activities.length, 0, 'no lock activity');
    // The refusal goes to the system log beside the answer, not before it.
    await until(
      async () =>
        (
          await db.query<{ n: number }>(
            "SELECT count(*)::integer AS n FROM system_log WHERE code = 'FORBIDDEN' AND details->>'engineer' = 'rita' AND at >= $1",
            [since],
          )
        ).rows[0]?.n === 3,
      5_000,
      'each daemon to write its refusal to the system log',
    );
  });

  it('refuses a revoked token at once on every daemon', async () => {
    const before = await Promise.all([0, 1, 2].map((i) => daemon(i).api<SessionView>(tokens.mallory, 'GET', '/v1/session')));
    assert.deepEqual(before.map((a) => [a.status, a.body.engineer.name]), [[200, 'mallory'], [200, 'mallory'], [200, 'mallory']]);
    await new EngineerDirectory(db).revoke('mallory');
    const target = tenant(6);
    const user = await enabledUser(target);
    const since = Date.now();
    const after = await Promise.all([0, 1, 2].flatMap((i) => [
      daemon(i).api<ApiError>(tokens.mallory, 'GET', '/v1/session'),
      daemon(i).api<ApiError>(tokens.mallory, 'POST', `/v1/tenants/${target.id}/users/${user.id}/lock`, {}),
    ]));
    assert.deepEqual(after.map((a) => a.status), [401, 401, 401, 401, 401, 401]);
    assert.deepEqual(graphRequests.filter((r) => r.at >= since && r.method !== 'GET'), [], 'the lock went nowhere');
  });

  it('registers a directory once when two daemons are asked for it at the same moment, one by its domain and one by its id', async () => {
    for (let round = 0; round < 3; round++) {
      const t = await sim.createTenant({ users: 2, seed: 1_000 + round });
      const add = (i: number, tenant: string) =>
        daemon(i).api<{ id: string } & ApiError>(tokens.ada, 'POST', '/v1/tenants', { tenant, appId: t.app.appId, credential: { kind: 'secret', clientSecret: t.app.secret } });
      const answers = await Promise.all([add(0, t.domain), add(1, t.id)]);
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409], JSON.stringify(answers.map((a) => a.body)));
      const added = answers.find((a) => a.status === 201)?.body.id as string;
      const refused = answers.find((a) => a.status === 409)?.body.error;
      assert.equal(refused?.code, 'TENANT_EXISTS');
      assert.equal(refused?.details?.tenantId, added, 'the refusal names the tenant registered');
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM tenants WHERE directory_id = $1 OR lookup_key = ANY($2)', [t.id, [t.id, t.domain.toLowerCase()]]);
      assert.equal(rows[0]?.n, 1, 'one tenant of the directory is stored');
      // Removed again: the other tests count the hundred tenants registered before them.
      assert.equal((await daemon(0).api(tokens.ada, 'DELETE', `/v1/tenants/${added}`)).status, 204);
    }
  });

  const credentialsStored = async (vaultKey: string) =>
    (await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM vault_credentials WHERE credential_id = $1', [vaultKey])).rows[0]?.n;

  /**
   * Runs `rotate` (on one daemon) while its vault write is held, and `remove` (on another) meanwhile: a vault
   * write first checks, under a shared lock, that the vault's key is the one it started with, which is held
   * here; a removal writes no credential and goes through. Answers the rotation's answer once the lock is let go.
   */
  const rotateWhileRemoved = async (vaultKey: string, rotate: () => Promise<{ status: number; body: ApiError }>, remove: () => Promise<{ status: number }>) => {
    assert.equal(await credentialsStored(vaultKey), 1);
    const holder = await db.connect();
    let rotation: Promise<{ status: number; body: ApiError }> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT key_id FROM vault_key FOR UPDATE');
      rotation = rotate();
      await until(
        async () => (await db.query<{ n: number }>(`SELECT count(*)::integer AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM vault_key FOR SHARE%'`)).rows[0]?.n === 1,
        10_000,
        "the rotation's write waiting for the key check",
      );
      assert.equal((await remove()).status, 204);
      assert.equal(await credentialsStored(vaultKey), 0, 'the removal took the credential');
    } finally {
      await holder.query('COMMIT').catch(() => undefined);
      holder.release();
    }
    return rotation;
  };

  it("leaves no credential behind when one daemon removes a tenant while another's rotation of it waits to write", async () => {
    const t = await sim.createTenant({ users: 2, seed: 2_000 });
    const added = await daemon(0).api<{ id: string }>(tokens.ada, 'POST', '/v1/tenants', { tenant: t.id, appId: t.app.appId, credential: { kind: 'secret', clientSecret: t.app.secret } });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const { id } = added.body;
    const rotated = await rotateWhileRemoved(
      id,
      () => daemon(1).api<ApiError>(tokens.ada, 'PUT', `/v1/tenants/${id}/credentials`, { credential: { kind: 'secret', clientSecret: t.app.secret } }),
      () => daemon(2).api(tokens.ada, 'DELETE', `/v1/tenants/${id}`),
    );
    assert.equal(rotated?.status, 404, JSON.stringify(rotated?.body));
    assert.equal(rotated?.body.error.code, 'TENANT_NOT_FOUND');
    assert.equal(await credentialsStored(id), 0, 'no credential outlives its tenant');
  });

  it("leaves no credential behind when one daemon removes an app profile while another's rotation of it waits to write", async () => {
    const partner = await sim.createTenant({ users: 1, seed: 2_001, app: { multiTenant: true } });
    const added = await daemon(0).api<{ id: string }>(tokens.ada, 'POST', '/v1/app-profiles', {
      name: 'Profile removed while rotated',
      partnerTenant: partner.domain,
      appId: partner.app.appId,
      credential: { kind: 'secret', clientSecret: partner.app.secret },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const { id } = added.body;
    const rotated = await rotateWhileRemoved(
      vaultKeys.appProfile(id),
      () => daemon(1).api<ApiError>(tokens.ada, 'POST', `/v1/app-profiles/${id}/credentials`, { credential: { kind: 'secret', clientSecret: partner.app.secret } }),
      () => daemon(2).api(tokens.ada, 'DELETE', `/v1/app-profiles/${id}`),
    );
    assert.equal(rotated?.status, 404, JSON.stringify(rotated?.body));
    assert.equal(rotated?.body.error.code, 'APP_PROFILE_NOT_FOUND');
    assert.equal(await credentialsStored(vaultKeys.appProfile(id)), 0, 'no credential outlives its profile');
  });

  it('moves a killed daemon’s tenants to the other two within a lease period and a round, losing no user state', async () => {
    const victim = 2;
    const survivors = [daemonIds[0] as string, daemonIds[1] as string];
    const holders = await leaseHolders();
    const lost = tenants.filter((t) => holders.get(t.id) === daemonIds[victim]);
    assert.ok(lost.length >= 32, `the victim holds its share (${lost.length})`);
    const [lockedIn, changedIn] = lost as [Tenant, Tenant];

    // A lock made before the kill, in one of its tenants, through another daemon.
    const lockedUser = await enabledUser(lockedIn);
    const locked = await daemon(0).api<LockOutcome>(tokens.alice, 'POST', `/v1/tenants/${lockedIn.id}/users/${lockedUser.id}/lock`, {});
    assert.equal(locked.body.outcome, 'locked');
    const changedUser = await enabledUser(changedIn);
    const state = async () =>
      (
        await db.query<{ tenant_id: string; user_id: string; account_enabled: boolean; lock_by: string | null }>(
          'SELECT tenant_id, user_id, account_enabled, lock_by FROM users WHERE tenant_id = ANY($1) ORDER BY tenant_id, user_id',
          [lost.map((t) => t.id)],
        )
      ).rows;
    const before = await state();
    assert.equal(before.length, lost.length * USERS_PER_TENANT);

    await daemon(victim).kill9();
    const killedAt = Date.now();
    // Changed in Microsoft 365 while the daemon syncing the tenant is dead.
    const outside = await sim.control('PATCH', `/tenants/${changedIn.simId}/users/${changedUser.id}`, {
      accountEnabled: false,
      actor: { userPrincipalName: 'admin@contoso.example' },
    });
    assert.equal(outside.status, 200);

    // Taken over: each of its tenants synced again, by a survivor, after the kill.
    let leasesMovedAt: number | undefined;
    const takenOverAt = await until(
      async () => {
        const holding = await leaseHolders();
        leasesMovedAt ??= lost.every((t) => survivors.includes(holding.get(t.id) ?? '')) ? Date.now() : undefined;
        const { rows } = await db.query<{ tenant_id: string; first: string }>(
          `SELECT tenant_id, min(finished_at) AS first FROM tasks
            WHERE kind = $1 AND status = 'COMPLETE' AND started_at > $2 AND daemon_id = ANY($3) AND tenant_id = ANY($4)
            GROUP BY tenant_id`,
          [TASK_KINDS.syncUsers.kind, killedAt, survivors, lost.map((t) => t.id)],
        );
        return rows.length === lost.length && Math.max(...rows.map((row) => Number(row.first)));
      },
      30_000,
      'every tenant of the killed daemon synced by another',
    );
    const takeoverMs = takenOverAt - killedAt;
    assert.ok(
      takeoverMs <= LEASE_MS + RENEWAL_MS + POLL_MS,
      `taken over ${takeoverMs} ms after the kill, leases moved after ${(leasesMovedAt ?? Number.NaN) - killedAt} ms (lease ${LEASE_MS} ms, round ${POLL_MS} ms)`,
    );
    const after = await leaseHolders();
    assert.deepEqual(
      survivors.map((id) => [...after.values()].filter((holder) => holder === id).length),
      [50, 50],
      'the two survivors share the 100 tenants',
    );

    // No user state lost: every user as before, but for the one changed outside, now seen as disabled.
    await until(
      async () => (await state()).some((u) => u.user_id === changedUser.id && !u.account_enabled),
      POLL_MS * 2,
      'the outside change to be seen',
    );
    const expected = before.map((u) => (u.user_id === changedUser.id ? { ...u, account_enabled: false } : u));
    assert.deepEqual(await state(), expected);
    assert.deepEqual(
      before.filter((u) => u.user_id === lockedUser.id).map((u) => [u.account_enabled, u.lock_by]),
      [[false, 'alice']],
      'the lock made before the kill is kept',
    );
    const onSurvivor = await daemon(1).api<UserPage>(tokens.rita, 'GET', `/v1/tenants/${changedIn.id}/users?state=disabled&limit=200`);
    assert.ok(onSurvivor.body.users.some((u) => u.id === changedUser.id && !u.accountEnabled), 'and a survivor serves the change');
  });
});
