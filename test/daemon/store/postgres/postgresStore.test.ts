import { createLogger } from '../../../../daemon/logging/logger';
import { PostgresStore } from '../../../../daemon/store/postgres/postgresStore';
import type { SharedDatabase } from '../../../../daemon/store/postgres/sharedDatabase';
import { openSharedDatabase } from '../../../../daemon/store/postgres/sharedDatabase';
import { startPostgres, type PostgresServer } from '../../../support/postgresServer';
import type { StoreUnderTest } from '../storeContract';
import { describeStoreContract } from '../storeContract';

const logger = createLogger({ write: () => undefined });

/**
 * A fresh database per test; what is durable is what another daemon, on a connection pool of its own,
 * reads from it.
 */
function postgresStorage(server: () => PostgresServer): () => Promise<StoreUnderTest> {
  return async () => {
    const url = await server().createDatabase();
    const databases: SharedDatabase[] = [];
    const stores: PostgresStore[] = [];
    let open: PostgresStore | null = null;
    const openOn = async (options: Parameters<StoreUnderTest['open']>[0]): Promise<PostgresStore> => {
      const database = await openSharedDatabase(url, { logger, maxConnections: 4 });
      databases.push(database);
      const store = await PostgresStore.open({ pool: database.pool, logger, clock: options.clock, ...pick(options) });
      stores.push(store);
      return store;
    };
    return {
      async open(options) {
        await open?.close();
        open = await openOn(options);
        return open;
      },
      openDurable: openOn,
      async cleanup() {
        for (const store of stores) await store.close();
        for (const database of databases) await database.close();
      },
    };
  };
}

function pick(options: Parameters<StoreUnderTest['open']>[0]): { systemLogMaxEntries?: number; automatedTaskRetention?: number } {
  return {
    ...(options.systemLogMaxEntries !== undefined ? { systemLogMaxEntries: options.systemLogMaxEntries } : {}),
    ...(options.automatedTaskRetention !== undefined ? { automatedTaskRetention: options.automatedTaskRetention } : {}),
  };
}

describe('PostgresStore', function () {
  this.timeout(60_000);
  let server: PostgresServer;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  describeStoreContract('PostgresStore (PostgreSQL)', postgresStorage(() => server));
});
