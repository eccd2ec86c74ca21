import { Low } from 'lowdb';
import type { z } from 'zod';
import { AppError } from '../errors/AppError';
import type { DurableJsonFile } from './durableJsonFile';
import { STORE_SCHEMA_VERSION } from './storeSchema';

/** Which schema versions of a file this build reads. */
export interface StoreFileVersion {
  /** The version this build writes; a newer one is refused. */
  current: number;
  /** Brings a file of an earlier version up to `current` before its shape is checked. */
  upgrade?: (raw: Record<string, unknown>, from: number) => Record<string, unknown>;
}

/**
 * Opens one store file through lowdb and checks it before anything uses it: its schema version (a newer
 * one is refused, since this build would silently drop what it does not understand and write the rest
 * back; an older one is upgraded where `version` says how) and then its whole shape. A missing file
 * starts from `empty`.
 */
export async function loadStoreFile<T extends { schemaVersion: number }>(
  file: DurableJsonFile<T>,
  schema: z.ZodType<T>,
  empty: () => T,
  version: StoreFileVersion = { current: STORE_SCHEMA_VERSION },
): Promise<Low<T>> {
  const db = new Low<T>(file, empty());
  const raw: unknown = await file.read();
  if (raw === null) return db;

  const found = typeof raw === 'object' && raw !== null ? (raw as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (typeof found !== 'number' || !Number.isInteger(found)) {
    throw new AppError({
      status: 500,
      code: 'STORE_UNREADABLE',
      message: `${file.path} has no schema version, so it was not written by m365-status. Move it aside to start empty.`,
      details: { file: file.path },
    });
  }
  if (found > version.current) {
    throw new AppError({
      status: 500,
      code: 'STORE_SCHEMA_TOO_NEW',
      message:
        `${file.path} was written by a newer m365-status (store schema ${found}; this one understands up to ` +
        `${version.current}). Upgrade m365-status, or set M365_STATUS_DATA_DIR to another directory.`,
      details: { file: file.path, schemaVersion: found, supported: version.current },
    });
  }
  const upgraded = found < version.current && version.upgrade ? version.upgrade(raw as Record<string, unknown>, found) : raw;
  const parsed = schema.safeParse(upgraded);
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
