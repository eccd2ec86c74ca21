import assert from 'node:assert/strict';
import { createLogger } from '../../../daemon/logging/logger';
import { TenantConnections } from '../../../daemon/services/tenantConnections';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { PostgresVault } from '../../../daemon/vault/postgresVault';
import { newVaultKeyText, parseVaultKey } from '../../../daemon/vault/vaultKey';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';
import { SimHarness } from '../../support/simHarness';
import { tempDataDir } from '../../support/tempDataDir';

describe('tenant connections on a shared vault', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let sim: SimHarness;
  let database: SharedDatabase;
  let store: LowdbStore;
  let cleanup: () => Promise<void>;
  const vaults: PostgresVault[] = [];
  const logger = createLogger({ write: () => undefined });

  before(async () => {
    [server, sim] = await Promise.all([startPostgres(), SimHarness.start()]);
  });
  after(async () => {
    await Promise.all([server?.stop(), sim?.stop()]);
  });
  beforeEach(async () => {
    database = await openSharedDatabase(await server.createDatabase(), { logger });
    let dir: string;
    ({ dir, cleanup } = await tempDataDir());
    store = await LowdbStore.open({ dataDir: dir });
  });
  afterEach(async () => {
    await Promise.all(vaults.splice(0).map((vault) => vault.close()));
    await database.close();
    await store.close();
    await cleanup();
  });

  it("drops a connection when another daemon rotates the tenant's credential, so the next one signs in with the new secret", async () => {
    const simTenant = await sim.createTenant({ users: 1 });
    const tenant = await store.addTenant({ tenantIdOrDomain: simTenant.id, appId: simTenant.app.appId, credentialKind: 'secret', by: 'alice' });
    const key = parseVaultKey(newVaultKeyText(), 'the test key');
    const open = async () => {
      const vault = await PostgresVault.open({ pool: database.pool, key, label: database.label, logger });
      vaults.push(vault);
      return vault;
    };
    const daemonA = await open();
    const daemonB = await open();
    await daemonA.put(tenant.id, { kind: 'secret', clientSecret: simTenant.app.secret });
    const connections = new TenantConnections(daemonB, sim.endpoints, sim.dispatcher, 0);
    await until(() => daemonB.has(tenant.id));
    const before = connections.get(tenant);
    assert.ok((await before.tokens.acquire()).accessToken);

    // The operator replaces the secret in Entra (the old one is revoked) and rotates it through daemon A.
    const { status, body } = await sim.control<{ secret: string }>('POST', `/tenants/${simTenant.id}/apps/${simTenant.app.appId}/secrets`, { replaceExisting: true });
    assert.equal(status, 201);
    await daemonA.rotate(tenant.id, { kind: 'secret', clientSecret: body.secret });

    await until(() => connections.get(tenant) !== before);
    const after = connections.get(tenant);
    assert.deepEqual(after.credential, { kind: 'secret', clientSecret: body.secret });
    assert.ok((await after.tokens.acquire({ fresh: true })).accessToken);
    await assert.rejects(before.tokens.acquire({ fresh: true }), 'the connection dropped would have signed in with a revoked secret');
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the vault to catch up');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
