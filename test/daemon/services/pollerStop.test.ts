import assert from 'node:assert/strict';
import { createLogger } from '../../../daemon/logging/logger';
import { Poller } from '../../../daemon/services/poller';
import { ManualClock } from '../../support/manualClock';
import { SimHarness } from '../../support/simHarness';
import { RefreshTaskParts } from '../tasks/fixtures/refreshTaskParts';

describe('services: poller stop', function () {
  this.timeout(60_000);
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

  it('waits for a status tick under way before it resolves, so the store closing next ends no status update', async () => {
    const tenantIds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const simTenant = await sim.createTenant({ users: 1 });
      tenantIds.push((await parts.addTenant(simTenant.id, simTenant.app.appId, simTenant.app.secret)).id);
    }
    const lines: Array<Record<string, unknown>> = [];
    const clock = new ManualClock();
    const stopping = new AbortController();
    const statusTickMs = 1_000;
    const poller = new Poller({
      store: parts.store,
      sync: parts.sync,
      status: parts.status,
      clock,
      sinks: { logger: createLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>), clock }), systemLog: parts.store, stopping: stopping.signal },
      maxConcurrent: 4,
      jitterRatio: 0,
      statusTickMs,
    });
    await poller.start();
    await clock.advanceAsync(0);
    await poller.whenIdle();
    await poller.firstRound;
    // Every recorded status wrong, so that the next tick writes each tenant's again.
    for (const tenantId of tenantIds) await parts.store.recordTenantStatus(tenantId, 'DORMANT', 'set by the test');
    clock.advance(statusTickMs);
    stopping.abort();
    await poller.stop();
    await parts.store.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const statuses = (await parts.store.listTenants()).filter((tenant) => tenantIds.includes(tenant.id)).map((tenant) => tenant.status);
    assert.ok(statuses.every((status) => status !== 'DORMANT'), `the tick had ended before the stop resolved: ${statuses.join(', ')}`);
    assert.deepEqual(lines.filter((line) => line['level'] === 'error'), []);
  });
});
