import type { Clock } from '../clock';
import { storeMode, type Config } from '../config';
import type { ForegroundRequests } from '../foregroundRequests';
import type { Logger } from '../logging/logger';
import { acquireDataDirLock, type DataDirLock } from './dataDirLock';
import { LowdbStore } from './lowdbStore';
import { PostgresStore } from './postgres/postgresStore';
import { openSharedDatabase, type SharedDatabase } from './postgres/sharedDatabase';
import type { Store } from './store';

/** The store a daemon runs on, and what it holds open for it. */
export interface DaemonStore {
  readonly store: Store;
  /** The shared database in shared mode (for every part kept in it), null in local mode. */
  readonly database: SharedDatabase | null;
  /**
   * Resolves once every tenant's users are in memory; until then only the tenants may be read. Rejects
   * if a users file cannot be read, with the store closed.
   */
  readonly usersLoaded: Promise<void>;
  /** Closes the store, then what it was opened on. */
  close(): Promise<void>;
}

/**
 * Local mode: the file store in the data directory. Shared mode (`--store postgres://…`): the shared
 * database, migrated, and the store in it; the data directory still holds this daemon's own files
 * (`daemon.json`, its log, the vault), so its lock is taken all the same.
 */
export async function openDaemonStore(
  config: Pick<Config, 'store' | 'dataDir' | 'systemLogMaxEntries' | 'checkpointIntervalMs'> & Partial<Pick<Config, 'tenantLeaseMs'>>,
  options: { clock: Clock; logger: Logger; foregroundRequests: ForegroundRequests },
): Promise<DaemonStore> {
  const { clock, logger, foregroundRequests } = options;
  if (storeMode(config) === 'local' || config.store === undefined) {
    const { store, usersLoaded } = await LowdbStore.opening({
      dataDir: config.dataDir,
      clock,
      logger,
      systemLogMaxEntries: config.systemLogMaxEntries,
      checkpointIntervalMs: config.checkpointIntervalMs,
      foregroundRequests,
    });
    return { store, database: null, usersLoaded, close: () => store.close() };
  }
  const lock: DataDirLock = await acquireDataDirLock(config.dataDir, clock.now());
  let database: SharedDatabase | null = null;
  try {
    database = await openSharedDatabase(config.store, { logger });
    const store = await PostgresStore.open({
      pool: database.pool,
      clock,
      logger,
      systemLogMaxEntries: config.systemLogMaxEntries,
      ...(config.tenantLeaseMs === undefined ? {} : { tenantLeaseMs: config.tenantLeaseMs }),
    });
    const opened = database;
    return {
      store,
      database: opened,
      usersLoaded: Promise.resolve(),
      async close() {
        try {
          await store.close();
          await opened.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (error) {
    await database?.close().catch(() => undefined);
    await lock.release();
    throw error;
  }
}
