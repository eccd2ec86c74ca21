import type { ActivityView, TaskListEntry, TaskStatusName, TaskView } from '../../protocol/daemonApi';

const STATUS_RANK: Readonly<Record<TaskStatusName, number>> = { PENDING: 0, IN_PROGRESS: 1, COMPLETE: 2, ERROR: 2 };

export interface ActivityEntriesOptions {
  /** Oldest entries beyond this are let go; the daemon keeps the full history. */
  maxEntries?: number;
}

/**
 * Management tasks and activities, newest first, as `GET /v1/tasks` lists them, kept current by `activity`
 * and `task` events. A task never goes back in status: an event and a listing that cross each other
 * cannot turn a COMPLETE task PENDING again.
 */
export class ActivityEntries {
  readonly #entries = new Map<string, TaskListEntry>();
  readonly #maxEntries: number;
  #includeAutomated = false;

  constructor(options: ActivityEntriesOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 500;
  }

  get includeAutomated(): boolean {
    return this.#includeAutomated;
  }

  /** Replaces everything with a listing; `includeAutomated` says whether the listing asked for them. */
  replace(entries: readonly TaskListEntry[], includeAutomated: boolean): void {
    const previous = new Map(this.#entries);
    this.#includeAutomated = includeAutomated;
    this.#entries.clear();
    for (const entry of entries) {
      const key = entryKey(entry);
      const earlier = previous.get(key);
      this.#entries.set(key, earlier ? newer(earlier, entry) : entry);
    }
    this.#trim();
  }

  list(): TaskListEntry[] {
    return [...this.#entries.values()].sort((a, b) => b.at - a.at || entryKey(b).localeCompare(entryKey(a)));
  }

  findActivity(activityId: string): ActivityView | undefined {
    const entry = this.#entries.get(`activity:${activityId}`);
    return entry?.type === 'activity' ? entry.activity : undefined;
  }

  findTask(taskId: string): TaskView | undefined {
    const own = this.#entries.get(`task:${taskId}`);
    if (own?.type === 'task') return own.task;
    for (const entry of this.#entries.values()) {
      if (entry.type === 'activity') {
        const task = entry.activity.tasks.find((candidate) => candidate.id === taskId);
        if (task) return task;
      }
    }
    return undefined;
  }

  applyActivity(activity: ActivityView): boolean {
    const key = `activity:${activity.id}`;
    const existing = this.#entries.get(key);
    const incoming: TaskListEntry = { type: 'activity', at: activity.at, activity };
    this.#entries.set(key, existing ? newer(existing, incoming) : incoming);
    // Tasks that arrived before their activity were listed on their own; they belong under it now.
    for (const task of activity.tasks) this.#entries.delete(`task:${task.id}`);
    this.#trim();
    return true;
  }

  applyTask(task: TaskView): boolean {
    if (task.activityId !== null) {
      const parent = this.#entries.get(`activity:${task.activityId}`);
      if (parent?.type === 'activity') {
        const tasks = parent.activity.tasks;
        const index = tasks.findIndex((candidate) => candidate.id === task.id);
        if (index >= 0) {
          const current = tasks[index] as TaskView;
          if (STATUS_RANK[task.status] < STATUS_RANK[current.status]) return false;
          const next = [...tasks];
          next[index] = task;
          this.#entries.set(`activity:${parent.activity.id}`, { ...parent, activity: { ...parent.activity, tasks: next } });
        } else {
          this.#entries.set(`activity:${parent.activity.id}`, { ...parent, activity: { ...parent.activity, tasks: [...tasks, task] } });
        }
        return true;
      }
    }
    if (task.automated && !this.#includeAutomated) return false;
    const key = `task:${task.id}`;
    const existing = this.#entries.get(key);
    if (existing?.type === 'task' && STATUS_RANK[task.status] < STATUS_RANK[existing.task.status]) return false;
    this.#entries.set(key, { type: 'task', at: existing?.at ?? task.createdAt, task });
    this.#trim();
    return true;
  }

  #trim(): void {
    if (this.#entries.size <= this.#maxEntries) return;
    for (const entry of this.list().slice(this.#maxEntries)) this.#entries.delete(entryKey(entry));
  }
}

function entryKey(entry: TaskListEntry): string {
  return entry.type === 'activity' ? `activity:${entry.activity.id}` : `task:${entry.task.id}`;
}

function newer(existing: TaskListEntry, incoming: TaskListEntry): TaskListEntry {
  if (existing.type === 'task' && incoming.type === 'task') {
    return STATUS_RANK[incoming.task.status] < STATUS_RANK[existing.task.status] ? existing : incoming;
  }
  if (existing.type === 'activity' && incoming.type === 'activity') {
    // Keep the most advanced status of each task the two know of.
    const known = new Map(existing.activity.tasks.map((task) => [task.id, task]));
    const tasks = incoming.activity.tasks.map((task) => {
      const earlier = known.get(task.id);
      return earlier && STATUS_RANK[task.status] < STATUS_RANK[earlier.status] ? earlier : task;
    });
    for (const task of existing.activity.tasks) if (!tasks.some((candidate) => candidate.id === task.id)) tasks.push(task);
    return { ...incoming, activity: { ...incoming.activity, tasks } };
  }
  return incoming;
}
