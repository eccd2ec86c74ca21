import type { Store } from '../store/store';
import type { StoredActivity, StoredTask } from '../store/storeTypes';

export type TimelineEntry =
  | { type: 'activity'; at: number; activity: StoredActivity }
  | { type: 'task'; at: number; task: StoredTask };

export interface TimelineQuery {
  tenantId?: string | undefined;
  /** The poller's own tasks too, not only management tasks. */
  includeAutomated: boolean;
  limit?: number | undefined;
  /** Only these tenants' entries (a restricted engineer's), chosen before the limit is applied. */
  tenantIds?: readonly string[] | undefined;
}

const defaultLimit = 200;

/**
 * What the Activity view lists: activities with their tasks, and the tasks not already shown under an
 * activity, newest first. A refresh's tasks are automated, yet always appear under their activity.
 */
export class ActivityTimeline {
  constructor(private readonly store: Store) {}

  async list(query: TimelineQuery): Promise<TimelineEntry[]> {
    const limit = query.limit ?? defaultLimit;
    const filter = { ...(query.tenantId ? { tenantId: query.tenantId } : {}), ...(query.tenantIds ? { tenantIds: query.tenantIds } : {}) };
    const activities = await this.store.listActivities({ ...filter, limit });
    const shownUnderActivity = new Set(activities.flatMap((activity) => activity.taskIds));
    const tasks = (await this.store.listTasks({ ...filter, includeAutomated: query.includeAutomated, limit })).filter(
      (task) => !shownUnderActivity.has(task.id),
    );
    const entries: TimelineEntry[] = [
      ...activities.map((activity) => ({ type: 'activity' as const, at: activity.at, activity })),
      ...tasks.map((task) => ({ type: 'task' as const, at: task.createdAt, task })),
    ];
    return entries.sort((a, b) => b.at - a.at).slice(0, limit);
  }
}
