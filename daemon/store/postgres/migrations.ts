import type pg from 'pg';
import { AppError } from '../../errors/AppError';

/** One step of the shared database's schema, applied once, in order, in its own transaction. */
export interface Migration {
  /** Ascending: a migration is never renumbered or edited once released; a change is a new migration. */
  version: number;
  name: string;
  sql: string;
}

export interface MigrationResult {
  /** Versions applied by this call, in order (empty when the schema was already current). */
  applied: number[];
  /** The schema version the database has now. */
  version: number;
}

/** Any daemon may start first: this key serialises their migrations across processes and machines. */
const MIGRATION_LOCK_KEY = 0x6d333635; // "m365"

/**
 * Brings the database's schema up to the newest of `migrations`, at start, safely when several daemons
 * start at once: a session advisory lock lets one migrate while the others wait, then find nothing left
 * to do. A database migrated by a newer daemon (a version this one does not know) is refused rather than
 * used with a schema this daemon does not understand.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[]): Promise<MigrationResult> {
  checkOrdered(migrations);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      const known = new Set(migrations.map((migration) => migration.version));
      const newest = migrations.at(-1)?.version ?? 0;
      const unknown = rows.find((row) => !known.has(row.version) && row.version > newest);
      if (unknown) {
        throw new AppError({
          status: 500,
          code: 'STORE_SCHEMA_TOO_NEW',
          message: `The shared database is at schema version ${unknown.version}, newer than this daemon knows (${newest}): upgrade this daemon.`,
          details: { databaseVersion: unknown.version, daemonVersion: newest },
        });
      }
      const done = new Set(rows.map((row) => row.version));
      const applied: number[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new AppError({
            status: 500,
            code: 'STORE_MIGRATION_FAILED',
            message: `Migration ${migration.version} (${migration.name}) of the shared database failed: ${(error as Error).message}`,
            details: { version: migration.version },
            cause: error,
          });
        }
        applied.push(migration.version);
      }
      return { applied, version: Math.max(newest, ...rows.map((row) => row.version)) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

function checkOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    const previous = migrations[index - 1];
    if (!Number.isInteger(migration.version) || migration.version < 1 || (previous && migration.version <= previous.version)) {
      throw new Error(`migration ${migration.name} has version ${migration.version}: versions are whole numbers from 1, each above the one before`);
    }
  });
}
