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
export function checkStoreValue<T>(path: string, schema: z.ZodType<T>, value: unknown, problem: string): T {
  if (typeof value === 'object' && value !== null && 'schemaVersion' in value) {
    const version = (value as { schemaVersion: unknown }).schemaVersion;
    if (typeof version === 'number' && version > STORE_SCHEMA_VERSION) {
      throw new AppError({
        status: 500,
        code: 'STORE_SCHEMA_TOO_NEW',
        message:
          `${path} was written by a newer m365-status (store schema ${version}; this one understands up to ` +
          `${STORE_SCHEMA_VERSION}). Upgrade m365-status, or set M365_STATUS_DATA_DIR to another directory.`,
        details: { file: path, schemaVersion: version, supported: STORE_SCHEMA_VERSION },
      });
    }
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue ? issue.path.map(String).join('.') : '';
  throw storeUnreadable(path, `${problem}${field ? ` at "${field}"` : ''}: ${issue?.message ?? 'invalid'}`);
}
