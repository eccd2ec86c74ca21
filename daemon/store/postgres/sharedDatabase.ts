import type pg from 'pg';
import { withoutPassword } from '../../config';
import { AppError } from '../../errors/AppError';
import type { Logger } from '../../logging/logger';
import { POSTGRES_MIGRATIONS } from './migrationList';
import { migrate } from './migrations';
import { postgresDriver } from './postgresDriver';

/** The team's PostgreSQL database, as one daemon holds it: a pool of connections, migrated at open. */
export interface SharedDatabase {
  readonly pool: pg.Pool;
  /** The connection string without its password, for logs and messages. */
  readonly label: string;
  close(): Promise<void>;
}

export interface SharedDatabaseOptions {
  logger: Logger;
  /** Connections this daemon keeps at most (LISTEN holds one more of its own). */
  maxConnections?: number;
}

/**
 * Connects to the shared database and brings its schema up to date. An unreachable database or a failed
 * migration stops the daemon with a message naming the database (never its password).
 */
export async function openSharedDatabase(url: string, options: SharedDatabaseOptions): Promise<SharedDatabase> {
  const label = String(withoutPassword(url));
  const { Pool } = await postgresDriver();
  const pool = new Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle connection dropped by the server must not crash the daemon; the pool replaces it.
  pool.on('error', (error) => options.logger.warn('a shared database connection failed', { database: label, error: error.message }));
  try {
    const { applied, version } = await migrate(pool, POSTGRES_MIGRATIONS);
    options.logger.info('shared database ready', { database: label, schemaVersion: version, applied });
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (error instanceof AppError) throw error;
    throw new AppError({
      status: 500,
      code: 'STORE_UNREADABLE',
      message: `Cannot use the shared database ${label}: ${(error as Error).message}`,
      details: { database: label },
      cause: error,
    });
  }
  return { pool, label, close: () => pool.end() };
}
