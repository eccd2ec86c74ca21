import type { Clock } from '../clock';
import type { TenantStatusService } from '../services/tenantStatusService';
import type { Store } from '../store/store';
import type { StoredActivity, StoredTask, TaskStatus } from '../store/storeSchema';
import { KeyedMutex } from './keyedMutex';
import { TASK_KINDS } from './taskKinds';

export const REFRESH_ACTIVITY_NAME = 'Updating account status';

// As in MSP portals, refresh tasks are shown only with "Display automated tasks"; the activity is what the
// operator sees, and it names the tasks it queued.
const REFRESH_TASKS_ARE_AUTOMATED = true;

export type RefreshResult =
  | { outcome: 'queued'; activity: StoredActivity; tasks: StoredTask[] }
  | { outcome: 'already-requested'; activity: StoredActivity; earlierTask: StoredTask };

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
  // Deciding and queueing must be one step per tenant, or simultaneous clicks would all see "no
  // previous refresh" and each queue a pair.
  readonly #perTenant = new KeyedMutex();

  constructor(options: RefreshServiceOptions) {
    this.#options = options;
  }

  refresh(tenantId: string, actor: string): Promise<RefreshResult> {
    return this.#perTenant.run(tenantId, () => this.#refresh(tenantId, actor));
  }

  async #refresh(tenantId: string, actor: string): Promise<RefreshResult> {
    const { store, clock, dedupWindowMs } = this.#options;
    const tenant = store.requireTenant(tenantId);
    const now = clock.now();
    const earlier = blockingTask(store.latestRefreshTasks(tenantId), now, dedupWindowMs);

    let result: RefreshResult;
    if (earlier) {
      const { activity } = await store.recordActivity({
        tenantId,
        kind: 'refresh',
        name: REFRESH_ACTIVITY_NAME,
        description:
          `An earlier refresh is ${describeStatus(earlier.status)}: "${earlier.name}" (task ${earlier.id}, queued ` +
          `${new Date(earlier.createdAt).toISOString()}). No new task was added.`,
        actor,
        management: true,
        blockedByTaskId: earlier.id,
      });
      result = { outcome: 'already-requested', activity, earlierTask: earlier };
    } else {
      const target = `${tenant.displayName} (${tenant.tenantIdOrDomain})`;
      const { activity, tasks } = await store.recordActivity(
        {
          tenantId,
          kind: 'refresh',
          name: REFRESH_ACTIVITY_NAME,
          description: `Queued "${TASK_KINDS.updateAdCache.name}" and "${TASK_KINDS.checkAccountStatus.name}" for ${target}.`,
          actor,
          management: true,
        },
        [TASK_KINDS.updateAdCache, TASK_KINDS.checkAccountStatus].map(({ kind, name }) => ({
          tenantId,
          kind,
          name,
          description: `Requested by ${actor} through refresh.`,
          origin: 'refresh' as const,
          automated: REFRESH_TASKS_ARE_AUTOMATED,
        })),
      );
      result = { outcome: 'queued', activity, tasks };
    }

    // A refresh is management activity: an INACTIVE or DORMANT tenant is ACTIVE again from now, and the
    // answer already says so.
    await this.#options.status.update(tenantId);
    return result;
  }
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
