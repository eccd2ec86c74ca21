import assert from 'node:assert/strict';
import type { UserPage } from '../../../protocol/daemonApi';
import { DaemonHarness } from '../../support/daemonHarness';

describe('daemon API: requests in flight, which syncs give way to (real daemon, simulator over HTTPS)', function () {
  this.timeout(30_000);
  let harness: DaemonHarness;
  /** A second daemon in the same process, which keeps its own account. */
  let other: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    other = await DaemonHarness.start({ pollIntervalMs: '5s' });
  });
  after(async () => {
    await other.stop();
    await harness.stop();
  });

  it('counts a lock from its request until its answer, on its own daemon alone, and an open event stream never', async () => {
    const { sim, id } = await harness.registerTenant({ users: 5, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    await harness.until(async () => (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0]);
    const [target] = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users;
    assert.ok(target);
    await harness.until(() => harness.daemon.foregroundRequests.inFlight === 0, 10_000, 'no request in flight');

    const events = new AbortController();
    const stream = await fetch(`${harness.daemon.url}/v1/events`, { headers: { authorization: `Bearer ${harness.daemon.token}` }, signal: events.signal });
    assert.equal(stream.status, 200);
    try {
      assert.equal(harness.daemon.foregroundRequests.inFlight, 0, 'an open event stream is not a request in flight');
      // Graph slow to answer: the lock stays in flight for a while.
      await harness.sim.control('PUT', `/tenants/${sim.id}/faults`, { latencyMs: 400 });
      const lock = harness.api('POST', `/v1/tenants/${id}/users/${target.id}/lock`, {});
      await harness.until(() => harness.daemon.foregroundRequests.inFlight === 1, 5_000, 'the lock in flight');
      assert.equal(other.daemon.foregroundRequests.inFlight, 0, 'another daemon\'s syncs do not give way to this lock');
      const answer = await lock;
      assert.equal(answer.status, 200);
      await harness.until(() => harness.daemon.foregroundRequests.inFlight === 0, 5_000, 'the lock no longer in flight');
    } finally {
      events.abort();
      await harness.sim.control('PUT', `/tenants/${sim.id}/faults`, { latencyMs: 0 });
    }
  });
});
