import type { Clock, Timer } from '../clock';
import { handleError, type ErrorSinks } from '../errors/handleError';
import { microsoftFailureError } from '../errors/microsoftFailureError';
import { isDisconnecting } from '../microsoft/microsoftFailure';
import type { Store } from '../store/store';
import type { NewTask } from '../store/storeTypes';
import { TASK_KINDS } from '../tasks/taskKinds';
import type { TenantStatusService } from './tenantStatusService';
import type { SyncOutcome, TenantSync } from './tenantSync';

export interface PollerOptions {
  store: Store;
  sync: TenantSync;
  status: TenantStatusService;
  clock: Clock;
  /** Where a failure no sync outcome accounts for is reported (the daemon log and the system log). */
  sinks: ErrorSinks;
  maxConcurrent: number;
  /**
   * Each wait is shortened by up to this fraction of the interval, so tenants registered together drift
   * apart while none waits longer than its interval.
   */
  jitterRatio: number;
  /** A number in [0, 1); injected so tests can pin the jitter. */
  random?: () => number;
  /** How often statuses that change with time alone (STALE, INACTIVE, DORMANT) are re-derived. */
  statusTickMs?: number;
  /**
   * How long this daemon's hold on its tenants lasts without renewal (renewed three times as often):
   * with a shared store, another daemon takes them once it has passed. By default the store's
   * (`--tenant-lease`), else 30 s.
   */
  leaseMs?: number;
  /**
   * Daemons share the store: statuses are re-derived only for the tenants this daemon holds, as their
   * syncs are, so each tenant's status is looked after by one daemon instead of all.
   */
  sharedStore?: boolean;
}

const firstRetryMs = 2_000;
const defaultLeaseMs = 30_000;

/** The task a scheduled round runs as: automated, so the Tasks view shows it only when asked. */
export function scheduledSyncTask(tenantId: string): NewTask {
  return {
    tenantId,
    kind: TASK_KINDS.syncUsers.kind,
    name: TASK_KINDS.syncUsers.name,
    description: 'Scheduled delta sync of sign-in state.',
    origin: 'poller',
    automated: true,
  };
}

/**
 * Syncs every tenant on its own schedule (its status decides the interval), at most `maxConcurrent` at
 * once, so one slow or failing tenant never delays the others. Failures back off: as Graph asks when it
 * throttles, exponentially with jitter when it fails, at the normal pace when the credentials are wrong.
 * Each sync is recorded as an automated task. With daemons sharing a store, each syncs only the tenants
 * it holds a lease on (`Store.renewTenantLeases`), renewed while it runs.
 */
export class Poller {
  private readonly timers = new Map<string, Timer>();
  /** Tenants with a sync scheduled or running: a new tenant is one not in here. */
  private readonly known = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly waiting: Array<() => void> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Status ticks and lease renewals running: stopping waits for them too, as the store closes next. */
  private readonly upkeep = new Set<Promise<void>>();
  private running = 0;
  private statusTimer: Timer | null = null;
  private stopped = true;
  private unsubscribe: (() => void) | null = null;
  /** The tenants this daemon holds at the last renewal: the ones it syncs. */
  private held: ReadonlySet<string> = new Set();
  /** Tenants that appeared after the last renewal began: their first run renews before deciding. */
  private readonly newSinceRenewal = new Set<string>();
  private leaseTimer: Timer | null = null;
  /** Tenants known at start whose first run has not finished yet. */
  private readonly firstRoundLeft = new Set<string>();
  private firstRoundDone: () => void = () => undefined;
  /** Resolves once every tenant known at start has had its first run (or the poller stopped). */
  readonly firstRound: Promise<void> = new Promise((resolve) => {
    this.firstRoundDone = resolve;
  });

