import { randomUUID } from 'node:crypto';
import { AppError } from '../errors/AppError';
import { clonePlain } from './clonePlain';
import type { LowdbContext } from './lowdbContext';
import type {
  ActivityQuery,
  NewActivity,
  NewTask,
  RecordedRefresh,
  RefreshDecision,
  StoredActivity,
  StoredTask,
  StoredTenant,
  StoreEvent,
  TaskQuery,
  TaskStatus,
} from './storeTypes';

const FINISHED: ReadonlySet<TaskStatus> = new Set(['COMPLETE', 'ERROR']);

export interface LowdbTasksOptions {
  /** Finished automated tasks kept per tenant and kind; older ones are dropped. */
  automatedTaskRetention: number;
  activityRetention: number;
}

/** Tasks and activities, kept in the main file. */
export class LowdbTasks {
  readonly #context: LowdbContext;
  readonly #options: LowdbTasksOptions;
  /**
   * Finished automated tasks by series (tenant and kind), built from the task list when first needed and
   * kept with it from then on; null when tasks were finished outside `#moveTask` and it must be built again.
   */
  #series: Map<string, StoredTask[]> | null = null;

  constructor(context: LowdbContext, options: LowdbTasksOptions) {
    this.#context = context;
    this.#options = options;
  }

  async recordActivity(input: NewActivity, tasks: readonly NewTask[] = []): Promise<{ activity: StoredActivity; tasks: StoredTask[] }> {
    const { main } = this.#context;
    this.#context.assertOpen();
    if (input.tenantId !== null) main.requireTenant(input.tenantId);
    const recorded = this.#record(input, tasks);
    await this.#context.saveMainChange({ activities: [recorded.activity], tasks: recorded.tasks });
    this.#emitRecorded(input, recorded.activity, recorded.tasks);
    return clonePlain(recorded);
  }

  // Deciding and recording happen in one synchronous step, before the first await: no other refresh of
  // any tenant can run in between, so simultaneous clicks cannot each see "no previous refresh".
  async recordRefresh(
    tenantId: string,
    decide: (latestRefreshTasks: readonly StoredTask[], tenant: StoredTenant) => RefreshDecision,
  ): Promise<RecordedRefresh> {
    const { main } = this.#context;
    this.#context.assertOpen();
    const tenant = main.requireTenant(tenantId);
    const decision = decide(clonePlain(this.#latestRefreshTasks(tenantId)), clonePlain(tenant));
    const input: NewActivity = {
      ...decision.activity,
      tenantId,
      blockedByTaskId: decision.outcome === 'already-requested' ? decision.earlierTask.id : null,
    };
    const recorded = this.#record(input, decision.outcome === 'queued' ? decision.tasks.map((task) => ({ ...task, tenantId })) : []);
    await this.#context.saveMainChange({ activities: [recorded.activity], tasks: recorded.tasks });
    this.#emitRecorded(input, recorded.activity, recorded.tasks);
    const { activity, tasks } = clonePlain(recorded);
    return decision.outcome === 'queued'
      ? { outcome: 'queued', activity, tasks }
      : { outcome: 'already-requested', activity, earlierTask: clonePlain(decision.earlierTask) };
  }

  async queueTask(input: NewTask): Promise<StoredTask> {
    this.#context.assertOpen();
    if (input.tenantId !== null) this.#context.main.requireTenant(input.tenantId);
    const task = this.pushTask(input, null);
    await this.#saveTask(task);
    return clonePlain(task);
  }

  async beginTask(input: NewTask): Promise<StoredTask> {
    this.#context.assertOpen();
    if (input.tenantId !== null) this.#context.main.requireTenant(input.tenantId);
    const task = this.pushTask(input, null);
    task.status = 'IN_PROGRESS';
    task.startedAt = task.createdAt;
    await this.#saveTask(task);
    return clonePlain(task);
  }

  startTask(taskId: string): Promise<StoredTask> {
    return this.#moveTask(taskId, 'PENDING', (task) => {
      task.status = 'IN_PROGRESS';
      task.startedAt = this.#context.clock.now();
    });
  }

