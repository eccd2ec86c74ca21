import type pg from 'pg';
import type { StoreEvent } from '../storeTypes';

/**
 * One transaction of the shared store, and the changes it makes: they are announced to the other daemons
 * as it commits and to this daemon's listeners once it has, never for a transaction rolled back.
 */
export class PostgresTransaction {
  readonly events: StoreEvent[] = [];
  readonly #client: pg.PoolClient;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  query<R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<pg.QueryResult<R>> {
    return this.#client.query<R>(sql, params as unknown[] | undefined);
  }

  publish(...events: StoreEvent[]): void {
    this.events.push(...events);
  }
}
