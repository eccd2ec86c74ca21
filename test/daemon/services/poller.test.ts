import assert from 'node:assert/strict';
import { createLogger } from '../../../daemon/logging/logger';
import { Poller } from '../../../daemon/services/poller';
import type { TenantSync } from '../../../daemon/services/tenantSync';
import { ManualClock } from '../../support/manualClock';
import { SimHarness } from '../../support/simHarness';
import { RefreshTaskParts } from '../tasks/fixtures/refreshTaskParts';

describe('services: poller failures', () => {
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

  it('starts the first round at once after a restart, and says when every tenant known at start has had it', async () => {
    const simTenant = await sim.createTenant({ users: 3 });
    const tenant = await parts.addTenant(simTenant.id, simTenant.app.appId, simTenant.app.secret);
    const clock = new ManualClock();
    const startedAt = clock.now();
    const poller = new Poller({
      store: parts.store,
      sync: parts.sync,
      status: parts.status,
      clock,
      sinks: { logger: createLogger({ write: () => undefined, clock }) },
      maxConcurrent: 2,
      jitterRatio: 0,
      statusTickMs: 60 * 60_000,
    });
    let firstRoundDone = false;
    void poller.firstRound.then(() => (firstRoundDone = true));
    try {
      await poller.start();
      assert.equal(firstRoundDone, false);
      await clock.advanceAsync(0);
      await poller.whenIdle();
      await poller.firstRound;
      assert.equal(clock.now(), startedAt, 'no time had to pass');
      assert.equal((await parts.store.countUsers(tenant.id)).total, 3);
      assert.equal(firstRoundDone, true);
    } finally {
      await poller.stop();
      await parts.store.removeTenant(tenant.id, 'test');
    }
  });

  it('waits at most the poll interval between rounds, whatever the jitter draws, and spreads the waits over its last tenth', async () => {
    const simTenant = await sim.createTenant({ users: 1 });
    const tenant = await parts.addTenant(simTenant.id, simTenant.app.appId, simTenant.app.secret);
    const interval = (await parts.status.current(tenant.id)).pollIntervalMs;
    // Rounds seen by each moment after the first round, for draws at either end of the jitter and between.
    const moments = [Math.round(interval * 0.9) - 1, Math.round(interval * 0.91), interval - 1, interval];
    const expected = new Map([
      [0, [1, 1, 1, 2]],
      [0.5, [1, 1, 2, 2]],
      [0.999, [1, 2, 2, 2]],
    ]);
    try {
      for (const [draw, roundsByMoment] of expected) {
        const clock = new ManualClock();
        let rounds = 0;
        const counting = Object.create(parts.sync) as TenantSync;
        counting.sync = (tenantId, request) => {
          rounds++;
          return parts.sync.sync(tenantId, request);
        };
        const poller = new Poller({
          store: parts.store,
          sync: counting,
          status: parts.status,
          clock,
          sinks: { logger: createLogger({ write: () => undefined, clock }) },
          maxConcurrent: 1,
          jitterRatio: 0.1,
          random: () => draw,
          statusTickMs: 60 * 60_000,
        });
        try {
          await poller.start();
          await clock.advanceAsync(0);
          await poller.whenIdle();
          assert.equal(rounds, 1, `draw ${draw}: the first round`);
          const firstRoundAt = clock.now();
          const seen: number[] = [];
          for (const moment of moments) {
            await clock.advanceAsync(firstRoundAt + moment - clock.now());
            await poller.whenIdle();
            seen.push(rounds);
          }
          assert.deepEqual(seen, roundsByMoment, `draw ${draw}: rounds by ${moments.join(', ')} ms`);
        } finally {
          await poller.stop();
        }
      }
    } finally {
      await parts.store.removeTenant(tenant.id, 'test');
    }
  });

  it('reports a poll that fails outside the sync through handleError, under the poller, and polls again later', async () => {
    const simTenant = await sim.createTenant({ users: 2 });
    const tenant = await parts.addTenant(simTenant.id, simTenant.app.appId, simTenant.app.secret);
    const lines: Array<Record<string, unknown>> = [];
    const clock = new ManualClock();
    const poller = new Poller({
      store: parts.store,
      sync: parts.sync,
      status: parts.status,
      clock,
      sinks: { logger: createLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>), clock }) },
      maxConcurrent: 1,
      jitterRatio: 0,
      statusTickMs: 60 * 60_000,
    });
    await poller.start();
    // A closed store refuses the poll's task: a failure no sync outcome accounts for.
    await parts.store.close();
    await clock.advanceAsync(1_000);
    await poller.whenIdle();
    const pendingAfterFailure = clock.pendingTimers;
    await poller.stop();
    const reported = lines.filter((line) => line['source'] === 'poller');
    assert.equal(reported.length, 1, JSON.stringify(lines));
    assert.deepEqual([reported[0]?.['level'], reported[0]?.['code'], reported[0]?.['tenantId'], reported[0]?.['operation']], ['error', 'STORE_CLOSED', tenant.id, 'poll']);
    assert.equal(typeof reported[0]?.['errorId'], 'string');
    assert.ok(pendingAfterFailure >= 2, 'the next poll and the status tick stay scheduled');
  });
});