  completeTask(taskId: string, description?: string): Promise<StoredTask> {
    return this.#moveTask(taskId, 'IN_PROGRESS', (task) => {
      task.status = 'COMPLETE';
      task.finishedAt = this.#context.clock.now();
      if (description !== undefined) task.description = description;
    });
  }

  failTask(taskId: string, error: { code: string; message: string; errorId?: string }): Promise<StoredTask> {
    return this.#moveTask(taskId, ['PENDING', 'IN_PROGRESS'], (task) => {
      task.status = 'ERROR';
      task.finishedAt = this.#context.clock.now();
      task.error = { code: error.code, message: error.message, errorId: error.errorId ?? null };
    });
  }

  async failInterruptedTasks(reason: string): Promise<StoredTask[]> {
    const { main } = this.#context;
    this.#context.assertOpen();
    const at = this.#context.clock.now();
    const interrupted = main.data.tasks.filter((task) => task.status === 'IN_PROGRESS');
    for (const task of interrupted) {
      task.status = 'ERROR';
      task.finishedAt = at;
      task.error = { code: 'INTERRUPTED', message: reason, errorId: null };
    }
    if (interrupted.length === 0) return [];
    this.#series = null;
    await this.#context.saveMainChange({ tasks: interrupted });
    this.#context.events.emit(...interrupted.map((task): StoreEvent => ({ type: 'task', task: clonePlain(task) })));
    return clonePlain(interrupted);
  }

  /** Fails the tenant's PENDING tasks in memory, for its removal; the caller writes and emits them. */
  failPendingTasksOf(tenantId: string, at: number): StoredTask[] {
    const failed: StoredTask[] = [];
    for (const task of this.#context.main.data.tasks) {
      if (task.tenantId === tenantId && task.status === 'PENDING') {
        Object.assign(task, {
          status: 'ERROR',
          finishedAt: at,
          error: { code: 'TENANT_REMOVED', message: 'The tenant was removed before this task ran.', errorId: null },
        } satisfies Partial<StoredTask>);
        failed.push(task);
      }
    }
    if (failed.length > 0) this.#series = null;
    return failed;
  }

  async getTask(taskId: string): Promise<StoredTask | undefined> {
    const task = this.#context.main.findTask(taskId);
    return task ? clonePlain(task) : undefined;
  }

  async listTasks(query: TaskQuery = {}): Promise<StoredTask[]> {
    const out: StoredTask[] = [];
    const limit = query.limit ?? 100;
    const among = query.tenantIds === undefined ? null : new Set(query.tenantIds);
    const tasks = this.#context.main.data.tasks;
    for (let i = tasks.length - 1; i >= 0 && out.length < limit; i--) {
      const task = tasks[i] as StoredTask;
      if (task.automated && !query.includeAutomated) continue;
      if (query.tenantId !== undefined && task.tenantId !== query.tenantId) continue;
      if (query.status !== undefined && task.status !== query.status) continue;
      if (among !== null && (task.tenantId === null || !among.has(task.tenantId))) continue;
      out.push(task);
    }
    return clonePlain(out);
  }

  async pendingTasks(): Promise<StoredTask[]> {
    return clonePlain(this.#context.main.data.tasks.filter((task) => task.status === 'PENDING'));
  }

  async listActivities(query: ActivityQuery = {}): Promise<StoredActivity[]> {
    const out: StoredActivity[] = [];
    const limit = query.limit ?? 100;
    const among = query.tenantIds === undefined ? null : new Set(query.tenantIds);
    const activities = this.#context.main.data.activities;
    for (let i = activities.length - 1; i >= 0 && out.length < limit; i--) {
      const activity = activities[i] as StoredActivity;
      if (query.tenantId !== undefined && activity.tenantId !== query.tenantId) continue;
      if (among !== null && (activity.tenantId === null || !among.has(activity.tenantId))) continue;
      out.push(activity);
    }
    return clonePlain(out);
  }

  /** Adds a PENDING task in memory; the caller writes it. */
  pushTask(input: NewTask, activityId: string | null): StoredTask {
    const { main, clock } = this.#context;
    const task: StoredTask = {
      id: randomUUID(),
      seq: main.nextSeq(),
      tenantId: input.tenantId,
      kind: input.kind,
      name: input.name,
      description: input.description,
      status: 'PENDING',
      origin: input.origin,
      automated: input.automated,
      activityId,
      createdAt: clock.now(),
      startedAt: null,
      finishedAt: null,
      error: null,
    };
    main.addTask(task);
    return task;
  }

  /** Adds an activity in memory (marking the tenant managed now if it is management); the caller writes it. */
  pushActivity(input: NewActivity, id: string = randomUUID(), taskIds: string[] = []): StoredActivity {
    const { main, clock } = this.#context;
    const at = clock.now();
    const activity: StoredActivity = {
      id,
      seq: main.nextSeq(),
      tenantId: input.tenantId,
      kind: input.kind,
      name: input.name,
      description: input.description,
      actor: input.actor,
      management: input.management,
      at,
      userId: input.userId ?? null,
      taskIds,
      blockedByTaskId: input.blockedByTaskId ?? null,
    };
    const activities = main.data.activities;
    activities.push(activity);
    if (activities.length > this.#options.activityRetention) activities.splice(0, activities.length - this.#options.activityRetention);
    if (input.management && input.tenantId !== null) {
      const tenant = main.findTenant(input.tenantId);
      if (tenant) tenant.lastManagementActivityAt = Math.max(tenant.lastManagementActivityAt, at);
    }
    return activity;
  }

  /**
   * Puts back, on load, activities a users log holds that `store.json` was not written with before the
   * daemon stopped (numbered from its `nextSeq` on, so newer than all it holds), as `pushActivity` had.
   */
  restoreActivities(restored: readonly StoredActivity[]): void {
    const { main } = this.#context;
    const activities = main.data.activities;
    for (const activity of [...restored].sort((a, b) => a.seq - b.seq)) {
      activities.push(activity);
      main.data.nextSeq = Math.max(main.data.nextSeq, activity.seq + 1);
      if (activity.management && activity.tenantId !== null) {
        const tenant = main.findTenant(activity.tenantId);
        if (tenant) tenant.lastManagementActivityAt = Math.max(tenant.lastManagementActivityAt, activity.at);
      }
    }
    // Tenants put back from the main file's journal came before these, and may be numbered after some of them.
    if (activities.some((activity, i) => i > 0 && (activities[i - 1] as StoredActivity).seq > activity.seq)) activities.sort((a, b) => a.seq - b.seq);
    if (activities.length > this.#options.activityRetention) activities.splice(0, activities.length - this.#options.activityRetention);
  }

  #record(input: NewActivity, tasks: readonly NewTask[]): { activity: StoredActivity; tasks: StoredTask[] } {
    const activityId = randomUUID();
    const queued = tasks.map((task) => this.pushTask(task, activityId));
    const activity = this.pushActivity({ ...input }, activityId, queued.map((t) => t.id));
    return { activity, tasks: queued };
  }

  #emitRecorded(input: NewActivity, activity: StoredActivity, tasks: readonly StoredTask[]): void {
    const tenant = input.tenantId !== null && input.management ? this.#context.main.findTenant(input.tenantId) : undefined;
    this.#context.events.emit(
      ...(tenant ? [{ type: 'tenant', tenant: clonePlain(tenant) } as const] : []),
      { type: 'activity', activity: clonePlain(activity) },
      ...tasks.map((task): StoreEvent => ({ type: 'task', task: clonePlain(task) })),
    );
  }

  /** The tasks queued by the tenant's most recent refresh that queued any, or none. */
  #latestRefreshTasks(tenantId: string): StoredTask[] {
    const tasks = this.#context.main.data.tasks;
    for (let i = tasks.length - 1; i >= 0; i--) {
      const task = tasks[i] as StoredTask;
      if (task.tenantId === tenantId && task.origin === 'refresh') {
        return tasks.filter((t) => t.activityId !== null && t.activityId === task.activityId);
      }
    }
    return [];
  }

  async #moveTask(taskId: string, from: TaskStatus | readonly TaskStatus[], change: (task: StoredTask) => void): Promise<StoredTask> {
    this.#context.assertOpen();
    const task = this.#context.main.findTask(taskId);
    if (!task) throw AppError.notFound('TASK_NOT_FOUND', `No task with id ${taskId}.`, { taskId });
    const allowed: readonly TaskStatus[] = typeof from === 'string' ? [from] : from;
    if (!allowed.includes(task.status)) {
      throw AppError.conflict('TASK_STATE', `Task ${taskId} is ${task.status}, not ${allowed.join(' or ')}.`, { taskId, status: task.status });
    }
    change(task);
    if (FINISHED.has(task.status) && task.automated) this.#pruneAutomated(task);
    await this.#saveTask(task);
    return clonePlain(task);
  }

  // The poller's tasks are bookkeeping: kept in memory at once and written with the main file's next
  // write, so that a quiet sync costs no write (rewriting store.json at every checkpoint for them was most
  // of what an idle daemon wrote). One that failed is written by the next checkpoint; every other task now.
  async #saveTask(task: StoredTask): Promise<void> {
    if (task.origin !== 'poller') await this.#context.saveMainChange({ tasks: [task] });
    else if (task.status === 'ERROR') this.#context.saveMainLater();
    else this.#context.carryMainLater();
    this.#context.events.emit({ type: 'task', task: clonePlain(task) });
  }

  // Automated tasks would otherwise grow the main file by one per sync per tenant for ever. A run of
  // rounds that ended alike ("Delta sync: no changes.") is kept as its newest record, so a quiet tenant
  // holds one record instead of `automatedTaskRetention` copies of the same line. The series comes from
  // its own index, not from a scan of every task: a quiet round then costs the same whatever the task
  // list holds.
  #pruneAutomated(finished: StoredTask): void {
    const sameSeries = this.#seriesOf(finished);
    const dropped = new Set<string>();
    const index = sameSeries.indexOf(finished);
    const previous = index > 0 ? sameSeries[index - 1] : undefined;
    if (previous && endedAlike(previous, finished)) dropped.add(previous.id);
    const kept = sameSeries.filter((t) => !dropped.has(t.id));
    for (const task of kept.slice(0, Math.max(0, kept.length - this.#options.automatedTaskRetention))) dropped.add(task.id);
    if (dropped.size === 0) return;
    this.#series?.set(seriesKey(finished), kept.filter((t) => !dropped.has(t.id)));
    this.#context.main.removeTasks(dropped);
  }

  /** The finished automated tasks of the task's series (tenant and kind), oldest first, the task among them. */
  #seriesOf(finished: StoredTask): StoredTask[] {
    if (this.#series === null) {
      this.#series = new Map();
      for (const task of this.#context.main.data.tasks) {
        if (task !== finished && task.automated && FINISHED.has(task.status)) this.#seriesIn(task).push(task);
      }
    }
    const series = this.#seriesIn(finished);
    if (!series.includes(finished)) {
      // In creation order, as the task list holds them: a task that finished late goes before newer ones.
      let at = series.length;
      while (at > 0 && (series[at - 1] as StoredTask).seq > finished.seq) at--;
      series.splice(at, 0, finished);
    }
    return series;
  }

  #seriesIn(task: StoredTask): StoredTask[] {
    const key = seriesKey(task);
    let series = this.#series?.get(key);
    if (!series) {
      series = [];
      this.#series?.set(key, series);
    }
    return series;
  }
}

function seriesKey(task: StoredTask): string {
  return `${task.tenantId ?? ''}\u0000${task.kind}`;
}

/** Two finished records of the same series that say the same thing: the newer one stands for both. */
function endedAlike(a: StoredTask, b: StoredTask): boolean {
  return a.origin === 'poller' && b.origin === 'poller' && a.status === 'COMPLETE' && b.status === 'COMPLETE' && a.description === b.description;
}
