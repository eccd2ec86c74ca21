import type { SystemLogEntryView, TenantView } from '../../protocol/daemonApi';

export interface SystemLogFilter {
  taskId?: string;
  tenantId?: string;
  level?: 'info' | 'warn' | 'error';
}

/** The title of the read-only document that shows a filtered system log. */
export function systemLogTitle(filter: SystemLogFilter, tenantName?: string): string {
  if (filter.taskId) return `System log — task ${filter.taskId}`;
  const parts = [filter.tenantId ? (tenantName ?? filter.tenantId) : undefined, filter.level ? `${filter.level} entries` : undefined].filter(Boolean);
  return parts.length > 0 ? `System log — ${parts.join(', ')}` : 'System log';
}

/**
 * The daemon's system log as plain text, one entry a line, newest first: time, level, tenant, task id,
 * code, message. Plain text in a read-only editor, so nothing a tenant sent can become markup.
 */
export function systemLogDocument(entries: readonly SystemLogEntryView[], filter: SystemLogFilter, tenants: readonly TenantView[]): string {
  const names = new Map(tenants.map((tenant) => [tenant.id, tenant.displayName]));
  const header = [
    `# ${systemLogTitle(filter, filter.tenantId ? names.get(filter.tenantId) : undefined)}`,
    `# ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, newest first${filter.taskId ? `; task id ${filter.taskId}` : ''}`,
    '',
  ];
  if (entries.length === 0) return [...header, filter.taskId ? 'No system log entries for this task.' : 'No system log entries.'].join('\n');
  const lines = [...entries]
    .sort((a, b) => b.at - a.at)
    .map((entry) => {
      const where = [
        entry.tenantId ? `tenant=${oneLine(names.get(entry.tenantId) ?? entry.tenantId)}` : undefined,
        entry.taskId ? `task=${entry.taskId}` : undefined,
        entry.code ? `code=${entry.code}` : undefined,
      ].filter(Boolean);
      return `${new Date(entry.at).toISOString()} ${entry.level.toUpperCase().padEnd(5)} ${where.join(' ')}${where.length ? ' ' : ''}${oneLine(entry.message)}`;
    });
  return [...header, ...lines, ''].join('\n');
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}
