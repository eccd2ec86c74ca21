/**
 * What a command was invoked on: a tree row (`{ kind: 'tenant', tenantId }`), a tenant id from the
 * webview or a link, or nothing (the palette, where the command asks).
 */
export interface CommandTarget {
  tenantId?: string;
  userId?: string;
  taskId?: string;
}

export function commandTarget(arg: unknown): CommandTarget {
  if (typeof arg === 'string') return { tenantId: arg };
  if (typeof arg !== 'object' || arg === null) return {};
  const record = arg as Record<string, unknown>;
  const text = (key: string): string | undefined => (typeof record[key] === 'string' && record[key] !== '' ? (record[key] as string) : undefined);
  const target: CommandTarget = {};
  const tenantId = text('tenantId');
  const userId = text('userId');
  const taskId = text('taskId');
  if (tenantId) target.tenantId = tenantId;
  if (userId) target.userId = userId;
  if (taskId) target.taskId = taskId;
  return target;
}

/** The key under which a second run of the same command on the same row is ignored while one runs. */
export function commandRunKey(commandId: string, arg: unknown): string {
  const target = commandTarget(arg);
  return [commandId, target.tenantId ?? '', target.userId ?? '', target.taskId ?? ''].join('|');
}
