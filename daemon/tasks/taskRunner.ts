import type { ErrorCode } from '../../protocol/errorCodes';
import type { Clock, Timer } from '../clock';
import { systemClock } from '../clock';
import { AppError } from '../errors/AppError';
import { handleError } from '../errors/handleError';
import type { Logger } from '../logging/logger';
import type { Store } from '../store/store';
import type { StoredTask } from '../store/storeTypes';

export const INTERRUPTED_BY_RESTART = 'Interrupted by a daemon restart.';
export const INTERRUPTED_BY_SHUTDOWN = 'Interrupted by a daemon shutdown: it did not finish in time.';
export const INTERRUPTED_BY_LOST_DAEMON = 'Interrupted: the daemon running it stopped renewing its lease.';

export interface TaskContext {
  /** Aborted when the daemon shuts down and the task did not finish in time. */
  signal: AbortSignal;
  clock: Clock;
  logger: Logger;
}

/** Does the work of one kind of task; what it returns, if anything, becomes the task's description. */
export type TaskHandler = (task: StoredTask, context: TaskContext) => Promise<string | void>;

export interface TaskRunnerOptions {
  store: Store;
  logger: Logger;
  maxConcurrent: number;
  clock?: Clock;
  /** How often tasks left running by daemons that are gone (shared store) are looked for. */
  recoveryIntervalMs?: number;
}

interface Running {
  task: StoredTask;
  controller: AbortController;
  done: Promise<void>;
  abandoned: boolean;
}

/**
 * Runs queued tasks through the handler registered for their kind: at most `maxConcurrent` at once, and
 * one at a time per tenant (a full resync and a delta sync of the same tenant would race on its users and
 * delta link). Failures end the task in ERROR and go through `handleError`, which keys them in the system
 * log by task id.
 */
export class TaskRunner {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #maxConcurrent: number;
  readonly #handlers = new Map<string, TaskHandler>();
  readonly #running = new Map<string, Running>();
  readonly #busyTenants = new Set<string>();
  #idleWaiters: Array<() => void> = [];
  #unsubscribe: (() => void) | null = null;
  #accepting = false;
  #drainQueued = false;
  /** Drains reading the queue right now: the runner is not idle while one may still launch a task. */
  #draining = 0;
  /** Drains one after another: each claims against the tenants the one before made busy. */
  #drainChain: Promise<void> = Promise.resolve();
  readonly #recoveryIntervalMs: number;
  #recoveryTimer: Timer | null = null;
  /** The look for tasks of daemons that are gone, while it runs: stopping waits for it, not the store. */
  #recovering: Promise<void> | null = null;

  constructor(options: TaskRunnerOptions) {
    this.#store = options.store;
    this.#logger = options.logger.child({ component: 'tasks' });
    this.#clock = options.clock ?? systemClock;
    this.#maxConcurrent = options.maxConcurrent;
    this.#recoveryIntervalMs = options.recoveryIntervalMs ?? 30_000;
  }

  register(kind: string, handler: TaskHandler): void {
    if (this.#handlers.has(kind)) throw new Error(`A handler for task kind "${kind}" is already registered`);
    this.#handlers.set(kind, handler);
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /**
   * At start, before `start()`: a task found IN_PROGRESS belonged to a process that is gone. It ends in
   * ERROR rather than running again, because a half-done task's effects are unknown; ERROR never blocks
   * a new refresh, so the operator (or the next poll) simply asks again.
   */
  async recoverInterruptedTasks(): Promise<StoredTask[]> {
    const interrupted = await this.#store.failInterruptedTasks(INTERRUPTED_BY_RESTART);
    for (const task of interrupted) {
      await this.#store.appendSystemLog({
        level: 'warn',
        message: `"${task.name}" was interrupted by a daemon restart and ended in ERROR.`,
        code: 'INTERRUPTED' satisfies ErrorCode,
        source: 'task',
        taskId: task.id,
        ...(task.tenantId ? { tenantId: task.tenantId } : {}),
      });
    }
    if (interrupted.length > 0) this.#logger.warn('Tasks interrupted by a restart ended in ERROR', { count: interrupted.length });
    return interrupted;
  }

