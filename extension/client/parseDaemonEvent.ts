import type { DaemonEvent } from '../../protocol/daemonApi';

const objectFields: Readonly<Record<DaemonEvent['type'], readonly string[]>> = {
  tenant: ['tenant'],
  'tenant-removed': [],
  users: ['users', 'removedUserIds'],
  'users-reloaded': [],
  activity: ['activity'],
  task: ['task'],
  log: ['entry'],
  consent: ['consent'],
};

/**
 * One `data:` payload of the event stream, or undefined for anything this version does not know, so a
 * newer daemon with a new event type does not break an older extension.
 */
export function parseDaemonEvent(data: string): DaemonEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== 'string' || !Object.hasOwn(objectFields, type)) return undefined;
  const required = objectFields[type as DaemonEvent['type']];
  if (!required.every((field) => typeof record[field] === 'object' && record[field] !== null)) return undefined;
  if (type === 'tenant-removed' && typeof record.tenantId !== 'string') return undefined;
  if ((type === 'users' || type === 'users-reloaded') && typeof record.tenantId !== 'string') return undefined;
  return value as DaemonEvent;
}
