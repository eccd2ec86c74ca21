import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../../daemon/config';
import type { ErrorSinks } from '../../../daemon/errors/handleError';
import { ForegroundRequests } from '../../../daemon/foregroundRequests';
import { createLogger } from '../../../daemon/logging/logger';
import { Poller } from '../../../daemon/services/poller';
import { TenantConnections } from '../../../daemon/services/tenantConnections';
import { TenantStatusService } from '../../../daemon/services/tenantStatusService';
import { TenantSync } from '../../../daemon/services/tenantSync';
import { LowdbStore, SYNC_STATE_FILE_NAME } from '../../../daemon/store/lowdbStore';
import type { Store } from '../../../daemon/store/store';
import type { StoredTenant, UserChangeBatch } from '../../../daemon/store/storeTypes';
import { Vault } from '../../../daemon/vault/vault';
import { ManualClock } from '../../support/manualClock';
import { SimHarness } from '../../support/simHarness';
import { tempDataDir } from '../../support/tempDataDir';

/** Every file under the data directory with its size and modification time: what a write would change. */
async function fileStates(dir: string): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path);
    states.set(path.slice(dir.length + 1), `${info.size} ${info.mtimeMs}`);
  }
  return states;
}

function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((path) => before.get(path) !== after.get(path)).sort();
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const state of (await fileStates(dir)).values()) total += Number(state.split(' ')[0]);
  return total;
}

/** What the poller and the sync asked of the store about single users, counted; the store itself is the real one. */
interface PerUserWork {
  usersApplied: number;
  userReads: number;
  usersEvents: number;
}

/** Reads that answer a copy of a tenant of the caller's own (a read-only `readTenant` is no copy). */
const tenantCopyingReads = new Set<PropertyKey>(['getTenant', 'requireTenant', 'listTenants']);

