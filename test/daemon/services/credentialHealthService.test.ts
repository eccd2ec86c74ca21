import assert from 'node:assert/strict';
import { systemClock } from '../../../daemon/clock';
import { createLogger } from '../../../daemon/logging/logger';
import { CredentialHealthService } from '../../../daemon/services/credentialHealthService';
import { TenantConnections } from '../../../daemon/services/tenantConnections';
import { SimHarness } from '../../support/simHarness';
import { RefreshTaskParts } from '../tasks/fixtures/refreshTaskParts';

describe('services: credential health failures', () => {
  let sim: SimHarness;
  let parts: RefreshTaskParts;
  before(async () => {
    sim = await SimHarness.start();
    parts = await RefreshTaskParts.open(sim);
  });
  after(async () => {
    await parts.close();
    await sim.stop();
  });

  it('reports a check that cannot be recorded through handleError, under credential health, and checks the next tenant', async () => {
    const first = await sim.createTenant({ users: 1 });
    const second = await sim.createTenant({ users: 1 });
    const tenants = [
      await parts.addTenant(first.id, first.app.appId, first.app.secret),
      await parts.addTenant(second.id, second.app.appId, second.app.secret),
    ];
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const health = new CredentialHealthService(parts.store, new TenantConnections(parts.vault, sim.endpoints, sim.dispatcher, 0), parts.status, systemClock, { logger });
    // A closed store refuses the result: the probe succeeds against the simulator, the write fails.
    await parts.store.close();
    await health.checkAll();
    const reported = lines.filter((line) => line['source'] === 'credential-health');
    assert.deepEqual(
      reported.map((line) => [line['level'], line['code'], line['tenantId'], line['operation']]),
      tenants.map((tenant) => ['error', 'STORE_CLOSED', tenant.id, 'check credential health']),
    );
    assert.ok(reported.every((line) => typeof line['errorId'] === 'string'));
  });
});
