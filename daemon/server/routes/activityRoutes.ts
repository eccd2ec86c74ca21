import { Router } from 'express';
import { logListQuerySchema, taskListQuerySchema, type TaskListEntry } from '../../../protocol/daemonApi';
import type { DaemonServices } from '../daemonServices';

/** Management tasks with their activities, and the system log. */
export function activityRoutes(services: DaemonServices): Router {
  const { views } = services;
  const router = Router();

  router.get('/tasks', async (request, response) => {
    const query = taskListQuerySchema.parse(request.query);
    const timeline = await services.timeline.list({ tenantId: query.tenantId, includeAutomated: query.automated === 'true', limit: query.limit });
    const entries: TaskListEntry[] = await Promise.all(
      timeline.map(async (entry): Promise<TaskListEntry> =>
        entry.type === 'activity'
          ? { type: 'activity', at: entry.at, activity: await views.activity(entry.activity) }
          : { type: 'task', at: entry.at, task: views.task(entry.task) },
      ),
    );
    response.json({ entries });
  });

  router.get('/logs', async (request, response) => {
    const query = logListQuerySchema.parse(request.query);
    const entries = (await services.systemLog.entries(query)).map((entry) => views.logEntry(entry));
    response.json({ entries });
  });

  return router;
}