function counting(store: LowdbStore, work: PerUserWork, copies: { tenants: number }): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'applyUserChanges') work.usersApplied += (args[1] as UserChangeBatch).users.length + ((args[1] as UserChangeBatch).removedUserIds?.length ?? 0);
        if (property === 'getUser' || property === 'listUsers') work.userReads++;
        if (tenantCopyingReads.has(property)) copies.tenants++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('services: a quiet delta round (the real poller, sync and file store, simulator over HTTPS)', function () {
  this.timeout(120_000);
  let sim: SimHarness;
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: LowdbStore;
  let vault: Vault;
  let poller: Poller;
  let clock: ManualClock;
  const work: PerUserWork = { usersApplied: 0, userReads: 0, usersEvents: 0 };
  const copies = { tenants: 0 };
  const tenants: Array<{ tenant: StoredTenant; simId: string; users: number }> = [];

  before(async () => {
    sim = await SimHarness.start();
    ({ dir, cleanup } = await tempDataDir('m365-quiet-round'));
    clock = new ManualClock();
    // Checkpoints are taken by hand below.
    const foregroundRequests = new ForegroundRequests();
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 24 * 60 * 60_000, foregroundRequests });
    store.onDidChange((event) => {
      if (event.type === 'users') work.usersEvents++;
    });
    vault = await Vault.open(dir);
    const sinks: ErrorSinks = { logger: createLogger({ write: () => undefined }), systemLog: store };
    const counted = counting(store, work, copies);
    const status = new TenantStatusService(counted, loadConfig({ env: {} }), clock);
    const sync = new TenantSync(counted, new TenantConnections(vault, sim.endpoints, sim.dispatcher, 0), status, clock, sinks, foregroundRequests);
    for (const users of [20, 2_000]) {
      const simTenant = await sim.createTenant({ users });
      assert.ok(simTenant.app?.secret);
      const tenant = await store.addTenant({ tenantIdOrDomain: simTenant.id, appId: simTenant.app.appId, credentialKind: 'secret', by: 'alice' });
      await vault.put(tenant.id, { kind: 'secret', clientSecret: simTenant.app.secret });
      tenants.push({ tenant, simId: simTenant.id, users });
    }
    poller = new Poller({ store: counted, sync, status, clock, sinks, maxConcurrent: 2, jitterRatio: 0, statusTickMs: 24 * 60 * 60_000 });
    await poller.start();
    await clock.advanceAsync(0); // the first, full rounds start at once
    await poller.whenIdle();
    for (const { tenant, users } of tenants) assert.equal((await store.countUsers(tenant.id)).total, users);
    await store.checkpoint();
  });

  after(async () => {
    await poller.stop();
    await store.close();
    await vault.close();
    await cleanup();
    await sim.stop();
  });

  /** One poll interval: every tenant's next round. */
  async function round(): Promise<void> {
    await clock.advanceAsync(60_000);
    await poller.whenIdle();
  }

  it('sends one Graph request, does no per-user work and writes nothing to the data directory, and a checkpoint after it writes only sync-state.json', async () => {
    const before = await fileStates(dir);
    const asOf = await Promise.all(tenants.map(async ({ tenant }) => (await store.requireTenant(tenant.id)).lastSyncAt ?? 0));
    Object.assign(work, { usersApplied: 0, userReads: 0, usersEvents: 0 });
    const graphRequests = async () => Promise.all(tenants.map(async ({ simId }) => (await sim.control<{ graphRequests: number }>('GET', `/tenants/${simId}/counters`)).body.graphRequests));
    const requestsBefore = await graphRequests();

    for (let i = 0; i < 3; i++) await round();

    assert.deepEqual(work, { usersApplied: 0, userReads: 0, usersEvents: 0 });
    const requestsAfter = await graphRequests();
    assert.deepEqual(requestsAfter.map((after, index) => after - (requestsBefore[index] ?? 0)), tenants.map(() => 3), 'one Graph request per tenant per quiet round');
    for (const [index, { tenant }] of tenants.entries()) {
      assert.equal((await store.requireTenant(tenant.id)).lastSyncAt, (asOf[index] ?? 0) + 3 * 60_000, 'every quiet round moved "as of"');
    }
    assert.deepEqual(changedFiles(before, await fileStates(dir)), [], 'quiet rounds wrote to the data directory');

    await store.checkpoint();
    assert.deepEqual(changedFiles(before, await fileStates(dir)), [SYNC_STATE_FILE_NAME]);
    const syncStateBytes = (await stat(join(dir, SYNC_STATE_FILE_NAME))).size;
    assert.ok(syncStateBytes < tenants.length * 600, `sync-state.json is ${syncStateBytes} bytes for ${tenants.length} tenants`);
    // The first, full round and the quiet ones after it, each run of alike rounds kept as one record.
    for (const { tenant, users } of tenants) {
      assert.deepEqual((await store.listTasks({ tenantId: tenant.id, includeAutomated: true })).map((task) => task.description), ['Delta sync: no changes.', `Full sync: ${users} changes.`]);
    }
  });

  it('reads its tenant without a copy: the poller, the sync and the status ask the store for no copy of a tenant', async () => {
    copies.tenants = 0;
    for (let i = 0; i < 3; i++) await round();
    assert.equal(copies.tenants, 0, `${copies.tenants} tenant copies over 3 quiet rounds of ${tenants.length} tenants`);
  });

  it('appends under 4 KB for one user changed in Microsoft 365, whatever the tenant size, and reads no other user', async () => {
    for (const { tenant, simId, users } of tenants) {
      const user = (await store.listUsers(tenant.id, { state: 'enabled', limit: 1 })).users[0];
      assert.ok(user);
      const changed = await sim.control('PATCH', `/tenants/${simId}/users/${user.id}`, { accountEnabled: false });
      assert.equal(changed.status, 200);
      await store.checkpoint();
      const bytesBefore = await directoryBytes(dir);
      const before = await fileStates(dir);
      Object.assign(work, { usersApplied: 0, userReads: 0, usersEvents: 0 });

      await round();

      assert.equal((await store.getUser(tenant.id, user.id))?.accountEnabled, false, `the change reached the ${users}-user tenant`);
      assert.deepEqual(work, { usersApplied: 1, userReads: 0, usersEvents: 1 });
      const grown = (await directoryBytes(dir)) - bytesBefore;
      assert.ok(grown > 0 && grown < 4096, `${grown} bytes for one changed user in a ${users}-user tenant`);
      assert.deepEqual(changedFiles(before, await fileStates(dir)), [`users/${tenant.id}.log`]);
    }
  });
});
