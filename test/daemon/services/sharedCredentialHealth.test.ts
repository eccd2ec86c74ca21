import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../../daemon/config';
import type { ErrorSinks } from '../../../daemon/errors/handleError';
import { createLogger } from '../../../daemon/logging/logger';
import { CredentialHealthService } from '../../../daemon/services/credentialHealthService';
import { TenantConnections } from '../../../daemon/services/tenantConnections';
import { TenantStatusService } from '../../../daemon/services/tenantStatusService';
import { PostgresStore } from '../../../daemon/store/postgres/postgresStore';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import type { StoredTenant } from '../../../daemon/store/storeTypes';
import { PostgresVault } from '../../../daemon/vault/postgresVault';
import { loadVaultKey } from '../../../daemon/vault/vaultKey';
import { ManualClock } from '../../support/manualClock';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';
import { SimHarness } from '../../support/simHarness';

const quiet = createLogger({ write: () => undefined });
const hour = 60 * 60_000;
const leaseMs = 30_000;

/** One daemon's share of the parts that check credentials and derive statuses, on the shared database. */
interface DaemonParts {
  database: SharedDatabase;
  store: PostgresStore;
  vault: PostgresVault;
  status: TenantStatusService;
  health: CredentialHealthService;
  held: ReadonlySet<string>;
}

describe('credential health and status ticks with daemons sharing a store: each looks after the tenants it holds', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let sim: SimHarness;

  before(async () => {
    server = await startPostgres();
    sim = await SimHarness.start();
  });
  after(async () => {
    await sim?.stop();
    await server?.stop();
  });

  it('checks and ticks only held tenants, goes by the shared last check, and takes over a gone daemon’s tenants when due', async () => {
    const url = await server.createDatabase();
    const key = await loadVaultKey({ env: { M365_STATUS_VAULT_KEY: randomBytes(32).toString('base64') } });
    assert.ok(key);
    const clock = new ManualClock(Date.now());
    const config = loadConfig({ env: {} });
    const open = async (): Promise<DaemonParts> => {
      const database = await openSharedDatabase(url, { logger: quiet });
      const store = await PostgresStore.open({ pool: database.pool, clock, logger: quiet });
      const vault = await PostgresVault.open({ pool: database.pool, key, label: database.label, logger: quiet, now: () => clock.now() });
      const status = new TenantStatusService(store, config, clock);
      const sinks: ErrorSinks = { logger: quiet, systemLog: store };
      const parts: DaemonParts = { database, store, vault, status, health: undefined as never, held: new Set() };
      parts.health = new CredentialHealthService(store, new TenantConnections(vault, sim.endpoints, sim.dispatcher, 0), status, clock, sinks, {
        holds: (tenantId) => parts.held.has(tenantId),
      });
      return parts;
    };
    const close = async (parts: DaemonParts): Promise<void> => {
      await parts.vault.close();
      await parts.store.close();
      await parts.database.close();
    };
    const a = await open();
    const b = await open();
    try {
      const tenants: StoredTenant[] = [];
      for (let i = 0; i < 4; i++) {
        const created = await sim.createTenant({ users: 1 });
        const tenant = await a.store.addTenant({ tenantIdOrDomain: created.id, appId: created.app.appId, credentialKind: 'secret', by: 'alice' });
        await a.vault.put(tenant.id, { kind: 'secret', clientSecret: created.app.secret });
        tenants.push(tenant);
      }
      a.held = await a.store.renewTenantLeases(leaseMs);
      b.held = await b.store.renewTenantLeases(leaseMs);
      assert.equal(a.held.size, 2);
      assert.equal(b.held.size, 2);
      assert.deepEqual([...a.held, ...b.held].sort(), tenants.map((t) => t.id).sort(), 'the tenants are split between the two');
      for (let waited = 0; tenants.some((t) => !b.vault.has(t.id)); waited += 20) {
        assert.ok(waited < 5_000, "B's vault learns of the credentials A stored");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const read = async () => new Map((await a.store.listTenants()).map((t) => [t.id, t]));

      // Status ticks: time alone makes every tenant STALE, but each daemon records it only for its own.
      await clock.advanceAsync(10 * 60_000);
      await a.status.updateAll((tenantId) => a.held.has(tenantId));
      let now = await read();
      for (const id of a.held) assert.equal(now.get(id)?.status, 'STALE');
      for (const id of b.held) assert.equal(now.get(id)?.status, 'ACTIVE', "A leaves B's tenants alone");
      await b.status.updateAll((tenantId) => b.held.has(tenantId));
      now = await read();
      for (const tenant of tenants) assert.equal(now.get(tenant.id)?.status, 'STALE');
      const statusChanges = (await a.store.listActivities({ limit: 100 })).filter((x) => x.kind === 'status-change');
      assert.equal(statusChanges.length, 4, 'one status change recorded per tenant, not one per daemon');

      // The check at start: each daemon checks the tenants it holds.
      const startedAt = clock.now();
      await a.health.checkAll();
      now = await read();
      for (const id of a.held) assert.equal(now.get(id)?.credentialHealth?.canGetToken, true);
      for (const id of b.held) assert.equal(now.get(id)?.credentialHealth, null, "A does not check B's tenants");
      await clock.advanceAsync(1_000);
      await b.health.checkAll();
      now = await read();
      for (const id of b.held) assert.equal(now.get(id)?.credentialHealth?.checkedAt, startedAt + 1_000);
      for (const id of a.held) assert.equal(now.get(id)?.credentialHealth?.checkedAt, startedAt, "B does not check A's tenants again");

      // The hourly look for due checks: nothing is due within a day of the last check, whoever made it.
      await clock.advanceAsync(23 * hour);
      await a.health.checkDue();
      await b.health.checkDue();
      now = await read();
      for (const tenant of tenants) assert.ok((now.get(tenant.id)?.credentialHealth?.checkedAt ?? 0) <= startedAt + 1_000, 'nothing checked before a day');
      await clock.advanceAsync(hour);
      await a.health.checkDue();
      now = await read();
      for (const id of a.held) assert.equal(now.get(id)?.credentialHealth?.checkedAt, clock.now(), 'A checks its own once due');
      for (const id of b.held) assert.equal(now.get(id)?.credentialHealth?.checkedAt, startedAt + 1_000, "and still not B's");

      // B goes; A takes its tenants and checks them, since their last check (by B) is a day old.
      await close(b);
      a.held = await a.store.renewTenantLeases(leaseMs);
      assert.equal(a.held.size, 4);
      await clock.advanceAsync(hour);
      await a.health.checkDue();
      now = await read();
      for (const id of b.held) assert.equal(now.get(id)?.credentialHealth?.checkedAt, clock.now(), "A checks B's former tenants when due");
      for (const tenant of tenants) assert.equal(now.get(tenant.id)?.credentialHealth?.canGetToken, true);
    } finally {
      await close(a);
      await close(b).catch(() => undefined);
    }
  });
});
