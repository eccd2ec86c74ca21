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

/** PostgreSQL's answer when an insert meets a unique key: another daemon (or call) got there first. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}
