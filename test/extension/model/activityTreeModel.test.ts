import assert from 'node:assert/strict';
import { COMMANDS } from '../../../extension/common/commandTable';
import { ActivityEntries } from '../../../extension/model/activityEntries';
import { ActivityTreeModel, activityStatus } from '../../../extension/model/activityTreeModel';
import { StatusModel } from '../../../extension/model/statusModel';
import { activityView, MINUTE, NOW, taskView, tenantView } from '../support/viewFixtures';

const noUsers = { listUsers: () => Promise.reject(new Error('not used')) };

describe('extension model: the Activity tree', () => {
  it('lists activities and tasks newest first, each activity with the tasks it queued', () => {
    const model = new StatusModel({ users: noUsers });
    model.replaceTenants([tenantView({ id: 'tenant-1', displayName: 'Contoso' })]);
    model.replaceActivity(
      [
        { type: 'task', at: NOW - 5 * MINUTE, task: taskView({ id: 'old', name: 'Check account status', status: 'COMPLETE' }) },
        {
          type: 'activity',
          at: NOW - MINUTE,
          activity: activityView({
            id: 'a1',
            tasks: [taskView({ id: 't1', activityId: 'a1', status: 'COMPLETE' }), taskView({ id: 't2', activityId: 'a1', name: 'Check account status', status: 'IN_PROGRESS' })],
          }),
        },
      ],
      false,
    );
    const tree = new ActivityTreeModel(model, () => NOW);
    const roots = tree.roots();
    assert.deepEqual(
      roots.map((node) => tree.row(node).label),
      ['Updating account status', 'Check account status'],
    );
    const activity = tree.row(roots[0] as never);
    assert.equal(activity.description, 'in progress · Contoso · 1 min ago');
    assert.equal(activity.contextValue, 'activity:IN_PROGRESS');
    assert.deepEqual(
      tree.children(roots[0] as never).map((node) => tree.row(node).contextValue),
      ['task:COMPLETE', 'task:IN_PROGRESS'],
    );
  });

  it("links a failed task to the system log entries of its task id", () => {
    const model = new StatusModel({ users: noUsers });
    model.replaceActivity([{ type: 'task', at: NOW, task: taskView({ id: 'task-9', status: 'ERROR', error: { code: 'AADSTS7000215', message: 'The client secret is wrong.', errorId: 'e1' } }) }], false);
    const tree = new ActivityTreeModel(model, () => NOW);
    const [task] = tree.roots();
    assert.equal(tree.row(task as never).collapsible, 'collapsed');
    const [error] = tree.children(task as never);
    const row = tree.row(error as never);
    assert.equal(row.label, 'The client secret is wrong.');
    assert.deepEqual(row.command, { id: COMMANDS.showSystemLog.id, title: COMMANDS.showSystemLog.title, args: [{ taskId: 'task-9' }] });
  });

  it('shows the earlier task that made a repeat refresh queue nothing', () => {
    const model = new StatusModel({ users: noUsers });
    model.replaceActivity(
      [
        { type: 'activity', at: NOW, activity: activityView({ id: 'a2', blockedByTaskId: 't1', description: 'An earlier refresh (Update AD cache) is IN_PROGRESS.' }) },
        { type: 'activity', at: NOW - MINUTE, activity: activityView({ id: 'a1', tasks: [taskView({ id: 't1', activityId: 'a1', status: 'IN_PROGRESS' })] }) },
      ],
      false,
    );
    const tree = new ActivityTreeModel(model, () => NOW);
    const [repeat] = tree.roots();
    assert.match(tree.row(repeat as never).description ?? '', /^earlier task still counts/);
    const [blocked] = tree.children(repeat as never);
    assert.equal(tree.row(blocked as never).label, 'Earlier task: Update AD cache');
    assert.match(tree.row(blocked as never).description ?? '', /^in progress/);
  });

  it('sums up an activity by its tasks: the worst, else how far they got', () => {
    const withTasks = (...statuses: Array<'PENDING' | 'IN_PROGRESS' | 'COMPLETE' | 'ERROR'>) =>
      activityView({ id: 'a', tasks: statuses.map((status, index) => taskView({ id: `t${index}`, status })) });
    assert.equal(activityStatus(withTasks()), 'RECORDED');
    assert.equal(activityStatus(withTasks('PENDING', 'PENDING')), 'PENDING');
    assert.equal(activityStatus(withTasks('COMPLETE', 'PENDING')), 'IN_PROGRESS');
    assert.equal(activityStatus(withTasks('COMPLETE', 'COMPLETE')), 'COMPLETE');
    assert.equal(activityStatus(withTasks('COMPLETE', 'ERROR')), 'ERROR');
  });
});

describe('extension model: activity entries kept current by events', () => {
  it('puts a task event under its activity and never moves a task back in status', () => {
    const entries = new ActivityEntries();
    entries.applyActivity(activityView({ id: 'a1', tasks: [taskView({ id: 't1', activityId: 'a1' })] }));
    entries.applyTask(taskView({ id: 't1', activityId: 'a1', status: 'COMPLETE' }));
    assert.equal(entries.applyTask(taskView({ id: 't1', activityId: 'a1', status: 'IN_PROGRESS' })), false);
    assert.equal(entries.findTask('t1')?.status, 'COMPLETE');
    assert.equal(entries.list().length, 1);
  });

  it('keeps the more advanced task status when a listing crosses an event', () => {
    const entries = new ActivityEntries();
    entries.applyTask(taskView({ id: 't1', status: 'COMPLETE' }));
    entries.replace([{ type: 'task', at: NOW, task: taskView({ id: 't1', status: 'PENDING' }) }], false);
    assert.equal(entries.findTask('t1')?.status, 'COMPLETE');
  });

  it('leaves automated tasks out unless they are displayed', () => {
    const hidden = new ActivityEntries();
    assert.equal(hidden.applyTask(taskView({ id: 's1', kind: 'sync-users', name: 'Sync users', automated: true })), false);
    assert.equal(hidden.list().length, 0);
    const shown = new ActivityEntries();
    shown.replace([], true);
    assert.equal(shown.applyTask(taskView({ id: 's1', kind: 'sync-users', name: 'Sync users', automated: true })), true);
    assert.equal(shown.list().length, 1);
  });

  it('keeps only the newest entries beyond its bound', () => {
    const entries = new ActivityEntries({ maxEntries: 3 });
    for (let index = 0; index < 5; index++) entries.applyTask(taskView({ id: `t${index}`, createdAt: NOW + index }));
    assert.deepEqual(
      entries.list().map((entry) => (entry.type === 'task' ? entry.task.id : '')),
      ['t4', 't3', 't2'],
    );
  });
});
