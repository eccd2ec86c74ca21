import type { z } from 'zod';
import { AppError } from '../errors/AppError';
import { STORE_SCHEMA_VERSION } from './storeSchema';

/** A store file that cannot be read as it is: the daemon refuses to start rather than lose what it holds. */
export function storeUnreadable(path: string, problem: string, cause?: unknown): AppError {
  return new AppError({
    status: 500,
    code: 'STORE_UNREADABLE',
    message: `${path} ${problem}, so the daemon will not start rather than lose what it holds. Restore it from a backup, or move it aside to start without it.`,
    details: { file: path },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * A value read from a store file, checked against its schema: one of a newer store schema is refused as such,
 * any other that does not fit is refused naming the file, the problem and the first field at fault.
 */
export function checkStoreValue<T>(path: string, schema: z.ZodType<T>, value: unknown, problem: string, supported = STORE_SCHEMA_VERSION): T {
  if (typeof value === 'object' && value !== null && 'schemaVersion' in value) {
    const version = (value as { schemaVersion: unknown }).schemaVersion;
    if (typeof version === 'number' && version > supported) {
      throw new AppError({
        status: 500,
        code: 'STORE_SCHEMA_TOO_NEW',
        message:
          `${path} was written by a newer m365-status (store schema ${version}; this one understands up to ` +
          `${supported}). Upgrade m365-status, or set M365_STATUS_DATA_DIR to another directory.`,
        details: { file: path, schemaVersion: version, supported },
      });
    }
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = closestIssue(parsed.error.issues[0]);
  const field = issue ? issue.path.map(String).join('.') : '';
  throw storeUnreadable(path, `${problem}${field ? ` at "${field}"` : ''}: ${issue?.message ?? 'invalid'}`);
}

/**
 * The fault to name. Where a value may take one of several forms (a user as a tuple or as an object), it
 * is the fault of the form the value came closest to: the one found deepest in it.
 */
function closestIssue(issue: z.core.$ZodIssue | undefined): z.core.$ZodIssue | undefined {
  if (issue?.code !== 'invalid_union') return issue;
  let closest: z.core.$ZodIssue | undefined;
  for (const [first] of issue.errors) if (first && (!closest || first.path.length > closest.path.length)) closest = first;
  return closest ? closestIssue({ ...closest, path: [...issue.path, ...closest.path] }) : issue;
}
