import assert from 'node:assert/strict';
import { createLogger } from '../../../../daemon/logging/logger';
import { PostgresStore } from '../../../../daemon/store/postgres/postgresStore';
import { openSharedDatabase, type SharedDatabase } from '../../../../daemon/store/postgres/sharedDatabase';
import type { RefreshDecision, StoredTask, StoredTenant } from '../../../../daemon/store/storeTypes';
import { ManualClock } from '../../../support/manualClock';
import { startPostgres, type PostgresServer } from '../../../support/postgresServer';

const logger = createLogger({ write: () => undefined });
const LEASE_MS = 30_000;

// As the refresh service decides: a previous refresh that has not failed blocks a new one.
const decide = (latest: readonly StoredTask[], tenant: StoredTenant): RefreshDecision => {
  const earlier = latest.find((task) => task.status !== 'ERROR');
  const activity = { kind: 'refresh', name: 'Updating account status', description: `Refresh of ${tenant.displayName}`, actor: 'alice', management: true } as const;
  return earlier
    ? { outcome: 'already-requested', activity, earlierTask: earlier }
    : {
        outcome: 'queued',
        activity,
        tasks: ['update-ad-cache', 'check-account-status'].map((kind) => ({ kind, name: kind, description: '', origin: 'refresh' as const, automated: true })),
      };
};

