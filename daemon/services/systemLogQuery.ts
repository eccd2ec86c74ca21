import type { Store } from '../store/store';
import type { SystemLogEntry, SystemLogLevel } from '../store/storeTypes';

export interface SystemLogFilter {
  taskId?: string | undefined;
  tenantId?: string | undefined;
  /** The least severe level returned: `warn` returns warnings and errors. */
  level?: SystemLogLevel | undefined;
  limit?: number | undefined;
  /** Only these tenants' entries (a restricted engineer's), chosen before the limit is applied. */
  tenantIds?: readonly string[] | undefined;
}

const defaultLimit = 200;

/** Reads the bounded system log, newest first, for the operator and for a failed task's entries. */
export class SystemLogQuery {
  constructor(private readonly store: Store) {}

  async entries(filter: SystemLogFilter): Promise<SystemLogEntry[]> {
    return this.store.querySystemLog({
      ...(filter.taskId !== undefined ? { taskId: filter.taskId } : {}),
      ...(filter.tenantId !== undefined ? { tenantId: filter.tenantId } : {}),
      ...(filter.level ? { level: filter.level } : {}),
      ...(filter.tenantIds !== undefined ? { tenantIds: filter.tenantIds } : {}),
      limit: filter.limit ?? defaultLimit,
    });
  }
}
