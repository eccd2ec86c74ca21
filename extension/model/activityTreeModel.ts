import type { ActivityView, TaskStatusName, TaskView } from '../../protocol/daemonApi';
import { clockTime, relativeTime } from '../../webview/relativeTime';
import { COMMANDS } from '../common/commandTable';
import { markdownText } from '../common/markdownText';
import type { StatusModel } from './statusModel';
import type { TreeRow } from './treeRow';

export type ActivityNode =
  | { readonly kind: 'activity'; readonly id: string; readonly activityId: string }
  | { readonly kind: 'task'; readonly id: string; readonly taskId: string; readonly activityId: string | null }
  | { readonly kind: 'taskError'; readonly id: string; readonly taskId: string; readonly activityId: string | null }
  | { readonly kind: 'blockedBy'; readonly id: string; readonly activityId: string; readonly taskId: string };

/** What an activity's tasks add up to: the worst that happened, else how far they got. */
export type ActivityStatus = TaskStatusName | 'RECORDED';

export const TASK_STATUS_ICONS: Readonly<Record<ActivityStatus, { id: string; color?: string }>> = {
  PENDING: { id: 'clock' },
  IN_PROGRESS: { id: 'sync~spin' },
  COMPLETE: { id: 'check', color: 'testing.iconPassed' },
  ERROR: { id: 'error', color: 'list.errorForeground' },
  RECORDED: { id: 'note' },
};

const STATUS_WORDS: Readonly<Record<ActivityStatus, string>> = {
  PENDING: 'pending',
  IN_PROGRESS: 'in progress',
  COMPLETE: 'complete',
  ERROR: 'error',
  RECORDED: 'recorded',
};

export function activityStatus(activity: ActivityView): ActivityStatus {
  const statuses = activity.tasks.map((task) => task.status);
  if (statuses.length === 0) return 'RECORDED';
  if (statuses.includes('ERROR')) return 'ERROR';
  if (statuses.includes('IN_PROGRESS')) return 'IN_PROGRESS';
  if (statuses.includes('PENDING')) return statuses.every((status) => status === 'PENDING') ? 'PENDING' : 'IN_PROGRESS';
  return 'COMPLETE';
}

/**
 * The Activity tree without `vscode`: activities and tasks newest first, each activity with the tasks it
 * queued (or the earlier task that made new ones unnecessary), and a failed task with a row leading to
 * its system log entries.
 */
export class ActivityTreeModel {
  readonly #nodes = new Map<string, ActivityNode>();

  constructor(
    private readonly model: StatusModel,
    private readonly now: () => number = Date.now,
  ) {}

  roots(): ActivityNode[] {
    this.#nodes.clear();
    return this.model.activity
      .list()
      .map((entry) =>
        entry.type === 'activity'
          ? this.#node({ kind: 'activity', id: `activity/${entry.activity.id}`, activityId: entry.activity.id })
          : this.#node({ kind: 'task', id: `task/${entry.task.id}`, taskId: entry.task.id, activityId: null }),
      );
  }

  children(node: ActivityNode): ActivityNode[] {
    if (node.kind === 'activity') {
      const activity = this.#activity(node.activityId);
      if (!activity) return [];
      const tasks = activity.tasks.map((task) =>
        this.#node({ kind: 'task', id: `task/${activity.id}/${task.id}`, taskId: task.id, activityId: activity.id }),
      );
      if (activity.blockedByTaskId) {
        tasks.push(this.#node({ kind: 'blockedBy', id: `blocked/${activity.id}`, activityId: activity.id, taskId: activity.blockedByTaskId }));
      }
      return tasks;
    }
    if (node.kind === 'task' && this.#task(node)?.status === 'ERROR') {
      return [this.#node({ kind: 'taskError', id: `error/${node.id}`, taskId: node.taskId, activityId: node.activityId })];
    }
    return [];
  }

  #node(node: ActivityNode): ActivityNode {
    const existing = this.#nodes.get(node.id);
    if (existing) return existing;
    this.#nodes.set(node.id, node);
    return node;
  }

  #activity(activityId: string): ActivityView | undefined {
    return this.model.activity.findActivity(activityId);
  }

