import assert from 'node:assert/strict';
import type { RefreshOutcome, TaskListEntry, TenantView, UserPage } from '../../../protocol/daemonApi';
import { DaemonHarness } from '../../support/daemonHarness';
import { ManualClock } from '../../support/manualClock';

const second = 1000;
const minute = 60 * second;
const day = 24 * 60 * minute;

describe('daemon: tenant status and resilience (manual clock, real sockets)', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;
  let clock: ManualClock;

  async function tenant(id: string): Promise<TenantView> {
    return (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body;
  }

  async function statusActivities(id: string): Promise<string[]> {
    const answer = await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?tenantId=${id}&limit=500`);
    return answer.body.entries
      .flatMap((e) => (e.type === 'activity' && e.activity.kind === 'status-change' ? [e.activity.description] : []))
      .reverse();
  }

  describe('with a 60 s poll interval', () => {
    beforeEach(async () => {
      clock = new ManualClock(Date.now());
      harness = await DaemonHarness.start({ graphMaxRetries: 0 }, clock);
    });
    afterEach(async () => harness.stop());

    it('goes ACTIVE → STALE while Graph fails, and back to ACTIVE when it recovers, recording each change', async () => {
      const { sim, id } = await harness.registerTenant({ users: 20 });
      await harness.advance(clock, 1 * second, 1 * second);
      assert.equal((await tenant(id)).status, 'ACTIVE');
      await harness.sim.control('PUT', `/tenants/${sim.id}/faults`, { errorRate: 1, errorStatus: 500 });
      await harness.advance(clock, 2 * minute, 10 * second);
      const failing = await tenant(id);
      assert.equal(failing.status, 'ACTIVE', 'two minutes of failures are not yet three intervals');
      assert.equal(failing.lastError?.category, 'graph');
      await harness.advance(clock, 90 * second, 10 * second);
      assert.equal((await tenant(id)).status, 'STALE');
      await harness.sim.control('PUT', `/tenants/${sim.id}/faults`, { errorRate: 0 });
      await harness.advance(clock, 70 * second, 10 * second);
      const recovered = await tenant(id);
      assert.equal(recovered.status, 'ACTIVE');
      assert.ok(recovered.asOf && clock.now() - recovered.asOf <= 70 * second);
      const changes = await statusActivities(id);
      assert.ok(changes.length >= 2, JSON.stringify(changes));
      assert.match(changes.at(-2) ?? '', /STALE/);
      assert.match(changes.at(-1) ?? '', /ACTIVE/);
    });

    it('goes ACTIVE → DISCONNECTED when the secret is revoked, and back to ACTIVE when credentials are rotated', async () => {
      const { sim, id } = await harness.registerTenant({ users: 5 });
      await harness.advance(clock, 1 * second, 1 * second);
      assert.equal((await tenant(id)).status, 'ACTIVE');
      await harness.sim.control('DELETE', `/tenants/${sim.id}/apps/${sim.app.appId}/secrets`);
      const checked = await harness.api<TenantView>('POST', `/v1/tenants/${id}/credential-health`);
      assert.equal(checked.body.status, 'DISCONNECTED');
      assert.equal(checked.body.credentialHealth?.canGetToken, false);
      assert.equal(checked.body.credentialHealth?.failure?.code, 'AADSTS7000215');
      assert.match(checked.body.credentialHealth?.failure?.remedy ?? '', /rotate/i);
      const rotated = await harness.sim.control<{ secret: string }>('POST', `/tenants/${sim.id}/apps/${sim.app.appId}/secrets`, {});
      const answer = await harness.api<TenantView>('PUT', `/v1/tenants/${id}/credentials`, { credential: { kind: 'secret', clientSecret: rotated.body.secret } });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.credentialHealth?.canGetToken, true);
      assert.equal(answer.body.status, 'ACTIVE', 'the rotation answer already has the tenant back');
    });

    it('stays DISCONNECTED through its polls when registered with a wrong secret', async () => {
      const { id } = await harness.registerTenant({ users: 5 }, { secret: 'not-the-secret' });
      assert.equal((await tenant(id)).status, 'DISCONNECTED');
      await harness.advance(clock, 3 * minute, 10 * second);
      const after = await tenant(id);
      assert.equal(after.status, 'DISCONNECTED');
      assert.equal(after.lastError?.category, 'credentials');
      assert.equal(after.lastError?.code, 'AADSTS7000215');
      const changes = await statusActivities(id);
      assert.equal(changes.length, 1, `one status change, no flapping: ${JSON.stringify(changes)}`);
      assert.match(changes[0] ?? '', /→ DISCONNECTED/);
    });

    it('honours Retry-After through a 429 storm without calling the tenant DISCONNECTED, then catches up', async () => {
      const { sim, id } = await harness.registerTenant({ users: 30 });
      const calm = await harness.registerTenant({ users: 30 });
      await harness.advance(clock, 1 * second, 1 * second);
      await harness.sim.control('PUT', `/tenants/${sim.id}/throttling`, { resourceUnitsPer10s: 1 });
      await harness.sim.control('DELETE', `/tenants/${sim.id}/counters`);
      const userId = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0]?.id;
      for (let storm = 0; storm < 5; storm++) {
        // Spend the budget from outside, as another app's burst would, then let the daemon poll into it.
        await harness.sim.control('PATCH', `/tenants/${sim.id}/users/${userId}`, { displayName: `Storm ${storm}` });
        await harness.advance(clock, 60 * second, 5 * second);
      }
      const throttled = await tenant(id);
      assert.notEqual(throttled.status, 'DISCONNECTED');
      const counters = await harness.sim.control<{ throttled: number; graphRequests: number }>('GET', `/tenants/${sim.id}/counters`);
      assert.ok(counters.body.throttled >= 3, `${counters.body.throttled} calls were throttled`);
      assert.ok(counters.body.graphRequests < 40, `${counters.body.graphRequests} Graph calls in 5 minutes: no hammering`);
      assert.equal((await tenant(calm.id)).status, 'ACTIVE');
      assert.ok(clock.now() - ((await tenant(calm.id)).asOf ?? 0) <= 65 * second, 'the calm tenant kept its schedule');
      await harness.sim.control('PUT', `/tenants/${sim.id}/throttling`, { resourceUnitsPer10s: null });
      await harness.advance(clock, 70 * second, 5 * second);
      const after = await tenant(id);
      assert.equal(after.status, 'ACTIVE');
      const renamed = await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?text=Storm`);
      assert.equal(renamed.body.users[0]?.displayName, 'Storm 4');
    });

    it('keeps healthy tenants on schedule while one tenant is down', async () => {
      const down = await harness.registerTenant({ users: 10 });
      const healthy = [await harness.registerTenant({ users: 10 }), await harness.registerTenant({ users: 10 })];
      await harness.advance(clock, 1 * second, 1 * second);
      await harness.sim.control('PUT', `/tenants/${down.sim.id}/faults`, { resetRate: 1 });
      for (const h of healthy) await harness.sim.control('DELETE', `/tenants/${h.sim.id}/counters`);
      await harness.advance(clock, 5 * minute, 10 * second);
      for (const h of healthy) {
        const view = await tenant(h.id);
        assert.equal(view.status, 'ACTIVE');
        assert.ok(clock.now() - (view.asOf ?? 0) <= 70 * second);
        const counters = await harness.sim.control<{ byOperation: Record<string, number> }>('GET', `/tenants/${h.sim.id}/counters`);
        assert.ok((counters.body.byOperation['users.delta'] ?? 0) >= 4, `polled ${counters.body.byOperation['users.delta']} times in 5 minutes`);
      }
      const broken = await tenant(down.id);
      assert.equal(broken.status, 'STALE');
      assert.equal(broken.lastError?.category, 'network');
    });

    it('recovers from an expired delta token with a full resync that loses no change', async () => {
      const { sim, id } = await harness.registerTenant({ users: 30, userMix: { disabledShare: 0, onPremisesShare: 0, privilegedShare: 0 } });
      await harness.advance(clock, 1 * second, 1 * second);
      const users = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=3`)).body.users;
      const [locked, changed, deleted] = users;
      assert.ok(locked && changed && deleted);
      await harness.api('POST', `/v1/tenants/${id}/users/${locked.id}/lock`, {});
      await harness.sim.control('POST', `/tenants/${sim.id}/delta/invalidate`, { mode: 'syncStateNotFound' });
      await harness.sim.control('PATCH', `/tenants/${sim.id}/users/${changed.id}`, { accountEnabled: false });
      await harness.sim.control('DELETE', `/tenants/${sim.id}/users/${deleted.id}`);
      await harness.advance(clock, 61 * second, 5 * second);
      const after = await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=100`);
      assert.equal(after.body.total, 29);
      assert.equal(after.body.users.find((u) => u.id === changed.id)?.state, 'disabled');
      assert.equal(after.body.users.find((u) => u.id === deleted.id), undefined);
      assert.equal(after.body.users.find((u) => u.id === locked.id)?.state, 'locked', 'the lock survives the full resync');
      assert.equal((await tenant(id)).status, 'ACTIVE');
    });
  });

  describe('with daily polls over weeks', () => {
    before(async () => {
      clock = new ManualClock(Date.now());
      harness = await DaemonHarness.start({ pollIntervalMs: '1d', inactivePollIntervalMs: '1d', dormantPollIntervalMs: '1d' }, clock);
    });
    after(async () => harness.stop());

    it('goes ACTIVE → INACTIVE (14 days) → DORMANT (30 days) without management activity, and a refresh makes it ACTIVE', async () => {
      const { id } = await harness.registerTenant({ users: 5 });
      await harness.advance(clock, 1 * second, 1 * second);
      assert.equal((await tenant(id)).status, 'ACTIVE');
      await harness.advance(clock, 14 * day + minute, 12 * 60 * minute);
      assert.equal((await tenant(id)).status, 'INACTIVE');
      await harness.advance(clock, 16 * day, 12 * 60 * minute);
      const dormant = await tenant(id);
      assert.equal(dormant.status, 'DORMANT');
      assert.ok(dormant.asOf && clock.now() - dormant.asOf <= day + minute, 'a DORMANT tenant is still watched');
      const refresh = await harness.api<RefreshOutcome>('POST', `/v1/tenants/${id}/refresh`);
      assert.equal(refresh.body.outcome, 'queued');
      assert.equal((await tenant(id)).status, 'ACTIVE');
      const changes = await statusActivities(id);
      assert.deepEqual(
        changes.map((d) => /→ (\w+)/.exec(d)?.[1]),
        ['INACTIVE', 'DORMANT', 'ACTIVE'],
        JSON.stringify(changes),
      );
    });
  });
});
