import assert from 'node:assert/strict';
import type { UserPage } from '../../../protocol/daemonApi';
import { DaemonHarness } from '../../support/daemonHarness';

/** The daemon's own time from an answer's `Server-Timing` header, or undefined without one. */
function daemonDuration(response: { headers: { get(name: string): string | null } }): number | undefined {
  const header = response.headers.get('server-timing');
  if (header === null) return undefined;
  const match = /^daemon;dur=(\d+(?:\.\d)?)$/.exec(header);
  assert.ok(match, `a Server-Timing header of one metric, "daemon;dur=<ms>": ${header}`);
  return Number(match[1]);
}

describe('daemon API: Server-Timing (real daemon, simulator over HTTPS)', function () {
  this.timeout(30_000);
  let harness: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
  });
  after(async () => harness.stop());

  it('says how long the daemon took, Microsoft\'s wait included and the client\'s side not', async () => {
    const { sim, id } = await harness.registerTenant({ users: 3, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    await harness.until(async () => (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0]);
    const [target] = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users;
    assert.ok(target);

    let started = performance.now();
    const list = await harness.request('GET', '/v1/tenants');
    await list.text();
    const listElapsed = performance.now() - started;
    const listDuration = daemonDuration(list);
    assert.ok(listDuration !== undefined && listDuration <= listElapsed, `${listDuration} ms within the ${listElapsed} ms the client waited`);

    // Graph slow to answer: the lock waits for it, and says so.
    await harness.sim.control('PUT', `/tenants/${sim.id}/faults`, { latencyMs: 300 });
    try {
      started = performance.now();
      const lock = await harness.request('POST', `/v1/tenants/${id}/users/${target.id}/lock`, {});
      await lock.text();
      const lockElapsed = performance.now() - started;
      assert.equal(lock.status, 200);
      const lockDuration = daemonDuration(lock);
      assert.ok(lockDuration !== undefined && lockDuration >= 300 && lockDuration <= lockElapsed, `${lockDuration} ms: at least Graph's 300, within the client's ${lockElapsed}`);
    } finally {
      await harness.sim.control('PUT', `/tenants/${sim.id}/faults`, { latencyMs: 0 });
    }
  });

  it('times refusals too, and leaves it off an event stream, whose headers go out before anything happens', async () => {
    const refused = await fetch(`${harness.daemon.url}/v1/tenants`);
    assert.equal(refused.status, 401);
    assert.ok(daemonDuration(refused) !== undefined);
    const missing = await harness.request('GET', '/v1/tenants/no-such-tenant');
    assert.equal(missing.status, 404);
    assert.ok(daemonDuration(missing) !== undefined);

    const events = new AbortController();
    const stream = await fetch(`${harness.daemon.url}/v1/events`, { headers: { authorization: `Bearer ${harness.daemon.token}` }, signal: events.signal });
    try {
      assert.equal(stream.status, 200);
      assert.equal(stream.headers.get('server-timing'), null);
    } finally {
      events.abort();
    }
  });
});
