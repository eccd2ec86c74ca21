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
    // Chosen by the store before the limit: a restricted engineer asking for 50 gets 50 when there are.
    const timeline = await services.timeline.list({
      tenantId: query.tenantId,
      includeAutomated: query.automated === 'true',
      limit: query.limit,
      tenantIds: reachable === null ? undefined : [...reachable],
    });
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
    // Entries of no tenant (the daemon's own) are the whole deployment's business, not a restricted
    // engineer's: the store leaves them out of a list of tenants, before the limit.
    const entries = (await services.systemLog.entries({ ...query, tenantIds: reachable === null ? undefined : [...reachable] })).map((entry) => views.logEntry(entry));
    response.json({ entries });
  });

  return router;
}
