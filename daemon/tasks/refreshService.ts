import type { Clock } from '../clock';
import type { TenantStatusService } from '../services/tenantStatusService';
import type { Store } from '../store/store';
import type { RecordedRefresh, RefreshDecision, StoredTask, StoredTenant, TaskStatus } from '../store/storeTypes';
import { TASK_KINDS } from './taskKinds';

export const REFRESH_ACTIVITY_NAME = 'Updating account status';

// As in MSP portals, refresh tasks are shown only with "Display automated tasks"; the activity is what the
// operator sees, and it names the tasks it queued.
const REFRESH_TASKS_ARE_AUTOMATED = true;

export type RefreshResult = RecordedRefresh;

export interface RefreshServiceOptions {
  store: Store;
  clock: Clock;
  /** A previous refresh younger than this, unless it ended in ERROR, makes new tasks unnecessary. */
  dedupWindowMs: number;
  status: TenantStatusService;
}

/**
 * The refresh button, following the refresh behaviour MSP portals established. Every click records an "Updating
 * account status" activity (the button is never disabled). It queues "Update AD cache" and "Check
 * account status" unless the tenant's previous refresh was queued within the dedup window and is
 * PENDING, IN_PROGRESS or COMPLETE; then the activity names that earlier task and nothing is queued.
 * A previous refresh in ERROR does not block.
 */
export class RefreshService {
  readonly #options: RefreshServiceOptions;

  constructor(options: RefreshServiceOptions) {
    this.#options = options;
  }

  async refresh(tenantId: string, actor: string): Promise<RefreshResult> {
    const { store, clock, dedupWindowMs } = this.#options;
    // Deciding and queueing must be one step per tenant, or simultaneous clicks (from this daemon or
    // another sharing the store) would all see "no previous refresh" and each queue a pair: the store
    // decides and records as one step per tenant.
    const result = await store.recordRefresh(tenantId, (latest, tenant) => refreshDecision(tenant, latest, actor, clock.now(), dedupWindowMs));

    // A refresh is management activity: an INACTIVE or DORMANT tenant is ACTIVE again from now, and the
    // answer already says so.
    await this.#options.status.update(tenantId);
    return result;
  }
}

/** What one click records, given the tenant's latest refresh tasks: the pure rule behind `refresh`. */
export function refreshDecision(
  tenant: StoredTenant,
  latestRefreshTasks: readonly StoredTask[],
  actor: string,
  now: number,
  dedupWindowMs: number,
): RefreshDecision {
  const earlier = blockingTask(latestRefreshTasks, now, dedupWindowMs);
  if (earlier) {
    return {
      outcome: 'already-requested',
      activity: {
        kind: 'refresh',
        name: REFRESH_ACTIVITY_NAME,
        description:
          `An earlier refresh is ${describeStatus(earlier.status)}: "${earlier.name}" (task ${earlier.id}, queued ` +
          `${new Date(earlier.createdAt).toISOString()}). No new task was added.`,
        actor,
        management: true,
      },
      earlierTask: earlier,
    };
  }
  const target = `${tenant.displayName} (${tenant.tenantIdOrDomain})`;
  return {
    outcome: 'queued',
    activity: {
      kind: 'refresh',
      name: REFRESH_ACTIVITY_NAME,
      description: `Queued "${TASK_KINDS.updateAdCache.name}" and "${TASK_KINDS.checkAccountStatus.name}" for ${target}.`,
      actor,
      management: true,
    },
    tasks: [TASK_KINDS.updateAdCache, TASK_KINDS.checkAccountStatus].map(({ kind, name }) => ({
      kind,
      name,
      description: `Requested by ${actor} through refresh.`,
      origin: 'refresh' as const,
      automated: REFRESH_TASKS_ARE_AUTOMATED,
    })),
  };
}

/**
 * The task that makes a new refresh unnecessary, or undefined. A refresh's pair shares one status for
 * this rule: ERROR if either task failed, else the least advanced of the two. The window counts from when
 * the earlier refresh was queued.
 */
export function blockingTask(previous: readonly StoredTask[], now: number, windowMs: number): StoredTask | undefined {
  if (previous.length === 0) return undefined;
  const queuedAt = Math.min(...previous.map((task) => task.createdAt));
  if (now - queuedAt >= windowMs) return undefined;
  if (previous.some((task) => task.status === 'ERROR')) return undefined;
  return (
    previous.find((task) => task.status === 'IN_PROGRESS') ??
    previous.find((task) => task.status === 'PENDING') ??
    previous[0]
  );
}

function describeStatus(status: TaskStatus): string {
  switch (status) {
    case 'PENDING':
      return 'waiting to run (PENDING)';
    case 'IN_PROGRESS':
      return 'already running (IN_PROGRESS)';
    case 'COMPLETE':
      return 'recent and complete (COMPLETE)';
    case 'ERROR':
      return 'in error (ERROR)';
  }
}