  constructor(private readonly options: PollerOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    // Listening first: a tenant registered while the list is read is scheduled once, not missed.
    this.unsubscribe = this.options.store.onDidChange((event) => {
      if (event.type === 'tenant-removed') this.cancel(event.tenantId);
      if (event.type === 'tenant' && !this.known.has(event.tenant.id) && !this.stopped) {
        this.newSinceRenewal.add(event.tenant.id);
        this.schedule(event.tenant.id, 0);
      }
    });
    await this.renewLeases();
    this.tickStatuses();
    // The first round starts at once: until it has run, every tenant shows as of before the restart.
    for (const tenant of await this.options.store.listTenants()) {
      if (!this.known.has(tenant.id) && !this.stopped) {
        this.firstRoundLeft.add(tenant.id);
        this.schedule(tenant.id, 0);
      }
    }
    this.endOfFirstRun();
  }

  /** Whether this daemon held the tenant at its last lease renewal: the tenants it syncs and looks after. */
  holds(tenantId: string): boolean {
    return this.held.has(tenantId);
  }

  /** Sync this tenant as soon as a slot is free (after registration, rotation or a refresh). */
  syncSoon(tenantId: string): void {
    if (!this.stopped) this.schedule(tenantId, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.statusTimer?.cancel();
    this.leaseTimer?.cancel();
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
    this.known.clear();
    for (const release of this.waiting.splice(0)) release();
    this.firstRoundLeft.clear();
    this.endOfFirstRun();
    await Promise.allSettled([...this.inFlight, ...this.upkeep]);
  }

  /** Resolves when no sync is running or waiting for a slot (for tests and shutdown). */
  async whenIdle(): Promise<void> {
    // A sync asked for "soon" (a tenant just registered, rotated or refreshed) starts on a timer of no
    // delay: one turn of the real timers first, so that it has started and is waited for too.
    await new Promise((resolve) => setTimeout(resolve, 0));
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private cancel(tenantId: string): void {
    this.timers.get(tenantId)?.cancel();
    this.timers.delete(tenantId);
    this.failures.delete(tenantId);
    this.known.delete(tenantId);
    this.endOfFirstRun(tenantId);
  }

  private endOfFirstRun(tenantId?: string): void {
    if (tenantId !== undefined) this.firstRoundLeft.delete(tenantId);
    if (this.firstRoundLeft.size === 0) this.firstRoundDone();
  }

  private schedule(tenantId: string, delayMs: number): void {
    this.known.add(tenantId);
    this.timers.get(tenantId)?.cancel();
    this.timers.set(
      tenantId,
      this.options.clock.setTimeout(() => {
        this.timers.delete(tenantId);
        const run = this.run(tenantId);
        this.inFlight.add(run);
        void run.finally(() => this.inFlight.delete(run));
      }, delayMs),
    );
  }

  private async run(tenantId: string): Promise<void> {
    await this.acquire();
    try {
      if (this.stopped || !(await this.options.store.readTenant(tenantId))) return;
      if (!this.held.has(tenantId) && this.newSinceRenewal.has(tenantId)) await this.renewLeases();
      if (!this.held.has(tenantId)) {
        // Another daemon syncs it; this one looks again at the tenant's pace, in case the lease moves.
        if (!this.stopped && !this.timers.has(tenantId)) this.schedule(tenantId, this.jitter((await this.options.status.current(tenantId)).pollIntervalMs));
        return;
      }
      const outcome = await this.syncAsTask(tenantId);
      if (!this.stopped && (await this.options.store.readTenant(tenantId)) && !this.timers.has(tenantId)) {
        this.schedule(tenantId, await this.nextDelay(tenantId, outcome));
      }
    } catch (error) {
      handleError(error, { source: 'poller', tenantId, operation: 'poll' }, this.options.sinks);
      if (!this.stopped && (await this.options.store.readTenant(tenantId))) this.schedule(tenantId, this.jitter((await this.options.status.current(tenantId)).pollIntervalMs));
    } finally {
      this.release();
      this.endOfFirstRun(tenantId);
    }
  }

  private async syncAsTask(tenantId: string): Promise<SyncOutcome> {
    const { store } = this.options;
    const task = await store.beginTask(scheduledSyncTask(tenantId));
    const outcome = await this.options.sync.sync(tenantId, { source: 'poller', taskId: task.id });
    if (!(await store.readTenant(tenantId))) return outcome;
    if (outcome.ok) {
      const { changes: summary } = outcome;
      const changes = summary.added + summary.changed + summary.removed;
      await store.completeTask(task.id, `${outcome.fullRound ? 'Full sync' : 'Delta sync'}: ${changes === 0 ? 'no changes' : `${changes} change${changes === 1 ? '' : 's'}`}${summary.locksCleared.length > 0 ? `, ${summary.locksCleared.length} lock(s) cleared outside m365-status` : ''}.`);
    } else {
      const { code, message } = microsoftFailureError(outcome.failure);
      await store.failTask(task.id, { code, message });
    }
    return outcome;
  }

  private async nextDelay(tenantId: string, outcome: SyncOutcome): Promise<number> {
    const interval = (await this.options.status.current(tenantId)).pollIntervalMs;
    if (outcome.ok) {
      this.failures.delete(tenantId);
      return this.jitter(interval);
    }
    const failure = outcome.failure;
    const count = (this.failures.get(tenantId) ?? 0) + 1;
    this.failures.set(tenantId, count);
    if (failure.retryAfterMs !== null) return Math.max(failure.retryAfterMs, 500);
    if (isDisconnecting(failure.category)) return this.jitter(interval);
    const backoff = Math.min(interval, firstRetryMs * 2 ** (count - 1));
    // Full jitter over the upper half, so failing tenants do not retry in lockstep.
    return Math.round(backoff / 2 + this.random() * (backoff / 2));
  }

  /**
   * The interval less a random part of its last `jitterRatio`: the interval is the longest a tenant waits,
   * which is what lets a change made in Microsoft 365 show within it.
   */
  private jitter(ms: number): number {
    return Math.max(0, Math.round(ms * (1 - this.options.jitterRatio * this.random())));
  }

  private random(): number {
    return (this.options.random ?? Math.random)();
  }

  /** Renews this daemon's leases; a tenant it has just taken is synced soon. */
  private async renewLeases(): Promise<void> {
    const leaseMs = this.options.leaseMs ?? this.options.store.tenantLeaseMs ?? defaultLeaseMs;
    this.leaseTimer?.cancel();
    this.newSinceRenewal.clear();
    try {
      const before = this.held;
      this.held = await this.options.store.renewTenantLeases(leaseMs);
      for (const tenantId of this.held) {
        if (!before.has(tenantId) && this.known.has(tenantId) && !this.stopped && this.timers.has(tenantId)) this.schedule(tenantId, 0);
      }
    } catch (error) {
      handleError(error, { source: 'poller', operation: 'renew tenant leases' }, this.options.sinks);
    } finally {
      // Renewals may overlap (a new tenant's first run renews at once): one timer stays.
      this.leaseTimer?.cancel();
      if (!this.stopped) this.leaseTimer = this.options.clock.setTimeout(() => this.keepUp(this.renewLeases()), Math.max(1, Math.floor(leaseMs / 3)));
    }
  }

  private tickStatuses(): void {
    if (this.stopped) return;
    this.statusTimer = this.options.clock.setTimeout(() => {
      this.keepUp(
        this.options.status.updateAll(this.options.sharedStore ? (tenantId) => this.held.has(tenantId) : undefined).then(
          () => this.tickStatuses(),
          (error: unknown) => {
            handleError(error, { source: 'poller', operation: 'update tenant statuses' }, this.options.sinks);
            this.tickStatuses();
          },
        ),
      );
    }, this.options.statusTickMs ?? 15_000);
  }

  /** Tracks work of the poller's own timers (it handles its own failures) until it ends. */
  private keepUp(work: Promise<void>): void {
    this.upkeep.add(work);
    void work.finally(() => this.upkeep.delete(work));
  }

  private acquire(): Promise<void> {
    if (this.running < this.options.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => {
      this.running++;
      resolve();
    }));
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
