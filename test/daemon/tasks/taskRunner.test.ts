import assert from 'node:assert/strict';
import { systemClock } from '../../../daemon/clock';
import { loadConfig } from '../../../daemon/config';
import { AppError } from '../../../daemon/errors/AppError';
import { createLogger } from '../../../daemon/logging/logger';
import { TenantStatusService } from '../../../daemon/services/tenantStatusService';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import type { StoredTask, StoredTenant } from '../../../daemon/store/storeTypes';
import { RefreshService } from '../../../daemon/tasks/refreshService';
import { TASK_KINDS } from '../../../daemon/tasks/taskKinds';
import { INTERRUPTED_BY_RESTART, INTERRUPTED_BY_SHUTDOWN, TaskRunner } from '../../../daemon/tasks/taskRunner';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';

/** A promise the test resolves by hand, to hold a handler mid-task. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('tasks: TaskRunner', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let store: LowdbStore;
  let runner: TaskRunner | undefined;
  const logLines: string[] = [];
  const logger = createLogger({ write: (line) => logLines.push(line) });

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
    clock = new ManualClock();
    store = await LowdbStore.open({ dataDir: dir, clock });
  });

  afterEach(async () => {
    await runner?.stop(1_000);
    runner = undefined;
    await store.close();
    await cleanup();
  });

  async function addTenant(name: string): Promise<StoredTenant> {
    return store.addTenant({ tenantIdOrDomain: name, appId: 'app', credentialKind: 'secret', by: 'alice' });
  }

  function queue(tenantId: string | null, kind: string): Promise<StoredTask> {
    return store.queueTask({ tenantId, kind, name: kind, description: 'queued', origin: 'operator', automated: false });
  }

  it('runs both refresh tasks through their handlers: one succeeds, one fails into ERROR and the system log', async () => {
    const tenant = await addTenant('contoso.example');
    runner = new TaskRunner({ store, logger, maxConcurrent: 4 });
    runner.register(TASK_KINDS.updateAdCache.kind, async (task) => {
      const summary = await store.applyUserChanges(task.tenantId ?? '', {
        observedAt: clock.now(),
        users: [{ id: 'u1', userPrincipalName: 'u1@contoso.example', displayName: 'U1', accountEnabled: true, onPremisesSyncEnabled: null }],
        deltaLink: 'delta-1',
        fullRound: true,
      });
      return `Resynced: ${summary.added.length} added.`;
    });
    runner.register(TASK_KINDS.checkAccountStatus.kind, async () => {
      throw new AppError({ status: 502, code: 'CREDENTIAL_CHECK_FAILED', message: 'The client secret is not valid. Enter a current one.' });
    });
    runner.start();
    const refreshed = await new RefreshService({ store, clock, dedupWindowMs: 6 * 3_600_000, status: new TenantStatusService(store, loadConfig({ env: {} }), clock) }).refresh(tenant.id, 'alice');
    assert.ok(refreshed.outcome === 'queued');
    await runner.whenIdle();

    const [cache, check] = await Promise.all(refreshed.tasks.map((t) => store.getTask(t.id)));
    assert.equal(cache?.status, 'COMPLETE');
    assert.equal(cache?.description, 'Resynced: 1 added.');
    assert.equal(cache?.startedAt, clock.now());
    assert.equal(cache?.finishedAt, clock.now());
    assert.equal(check?.status, 'ERROR');
    assert.deepEqual([check?.error?.code, check?.error?.message], ['CREDENTIAL_CHECK_FAILED', 'The client secret is not valid. Enter a current one.']);
    const logged = await store.querySystemLog({ taskId: check?.id ?? '' });
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.errorId, check?.error?.errorId);
    assert.equal(logged[0]?.tenantId, tenant.id);
    assert.equal((await store.getUser(tenant.id, 'u1'))?.displayName, 'U1');
  });

  it('runs both tasks of a new refresh even though the previous refresh failed', async () => {
    const tenant = await addTenant('contoso.example');
    const refresher = new RefreshService({ store, clock, dedupWindowMs: 6 * 3_600_000, status: new TenantStatusService(store, loadConfig({ env: {} }), clock) });
    const ran: string[] = [];
    let failNext = true;
    runner = new TaskRunner({ store, logger, maxConcurrent: 2 });
    runner.register(TASK_KINDS.updateAdCache.kind, async (task) => {
      ran.push(task.id);
      if (failNext) throw new Error('socket hang up');
    });
    runner.register(TASK_KINDS.checkAccountStatus.kind, async (task) => {
      ran.push(task.id);
    });
    runner.start();
    const first = await refresher.refresh(tenant.id, 'alice');
    await runner.whenIdle();
    failNext = false;
    const second = await refresher.refresh(tenant.id, 'alice');
    await runner.whenIdle();
    assert.ok(first.outcome === 'queued' && second.outcome === 'queued');
    assert.deepEqual(ran, [...first.tasks, ...second.tasks].map((t) => t.id));
    assert.deepEqual((await Promise.all(second.tasks.map((t) => store.getTask(t.id)))).map((t) => t?.status), ['COMPLETE', 'COMPLETE']);
    const unexpected = await store.getTask(first.tasks[0]?.id ?? '');
    assert.equal(unexpected?.error?.code, 'INTERNAL_ERROR');
    assert.doesNotMatch(unexpected?.error?.message ?? '', /socket hang up/, 'an unexpected error is recorded without its internals');
  });

  it('runs at most maxConcurrent tasks at once, and one at a time per tenant', async () => {
    const tenants = await Promise.all(['a', 'b', 'c', 'd'].map((n) => addTenant(`${n}.example`)));
    const queued = [...tenants.map((t) => queue(t.id, 'work')), queue(tenants[0]?.id ?? '', 'work'), queue(tenants[0]?.id ?? '', 'work')];
    const tasks = await Promise.all(queued);
    const release = gate();
    const full = gate();
    let running = 0;
    let mostAtOnce = 0;
    const perTenant = new Map<string, number>();
    let mostForOneTenant = 0;
    runner = new TaskRunner({ store, logger, maxConcurrent: 3 });
    runner.register('work', async (task) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      if (running === 3) full.open();
      const key = task.tenantId ?? '';
      perTenant.set(key, (perTenant.get(key) ?? 0) + 1);
      mostForOneTenant = Math.max(mostForOneTenant, perTenant.get(key) ?? 0);
      await release.opened;
      perTenant.set(key, (perTenant.get(key) ?? 0) - 1);
      running--;
    });
    runner.start();
    await full.opened;
    // Give the runner every chance to start a fourth: several turns of the event loop, no wall-clock wait.
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(runner.runningCount, 3);
    assert.equal((await store.listTasks({ status: 'IN_PROGRESS' })).length, 3);
    release.open();
    await runner.whenIdle();
    assert.equal(mostAtOnce, 3);
    assert.equal(mostForOneTenant, 1);
    assert.ok((await Promise.all(tasks.map((t) => store.getTask(t.id)))).every((t) => t?.status === 'COMPLETE'));
  });

  it('ends a task of a kind nobody handles in ERROR instead of leaving it queued', async () => {
    const task = await queue(null, 'mystery');
    runner = new TaskRunner({ store, logger, maxConcurrent: 1 });
    runner.start();
    await runner.whenIdle();
    const after = await store.getTask(task.id);
    assert.equal(after?.status, 'ERROR');
    assert.equal(after?.error?.code, 'NO_TASK_HANDLER');
  });

  it('after a restart, ends tasks left IN_PROGRESS in ERROR with the reason, then runs the queued ones', async () => {
    const tenant = await addTenant('contoso.example');
    const interrupted = await queue(tenant.id, 'work');
    await store.startTask(interrupted.id);
    const waiting = await queue(tenant.id, 'work');
    await store.close();

    store = await LowdbStore.open({ dataDir: dir, clock });
    runner = new TaskRunner({ store, logger, maxConcurrent: 1 });
    runner.register('work', async () => 'done');
    const recovered = await runner.recoverInterruptedTasks();
    assert.deepEqual(recovered.map((t) => t.id), [interrupted.id]);
    runner.start();
    await runner.whenIdle();
    assert.deepEqual([(await store.getTask(interrupted.id))?.status, (await store.getTask(interrupted.id))?.error?.message], ['ERROR', INTERRUPTED_BY_RESTART]);
    assert.equal((await store.getTask(waiting.id))?.status, 'COMPLETE');
    assert.equal((await store.querySystemLog({ taskId: interrupted.id }))[0]?.code, 'INTERRUPTED');
  });

  it('at shutdown, aborts a task that does not finish in time and records it in ERROR', async () => {
    const task = await queue(null, 'stuck');
    let aborted = false;
    const started = gate();
    runner = new TaskRunner({ store, logger, maxConcurrent: 1, clock: systemClock });
    runner.register('stuck', (_task, { signal }) => {
      started.open();
      return new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          reject(signal.reason);
        });
      });
    });
    runner.start();
    await started.opened;
    await runner.stop(50);
    assert.equal(aborted, true);
    const after = await store.getTask(task.id);
    assert.deepEqual([after?.status, after?.error?.message], ['ERROR', INTERRUPTED_BY_SHUTDOWN]);
  });

  it('at shutdown, lets a look for tasks of daemons that are gone finish before the store closes', async () => {
    const looking = gate();
    const release = gate();
    let looked = false;
    const look = store.failTasksOfGoneDaemons.bind(store);
    store.failTasksOfGoneDaemons = async () => {
      looking.open();
      await release.opened;
      const failed = await look();
      looked = true;
      return failed;
    };
    runner = new TaskRunner({ store, logger, maxConcurrent: 1, clock, recoveryIntervalMs: 1_000 });
    runner.start();
    clock.advance(1_000);
    await looking.opened;
    let stopped = false;
    const stopping = runner.stop(1_000).then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(stopped, false, 'stop waits for the look under way');
    release.open();
    await stopping;
    assert.equal(looked, true);
    assert.equal(clock.pendingTimers, 0, 'no further look is scheduled');
    assert.deepEqual(logLines.filter((line) => line.includes('daemons that are gone')), []);
  });

  it('stops taking new tasks once stopped', async () => {
    runner = new TaskRunner({ store, logger, maxConcurrent: 1 });
    let ran = 0;
    runner.register('work', async () => {
      ran++;
    });
    runner.start();
    await runner.stop(100);
    const task = await queue(null, 'work');
    await runner.whenIdle();
    assert.equal(ran, 0);
    assert.equal((await store.getTask(task.id))?.status, 'PENDING');
  });
});
