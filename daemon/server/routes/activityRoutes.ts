import { Router } from 'express';
import { logListQuerySchema, taskListQuerySchema, type TaskListEntry } from '../../../protocol/daemonApi';
import type { DaemonServices } from '../daemonServices';

/** Management tasks with their activities, and the system log. */
export function activityRoutes(services: DaemonServices): Router {
  const { store, views } = services;
  const router = Router();

  router.get('/tasks', async (request, response) => {
    const query = taskListQuerySchema.parse(request.query);
    const limit = query.limit ?? 200;
    const includeAutomated = query.automated === 'true';
    const filter = query.tenantId ? { tenantId: query.tenantId } : {};
    const activities = await store.listActivities({ ...filter, limit });
    const shownUnderActivity = new Set(activities.flatMap((a) => a.taskIds));
    const tasks = (await store.listTasks({ ...filter, includeAutomated, limit })).filter((task) => !shownUnderActivity.has(task.id));
    const entries: TaskListEntry[] = [
      ...(await Promise.all(activities.map(async (activity) => ({ type: 'activity' as const, at: activity.at, activity: await views.activity(activity) })))),
      ...tasks.map((task) => ({ type: 'task' as const, at: task.createdAt, task: views.task(task) })),
    ]
      .sort((a, b) => b.at - a.at)
      .slice(0, limit);
    response.json({ entries });
  });

  router.get('/logs', async (request, response) => {
    const query = logListQuerySchema.parse(request.query);
    const entries = (await store.querySystemLog({ ...query, limit: query.limit ?? 200 })).map((entry) => views.logEntry(entry));
    response.json({ entries });
  });

  return router;
}
