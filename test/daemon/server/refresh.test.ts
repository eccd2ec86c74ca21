import assert from 'node:assert/strict';
import type { RefreshOutcome, SystemLogEntryView, TaskListEntry, TaskView, TenantView } from '../../../protocol/daemonApi';
import { DaemonHarness } from '../../support/daemonHarness';

describe('daemon API: refresh (Updating account status) over HTTP', function () {
  this.timeout(30_000);
  let harness: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start();
  });
  after(async () => harness.stop());

  async function tasksOf(tenantId: string): Promise<TaskView[]> {
    const answer = await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?automated=true&tenantId=${tenantId}`);
    return answer.body.entries.flatMap((e) => (e.type === 'task' ? [e.task] : e.activity.tasks));
  }

  it('queues Update AD cache and Check account status, which both complete; a second click names the earlier task and queues nothing', async () => {
    const { id } = await harness.registerTenant({ users: 25 });
    const first = await harness.api<RefreshOutcome>('POST', `/v1/tenants/${id}/refresh`);
    assert.equal(first.status, 202);
    assert.equal(first.body.outcome, 'queued');
    assert.equal(first.body.activity.name, 'Updating account status');
    assert.deepEqual(first.body.outcome === 'queued' ? first.body.tasks.map((t) => t.name).sort() : [], ['Check account status', 'Update AD cache']);
    const second = await harness.api<RefreshOutcome>('POST', `/v1/tenants/${id}/refresh`);
    assert.equal(second.status, 200);
    assert.equal(second.body.outcome, 'already-requested');
    assert.equal(second.body.activity.name, 'Updating account status');
    const earlier = second.body.outcome === 'already-requested' ? second.body.earlierTask : undefined;
    assert.ok(earlier && first.body.outcome === 'queued' && first.body.tasks.some((t) => t.id === earlier.id));
    assert.match(second.body.activity.description, new RegExp(earlier.id));
    await harness.daemon.whenIdle();
    const refreshTasks = (await tasksOf(id)).filter((t) => t.kind !== 'sync-users');
    assert.equal(refreshTasks.length, 2, 'no new tasks for the second click');
    assert.deepEqual(refreshTasks.map((t) => t.status), ['COMPLETE', 'COMPLETE']);
    const third = await harness.api<RefreshOutcome>('POST', `/v1/tenants/${id}/refresh`);
    assert.equal(third.body.outcome, 'already-requested', 'a COMPLETE refresh inside 6 hours still blocks');
  });

  it('queues exactly one pair for 50 simultaneous refreshes of one tenant', async () => {
    const { id } = await harness.registerTenant({ users: 5 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => harness.api<RefreshOutcome>('POST', `/v1/tenants/${id}/refresh`)));
    assert.equal(answers.filter((a) => a.body.outcome === 'queued').length, 1);
    assert.equal(answers.filter((a) => a.body.outcome === 'already-requested').length, 49);
    await harness.daemon.whenIdle();
    assert.equal((await tasksOf(id)).filter((t) => t.kind !== 'sync-users').length, 2);
    const activities = await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?tenantId=${id}&limit=500`);
    assert.equal(activities.body.entries.filter((e) => e.type === 'activity' && e.activity.name === 'Updating account status').length, 50);
  });

  it('lets a refresh whose tasks ended in ERROR be repeated, and logs the errors by task id', async () => {
    const { id } = await harness.registerTenant({ users: 3 }, { secret: 'wrong-secret-value' });
    const first = await harness.api<RefreshOutcome>('POST', `/v1/tenants/${id}/refresh`);
    await harness.daemon.whenIdle();
    const failed = (await tasksOf(id)).filter((t) => t.kind !== 'sync-users');
    assert.ok(failed.length === 2 && failed.every((t) => t.status === 'ERROR'), JSON.stringify(failed.map((t) => t.status)));
    const check = failed.find((t) => t.name === 'Check account status');
    assert.equal(check?.error?.code, 'CREDENTIAL_CHECK_FAILED');
    assert.match(check?.error?.message ?? '', /\(AADSTS7000215\)$/, 'Microsoft\'s own code stays in the message');
    const logs = await harness.api<{ entries: SystemLogEntryView[] }>('GET', `/v1/logs?taskId=${check?.id}`);
    assert.ok(logs.body.entries.length >= 1);
    assert.ok(logs.body.entries.every((e) => e.taskId === check?.id));
    assert.match(logs.body.entries[0]?.message ?? '', /secret/i);
    const again = await harness.api<RefreshOutcome>('POST', `/v1/tenants/${id}/refresh`);
    assert.equal(again.body.outcome, 'queued');
    assert.notDeepEqual(again.body.outcome === 'queued' ? again.body.tasks.map((t) => t.id) : [], first.body.outcome === 'queued' ? first.body.tasks.map((t) => t.id) : []);
  });

  it('hides automated tasks unless asked for, but always shows a refresh\'s own tasks under its activity', async () => {
    const { id } = await harness.registerTenant({ users: 3 });
    await harness.api('POST', `/v1/tenants/${id}/refresh`);
    await harness.daemon.whenIdle();
    const plain = await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?tenantId=${id}`);
    assert.ok(plain.body.entries.every((e) => e.type === 'activity'), 'no automated task at top level');
    const refresh = plain.body.entries.find((e) => e.type === 'activity' && e.activity.name === 'Updating account status');
    assert.equal(refresh?.type === 'activity' ? refresh.activity.tasks.length : 0, 2);
    const all = await harness.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?tenantId=${id}&automated=true`);
    assert.ok(all.body.entries.some((e) => e.type === 'task' && e.task.kind === 'sync-users' && e.task.automated));
  });

  it('answers 404 for a refresh of an unknown tenant', async () => {
    const answer = await harness.api<TenantView>('POST', '/v1/tenants/not-a-tenant/refresh');
    assert.equal(answer.status, 404);
  });
});
