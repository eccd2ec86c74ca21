import { microsoftFailureError } from '../errors/microsoftFailureError';
import type { TenantSync } from '../services/tenantSync';
import type { TaskHandler } from './taskRunner';

/** "Update AD cache": every user of the tenant read again, whatever the delta link says. */
export function updateAdCacheTask(sync: TenantSync): TaskHandler {
  return async (task) => {
    const outcome = await sync.sync(task.tenantId ?? '', { full: true, taskId: task.id, source: 'task' });
    if (!outcome.ok) throw microsoftFailureError(outcome.failure);
    return `Read all ${outcome.users} users from Microsoft 365.`;
  };
}