  /** Tasks another daemon sharing the store left IN_PROGRESS when it stopped renewing end in ERROR. */
  async recoverTasksOfGoneDaemons(): Promise<StoredTask[]> {
    const interrupted = await this.#store.failTasksOfGoneDaemons(INTERRUPTED_BY_LOST_DAEMON);
    for (const task of interrupted) {
      await this.#store.appendSystemLog({
        level: 'warn',
        message: `"${task.name}" was interrupted: the daemon running it stopped, and it ended in ERROR.`,
        code: 'INTERRUPTED' satisfies ErrorCode,
        source: 'task',
        taskId: task.id,
        ...(task.tenantId ? { tenantId: task.tenantId } : {}),
      });
    }
    if (interrupted.length > 0) this.#logger.warn('Tasks of a daemon that is gone ended in ERROR', { count: interrupted.length });
    return interrupted;
  }

  /** Runs what is queued now and whatever is queued later. */
  start(): void {
    if (this.#accepting) return;
    this.#accepting = true;
    this.#unsubscribe = this.#store.onDidChange((event) => {
      // A finished task may free its tenant for the next one, also when another daemon ran it.
      if (event.type === 'task' && event.task.origin !== 'poller' && event.task.status !== 'IN_PROGRESS') this.#scheduleDrain();
    });
    this.#scheduleDrain();
    this.#scheduleRecovery();
  }

  #scheduleRecovery(): void {
    if (!this.#accepting) return;
    this.#recoveryTimer = this.#clock.setTimeout(() => {
      this.#recovering = this.recoverTasksOfGoneDaemons()
        .then(
          () => undefined,
          (error: unknown) => this.#logger.error('Could not look for tasks of daemons that are gone', { error }),
        )
        .finally(() => {
          this.#recovering = null;
          // A tenant whose lease this daemon has taken over may have tasks queued while another held it,
          // which no event will announce again.
          this.#scheduleDrain();
          this.#scheduleRecovery();
        });
    }, this.#recoveryIntervalMs);
  }

  /**
   * Stops taking tasks and waits up to `timeoutMs` for running ones. Those still running are aborted and
   * recorded in ERROR, so none is left IN_PROGRESS.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#accepting = false;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#recoveryTimer?.cancel();
    this.#recoveryTimer = null;
    // A look under way finishes first: the store closes after the runner stops, and would cut it short.
    await this.#recovering;
    await this.#drainChain;
    if (this.#running.size === 0) return;
    const finished = Promise.all([...this.#running.values()].map((r) => r.done)).then(() => true);
    const timedOut = this.#clock.sleep(timeoutMs).then(() => false);
    if (await Promise.race([finished, timedOut])) return;
    for (const running of this.#running.values()) {
      running.abandoned = true;
      running.controller.abort(new Error(INTERRUPTED_BY_SHUTDOWN));
      await this.#store
        .failTask(running.task.id, { code: 'INTERRUPTED' satisfies ErrorCode, message: INTERRUPTED_BY_SHUTDOWN })
        .catch((error: unknown) => this.#logger.error('Could not record an interrupted task', { taskId: running.task.id, error }));
    }
  }

  /** Resolves when nothing runs and nothing runnable is queued (tests; orderly shutdown). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      void this.#notifyIfIdle();
    });
  }

  #isBusy(): boolean {
    return this.#running.size > 0 || this.#drainQueued || this.#draining > 0;
  }

  async #isIdle(): Promise<boolean> {
    if (this.#isBusy()) return false;
    const idle = !this.#accepting || (await this.#runnable()).length === 0;
    // The queue was read asynchronously: whatever started meanwhile counts.
    return idle && !this.#isBusy();
  }

  // Store events fire inside the store's own calls; draining on the next microtask keeps handlers from
  // starting in the middle of someone else's store update.
  #scheduleDrain(): void {
    if (this.#drainQueued) return;
    this.#drainQueued = true;
    queueMicrotask(() => {
      this.#drainQueued = false;
      this.#draining++;
      this.#drainChain = this.#drainChain
        .then(() => this.#drain())
        .catch((error: unknown) => this.#logger.error('Could not read the queued tasks', { error }))
        .finally(() => {
          this.#draining--;
          void this.#notifyIfIdle();
        });
    });
  }

  async #runnable(): Promise<StoredTask[]> {
    return (await this.#store.pendingTasks()).filter(
      (task) => !this.#running.has(task.id) && (task.tenantId === null || !this.#busyTenants.has(task.tenantId)),
    );
  }

  // Each task is claimed (started) in the store before it runs: with daemons sharing a store, the claim
  // decides which one runs it.
  async #drain(): Promise<void> {
    while (this.#accepting && this.#running.size < this.#maxConcurrent) {
      const task = await this.#store.claimNextTask([...this.#busyTenants]);
      if (!task) return;
      this.#launch(task);
    }
  }

  #launch(task: StoredTask): void {
    const running: Running = { task, controller: new AbortController(), done: Promise.resolve(), abandoned: false };
    this.#running.set(task.id, running);
    if (task.tenantId !== null) this.#busyTenants.add(task.tenantId);
    running.done = this.#run(running).finally(() => {
      this.#running.delete(task.id);
      if (task.tenantId !== null) this.#busyTenants.delete(task.tenantId);
      this.#scheduleDrain();
    });
  }

  async #run(running: Running): Promise<void> {
    const { task } = running;
    const context = { source: 'task' as const, taskId: task.id, ...(task.tenantId ? { tenantId: task.tenantId } : {}), operation: task.name };
    const sinks = { logger: this.#logger, systemLog: this.#store };
    const handler = this.#handlers.get(task.kind);
    try {
      if (!handler) {
        throw new AppError({ status: 500, code: 'NO_TASK_HANDLER', message: `This daemon cannot run "${task.name}" tasks (kind ${task.kind}).` });
      }
      const description = await handler(task, { signal: running.controller.signal, clock: this.#clock, logger: this.#logger.child({ taskId: task.id }) });
      if (running.abandoned) return;
      await this.#store.completeTask(task.id, typeof description === 'string' ? description : undefined);
    } catch (error) {
      if (running.abandoned) return;
      const handled = handleError(error, context, sinks);
      await this.#store
        .failTask(task.id, { code: handled.code, message: handled.message, errorId: handled.errorId })
        .catch((storeError: unknown) => this.#logger.error('Could not record a failed task', { taskId: task.id, error: storeError }));
    }
  }

  async #notifyIfIdle(): Promise<void> {
    if (this.#idleWaiters.length === 0) return;
    const idle = await this.#isIdle().catch((error: unknown) => {
      this.#logger.error('Could not read the queued tasks', { error });
      return false;
    });
    if (!idle) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