  #task(node: { taskId: string; activityId: string | null }): TaskView | undefined {
    if (node.activityId) return this.#activity(node.activityId)?.tasks.find((task) => task.id === node.taskId);
    return this.model.activity.findTask(node.taskId);
  }

  #tenantName(tenantId: string | null): string | undefined {
    return tenantId === null ? undefined : (this.model.tenant(tenantId)?.displayName ?? tenantId);
  }

  row(node: ActivityNode): TreeRow {
    const now = this.now();
    switch (node.kind) {
      case 'activity': {
        const activity = this.#activity(node.activityId);
        if (!activity) return { id: node.id, label: node.activityId, collapsible: 'none' };
        const status = activityStatus(activity);
        const tenant = this.#tenantName(activity.tenantId);
        const state = activity.blockedByTaskId ? 'earlier task still counts' : status === 'RECORDED' ? undefined : STATUS_WORDS[status];
        const description = [state, tenant, relativeTime(activity.at, now)]
          .filter((part): part is string => Boolean(part))
          .join(' · ');
        const tooltip = [
          `**${markdownText(activity.name)}**${tenant ? ` — ${markdownText(tenant)}` : ''}`,
          '',
          markdownText(activity.description),
          '',
          `By ${markdownText(activity.actor)}, ${clockTime(activity.at)} (${relativeTime(activity.at, now)})`,
        ].join('\n');
        return {
          id: node.id,
          label: activity.name,
          description,
          tooltip,
          contextValue: `activity:${status}`,
          icon: TASK_STATUS_ICONS[status],
          collapsible: activity.tasks.length > 0 || activity.blockedByTaskId ? (status === 'ERROR' ? 'expanded' : 'collapsed') : 'none',
        };
      }
      case 'task': {
        const task = this.#task(node);
        if (!task) return { id: node.id, label: node.taskId, collapsible: 'none' };
        return taskRow(node.id, task, node.activityId === null ? this.#tenantName(task.tenantId) : undefined, now);
      }
      case 'taskError': {
        const task = this.#task(node);
        const message = task?.error?.message ?? 'The task failed.';
        return {
          id: node.id,
          label: message,
          description: 'show its system log entries',
          tooltip: `${markdownText(message)}\n\nClick to show the system log entries of task \`${markdownText(node.taskId)}\`.`,
          icon: { id: 'output', color: 'list.errorForeground' },
          collapsible: 'none',
          contextValue: 'taskError',
          command: { id: COMMANDS.showSystemLog.id, title: COMMANDS.showSystemLog.title, args: [{ taskId: node.taskId }] },
        };
      }
      case 'blockedBy': {
        const task = this.model.activity.findTask(node.taskId);
        const label = task ? `Earlier task: ${task.name}` : `Earlier task ${node.taskId}`;
        const description = task ? `${STATUS_WORDS[task.status]} · ${relativeTime(task.createdAt, now)}` : undefined;
        return {
          id: node.id,
          label,
          description,
          tooltip: 'A refresh within the dedup window found this earlier task pending, in progress or complete, so it queued no new tasks.',
          icon: { id: 'link' },
          collapsible: 'none',
          contextValue: 'blockedBy',
        };
      }
    }
  }
}

export function taskRow(id: string, task: TaskView, tenantName: string | undefined, now: number): TreeRow {
  const description = [STATUS_WORDS[task.status], task.automated ? 'automated' : undefined, tenantName, relativeTime(task.finishedAt ?? task.startedAt ?? task.createdAt, now)]
    .filter((part): part is string => Boolean(part))
    .join(' · ');
  const times = [`Queued ${clockTime(task.createdAt)}`];
  if (task.startedAt !== null) times.push(`started ${clockTime(task.startedAt)}`);
  if (task.finishedAt !== null) times.push(`finished ${clockTime(task.finishedAt)}`);
  const tooltip = [`**${markdownText(task.name)}** — ${task.status}`, '', markdownText(task.description), '', times.join(', ')];
  if (task.error) tooltip.push('', `Error \`${markdownText(task.error.code)}\`: ${markdownText(task.error.message)}`);
  tooltip.push('', `Task id \`${markdownText(task.id)}\``);
  return {
    id,
    label: task.name,
    description,
    tooltip: tooltip.join('\n'),
    contextValue: `task:${task.status}`,
    icon: TASK_STATUS_ICONS[task.status],
    collapsible: task.status === 'ERROR' ? 'collapsed' : 'none',
  };
}
