import type pg from 'pg';
import type { Clock } from '../../clock';
import type { PostgresTransaction } from './postgresTransaction';

/** What the shared store's sections (tenants, users, tasks and activities, system log) share. */
export interface PostgresContext {
  readonly pool: pg.Pool;
  readonly clock: Clock;
  /** Refuses a change once the store is closing (503). */
  assertOpen(): void;
  /** Runs `work` in one transaction; what it publishes is announced once it commits. */
  transaction<T>(work: (tx: PostgresTransaction) => Promise<T>): Promise<T>;
}
