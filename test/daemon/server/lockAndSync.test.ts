import assert from 'node:assert/strict';
import type { LockOutcome, TaskListEntry, TenantView, UserPage } from '../../../protocol/daemonApi';
import { DaemonHarness } from '../../support/daemonHarness';

describe('daemon API: tenants, sync, lock and outside changes (real daemon, simulator over HTTPS)', function () {
  this.timeout(30_000);
  let harness: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
  });
  after(async () => harness.stop());

  it('registers a tenant, checks its credentials and syncs its users at once', async () => {
    const { sim, id } = await harness.registerTenant({ users: 40, userMix: { privilegedShare: 0, onPremisesShare: 0 } });
    const tenant = await harness.until(async () => {
      const answer = await harness.api<TenantView>('GET', `/v1/tenants/${id}`);
      return answer.body.asOf !== null ? answer.body : undefined;
    });
    assert.equal(tenant.counts.total, 40);
    assert.equal(tenant.status, 'ACTIVE');
    assert.equal(tenant.credentialHealth?.canGetToken, true);
    assert.deepEqual(tenant.credentialHealth?.missingRoles, []);
    assert.equal(tenant.tenant, sim.id);
    assert.ok(!JSON.stringify(tenant).includes(sim.app.secret), 'the secret never comes back');
  });

  it('locks a user: Graph disables it, the store says locked, and an activity records it', async () => {
    const { sim, id } = await harness.registerTenant({ users: 10, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    await harness.until(async () => (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body.asOf);
    const page = await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=5`);
    const target = page.body.users[0];
    assert.ok(target);
    const locked = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${target.id}/lock`, { revokeSessions: true }, { 'x-m365-operator': 'alice' });
    assert.equal(locked.status, 200);
    assert.equal(locked.body.outcome, 'locked');
    assert.equal(locked.body.user.state, 'locked');
    assert.equal(locked.body.user.lock?.by, 'alice');
    assert.equal(locked.body.user.lock?.revokedSessions, true);
    const inSim = await harness.sim.control<{ accountEnabled: boolean }>('GET', `/tenants/${sim.id}/users/${target.id}`);
    assert.equal(inSim.body.accountEnabled, false);
    const again = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${target.id}/lock`, {});
    assert.equal(again.body.outcome, 'unchanged');
    assert.match(again.body.outcome === 'unchanged' ? again.body.message : '', /already disabled/);
    const lockedFirst = await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=3`);
    assert.equal(lockedFirst.body.users[0]?.id, target.id, 'locked users are listed first');
  });

  it('clears the lock within one poll interval when someone re-enables the user in Microsoft 365, naming who', async () => {
    const { sim, id } = await harness.registerTenant({ users: 8, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    await harness.until(async () => (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body.asOf);
    const [target] = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users;
    assert.ok(target);
    await harness.api('POST', `/v1/tenants/${id}/users/${target.id}/lock`, {});
    const reEnabledAt = Date.now();
    await harness.sim.control('PATCH', `/tenants/${sim.id}/users/${target.id}`, { accountEnabled: true, actor: { userPrincipalName: 'helpdesk@customer.example' } });
    const cleared = await harness.until(async () => {
      const page = await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?state=locked`);
      return page.body.total === 0 ? true : undefined;
    }, 7_000, 'the lock to clear');
    assert.equal(cleared, true);
    const elapsed = Date.now() - reEnabledAt;
    assert.ok(elapsed <= 6_000, `cleared after ${elapsed} ms, within one 5 s interval (plus the round)`);
    // The activity follows the cleared lock once the audit log has been read for the actor.
    const outside = await harness.until(async () => {
      const tasks = await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?tenantId=${id}`);
      return tasks.body.entries.find((e) => e.type === 'activity' && e.activity.kind === 'external-change');
    }, 2_000, 'the outside-change activity');
    assert.ok(outside.type === 'activity');
    assert.ok(Date.now() - reEnabledAt <= 6_000, 'recorded within one interval too');
    assert.equal(outside.activity.actor, 'helpdesk@customer.example');
    assert.match(outside.activity.description, /enabled directly in Microsoft 365 by helpdesk@customer\.example/);
  });
});
