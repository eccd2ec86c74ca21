import { Router } from 'express';
import { logListQuerySchema, taskListQuerySchema, type TaskListEntry } from '../../../protocol/daemonApi';
import { callerOf } from '../apiCaller';
import type { DaemonServices } from '../daemonServices';
import { reachableTenantIds } from '../tenantScope';

/** Management tasks with their activities, and the system log. */
export function activityRoutes(services: DaemonServices): Router {
  const { views } = services;
  const router = Router();

  router.get('/tasks', async (request, response) => {
    const query = taskListQuerySchema.parse(request.query);
    const reachable = reachableTenantIds(callerOf(request), await services.tenants.list());
    const timeline = (await services.timeline.list({ tenantId: query.tenantId, includeAutomated: query.automated === 'true', limit: query.limit })).filter(
      (entry) => {
        if (reachable === null) return true;
        const tenantId = entry.type === 'activity' ? entry.activity.tenantId : entry.task.tenantId;
        return tenantId !== null && reachable.has(tenantId);
      },
    );
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
    const reachable = reachableTenantIds(callerOf(request), await services.tenants.list());
    // Entries of no tenant (the daemon's own) are the whole deployment's business, not a restricted engineer's.
    const entries = (await services.systemLog.entries(query))
      .filter((entry) => reachable === null || (entry.tenantId !== null && reachable.has(entry.tenantId)))
      .map((entry) => views.logEntry(entry));
    response.json({ entries });
  });

  return router;
}
