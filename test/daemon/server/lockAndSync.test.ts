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

  it('clears the lock in the first poll round after someone re-enables the user in Microsoft 365, naming who', async () => {
    const { sim, id } = await harness.registerTenant({ users: 8, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    await harness.until(async () => (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body.asOf);
    const [target] = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users;
    assert.ok(target);
    await harness.api('POST', `/v1/tenants/${id}/users/${target.id}/lock`, {});
    await harness.sim.control('PATCH', `/tenants/${sim.id}/users/${target.id}`, { accountEnabled: true, actor: { userPrincipalName: 'helpdesk@customer.example' } });
    const reEnabledAt = Date.now();
    // Counted in rounds, not seconds: the first poll round that starts after the change must end with the
    // lock cleared, however slow the machine (a 5 s interval, so it starts within about 5 s).
    const round = await harness.until(async () => {
      const tasks = await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?tenantId=${id}&automated=true`);
      const rounds = tasks.body.entries.flatMap((e) => (e.type === 'task' && e.task.automated && (e.task.startedAt ?? 0) >= reEnabledAt ? [e.task] : []));
      const first = rounds.sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0))[0];
      return first && first.finishedAt !== null ? first : undefined;
    }, 15_000, 'the first poll round after the change');
    assert.equal(round.status, 'COMPLETE');
    const locked = await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?state=locked`);
    assert.equal(locked.body.total, 0, `still locked after the round ${round.id} that started ${(round.startedAt ?? 0) - reEnabledAt} ms after the change`);
    // The activity follows the cleared lock once the audit log has been read for the actor.
    const outside = await harness.until(async () => {
      const tasks = await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?tenantId=${id}`);
      return tasks.body.entries.find((e) => e.type === 'activity' && e.activity.kind === 'external-change');
    }, 5_000, 'the outside-change activity');
    assert.ok(outside.type === 'activity');
    assert.equal(outside.activity.actor, 'helpdesk@customer.example');
    assert.match(outside.activity.description, /enabled directly in Microsoft 365 by helpdesk@customer\.example/);
  });
});
