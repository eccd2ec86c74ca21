import { Low } from 'lowdb';
import type { z } from 'zod';
import { AppError } from '../errors/AppError';
import type { DurableJsonFile } from './durableJsonFile';
import { STORE_SCHEMA_VERSION } from './storeSchema';

/**
 * Opens one store file through lowdb and checks it before anything uses it: its schema version (a newer
 * one is refused, since this build would silently drop what it does not understand and write the rest
 * back) and then its whole shape. A missing file starts from `empty`.
 */
export async function loadStoreFile<T extends { schemaVersion: number }>(
  file: DurableJsonFile<T>,
  schema: z.ZodType<T>,
  empty: () => T,
): Promise<Low<T>> {
  const db = new Low<T>(file, empty());
  const raw: unknown = await file.read();
  if (raw === null) return db;

  const version = typeof raw === 'object' && raw !== null ? (raw as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    throw new AppError({
      status: 500,
      code: 'STORE_UNREADABLE',
      message: `${file.path} has no schema version, so it was not written by m365-status. Move it aside to start empty.`,
      details: { file: file.path },
    });
  }
  if (version > STORE_SCHEMA_VERSION) {
    throw new AppError({
      status: 500,
      code: 'STORE_SCHEMA_TOO_NEW',
      message:
        `${file.path} was written by a newer m365-status (store schema ${version}; this one understands up to ` +
        `${STORE_SCHEMA_VERSION}). Upgrade m365-status, or set M365_STATUS_DATA_DIR to another directory.`,
      details: { file: file.path, schemaVersion: version, supported: STORE_SCHEMA_VERSION },
    });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issue.path.map(String).join('.') : '';
    throw new AppError({
      status: 500,
      code: 'STORE_INVALID',
      message: `${file.path} does not have the expected shape${field ? ` at "${field}"` : ''}: ${issue?.message ?? 'invalid'}. The daemon will not overwrite it; restore it from a backup or move it aside.`,
      details: { file: file.path, field },
    });
  }
  db.data = parsed.data;
  return db;
}