describe('PostgresStore: work shared by three daemons on one database', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let clock: ManualClock;
  let databases: SharedDatabase[];
  let stores: PostgresStore[];

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    const url = await server.createDatabase();
    clock = new ManualClock();
    databases = [];
    stores = [];
    for (let i = 0; i < 3; i++) {
      const database = await openSharedDatabase(url, { logger, maxConnections: 4 });
      databases.push(database);
      stores.push(await PostgresStore.open({ pool: database.pool, clock, logger }));
    }
  });
  afterEach(async () => {
    for (const store of stores) await store.close();
    for (const database of databases) await database.close();
  });

  const store = (i: number): PostgresStore => stores[i] as PostgresStore;

  async function addTenants(count: number): Promise<StoredTenant[]> {
    const tenants: StoredTenant[] = [];
    for (let i = 0; i < count; i++) {
      tenants.push(await store(i % 3).addTenant({ tenantIdOrDomain: `t${i}.example`, appId: 'app', credentialKind: 'secret', by: 'alice' }));
    }
    return tenants;
  }

  /** Every daemon renews, in turn, `rounds` times: what each holds after the last round. */
  async function renewAll(daemons: readonly number[], rounds = 2): Promise<Array<ReadonlySet<string>>> {
    let held: Array<ReadonlySet<string>> = [];
    for (let round = 0; round < rounds; round++) {
      held = await Promise.all(daemons.map((i) => store(i).renewTenantLeases(LEASE_MS)));
    }
    return held;
  }

  it('spreads 100 tenants over 3 daemons, each tenant held by exactly one and no daemon beyond its fair share', async () => {
    const tenants = await addTenants(100);
    // Three daemons are alive from the moment they open: the first to renew takes no more than its share.
    assert.equal((await store(0).renewTenantLeases(LEASE_MS)).size, 34);
    const held = await renewAll([0, 1, 2], 3);
    assert.deepEqual(held.map((h) => h.size).sort((x, y) => x - y), [32, 34, 34]);
    const owners = new Map<string, number>();
    held.forEach((h) => h.forEach((id) => owners.set(id, (owners.get(id) ?? 0) + 1)));
    assert.equal(owners.size, 100, 'every tenant is held');
    assert.ok(tenants.every((t) => owners.get(t.id) === 1), 'by exactly one daemon');
  });

  it('moves a daemon’s tenants to the others within one lease period once it stops renewing', async () => {
    await addTenants(100);
    const before = await renewAll([0, 1, 2], 3);
    const lost = before[2] as ReadonlySet<string>;
    assert.ok(lost.size > 0);
    clock.advance(LEASE_MS / 3);
    let held = await renewAll([0, 1], 1);
    assert.ok([...lost].every((id) => !held.some((h) => h.has(id))), 'not taken while its lease runs');
    clock.advance(LEASE_MS - LEASE_MS / 3 + 1);
    held = await renewAll([0, 1], 1);
    assert.deepEqual(held.map((h) => h.size).sort((x, y) => x - y), [50, 50]);
    assert.ok([...lost].every((id) => held.filter((h) => h.has(id)).length === 1), 'each of its tenants taken by one daemon');
  });

  it('lets go of a lease taken while its tenant was being removed, which would otherwise keep a place of its share for ever', async () => {
    await addTenants(100);
    await renewAll([0, 1, 2], 3);
    const removed = await store(0).addTenant({ tenantIdOrDomain: 'removed.example', appId: 'app', credentialKind: 'secret', by: 'alice' });
    // The removal's statements, not yet committed while the daemons renew: the insert of one short of its
    // share still reads the tenant (the delete is not visible to it yet) and finds no lease in its way.
    const removal = await (databases[0] as SharedDatabase).pool.connect();
    let taker: number;
    try {
      await removal.query('BEGIN');
      await removal.query('DELETE FROM tenant_leases WHERE tenant_id = $1', [removed.id]);
      await removal.query('DELETE FROM tenants WHERE id = $1', [removed.id]);
      taker = (await renewAll([0, 1, 2], 1)).findIndex((held) => held.has(removed.id));
      assert.ok(taker >= 0, 'a daemon took the lease of the tenant being removed');
      await removal.query('COMMIT');
    } finally {
      removal.release();
    }
    // Then another daemon stops: the two left take its tenants, 50 each, only if the taker lets that lease go.
    const left = [0, 1, 2].filter((i) => i !== (taker + 1) % 3);
    await renewAll([0, 1, 2], 1);
    clock.advance(LEASE_MS / 3);
    await renewAll(left, 1);
    clock.advance(LEASE_MS - LEASE_MS / 3 + 1);
    const held = await renewAll(left, 1);
    assert.ok(!held.some((h) => h.has(removed.id)), 'the removed tenant is held by no one');
    const owners = new Map<string, number>();
    held.forEach((h) => h.forEach((id) => owners.set(id, (owners.get(id) ?? 0) + 1)));
    assert.equal(owners.size, 100, `every tenant is held (${held.map((h) => h.size).join(' and ')})`);
    assert.deepEqual(held.map((h) => h.size), [50, 50]);
  });

  it('queues exactly one pair for 200 refreshes of one tenant spread over 3 daemons', async () => {
    const [tenant] = await addTenants(1);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store(i % 3).recordRefresh((tenant as StoredTenant).id, decide)));
    assert.equal(results.filter((r) => r.outcome === 'queued').length, 1);
    assert.equal((await store(0).listTasks({ includeAutomated: true, tenantId: tenant?.id })).length, 2);
    assert.equal((await store(1).listActivities({ tenantId: tenant?.id, limit: 1_000 })).filter((a) => a.kind === 'refresh').length, 200);
  });

  it('gives a tenant’s queued task to the daemon holding its lease, and to another only once that lease has expired', async () => {
    const [tenant] = await addTenants(1);
    const tenantId = (tenant as StoredTenant).id;
    assert.ok((await store(0).renewTenantLeases(LEASE_MS)).has(tenantId));
    await store(1).queueTask({ tenantId, kind: 'update-ad-cache', name: 'update-ad-cache', description: '', origin: 'refresh', automated: true });
    assert.equal(await store(1).claimNextTask([]), undefined, 'not by a daemon that does not hold the tenant');
    assert.equal(await store(2).claimNextTask([]), undefined, 'nor by the third');
    const claimed = await store(0).claimNextTask([]);
    assert.equal(claimed?.tenantId, tenantId, 'by its holder');
    await store(0).completeTask((claimed as StoredTask).id);

    await store(1).queueTask({ tenantId, kind: 'update-ad-cache', name: 'update-ad-cache', description: '', origin: 'refresh', automated: true });
    clock.advance(LEASE_MS + 1);
    assert.equal((await store(1).claimNextTask([]))?.tenantId, tenantId, 'by another once the holder has stopped renewing');
  });

  it('gives each PENDING task to exactly one daemon, and never two tasks of one tenant at once', async () => {
    const tenants = await addTenants(10);
    for (const tenant of tenants) {
      for (const kind of ['update-ad-cache', 'check-account-status']) {
        await store(0).queueTask({ tenantId: tenant.id, kind, name: kind, description: '', origin: 'refresh', automated: true });
      }
    }
    const claimed = await Promise.all([0, 1, 2].flatMap((i) => Array.from({ length: 10 }, () => store(i).claimNextTask([]))));
    const tasks = claimed.filter((task): task is StoredTask => task !== undefined);
    assert.equal(new Set(tasks.map((t) => t.id)).size, tasks.length, 'no task claimed twice');
    assert.equal(new Set(tasks.map((t) => t.tenantId)).size, tasks.length, 'one running task per tenant');
    assert.equal(tasks.length, 10);
    for (const task of tasks) await store(1).completeTask(task.id);
    const rest = await Promise.all([0, 1, 2].flatMap((i) => Array.from({ length: 5 }, () => store(i).claimNextTask([]))));
    assert.equal(rest.filter(Boolean).length, 10, 'the second task of each tenant once the first is done');
    assert.deepEqual(await store(2).pendingTasks(), []);
  });

  it('ends in ERROR the running tasks of a daemon that stopped renewing, and only once its lease has expired', async () => {
    const [tenant] = await addTenants(1);
    await renewAll([0, 1]);
    const task = await store(0).beginTask({ tenantId: tenant?.id ?? null, kind: 'sync-users', name: 'Sync users', description: '', origin: 'poller', automated: true });
    assert.deepEqual(await store(1).failTasksOfGoneDaemons('gone'), [], 'a live daemon’s task is left to it');
    assert.deepEqual(await store(1).failInterruptedTasks('restart'), [], 'also by a daemon starting meanwhile');
    clock.advance(LEASE_MS + 1);
    await store(1).renewTenantLeases(LEASE_MS);
    const failed = await store(1).failTasksOfGoneDaemons('gone');
    assert.deepEqual(failed.map((t) => [t.id, t.status, t.error?.code]), [[task.id, 'ERROR', 'INTERRUPTED']]);
  });
});
