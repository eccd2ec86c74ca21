import type { Clock } from '../clock';
import type { LowdbMainFile, MainChange } from './lowdbMainFile';
import type { StoreEventEmitter } from './storeEventEmitter';

/** What the file store's sections (tenants, users, tasks and activities, system log) share. */
export interface LowdbContext {
  readonly clock: Clock;
  readonly main: LowdbMainFile;
  readonly events: StoreEventEmitter;
  /** Refuses a change once the store is closing (503). */
  assertOpen(): void;
  /** Bookkeeping in the main file: written with the next real change or at the next checkpoint. */
  saveMainLater(): void;
  /**
   * A change to the main file made in memory just now (in the same synchronous step), durable once this
   * resolves: one append to its journal, the file itself at the next checkpoint.
   */
  saveMainChange(change: MainChange): Promise<void>;
  /**
   * The poller's records of rounds that changed nothing: kept in memory and written with the main file's
   * next write for another reason, or when the store closes, never on their own.
   */
  carryMainLater(): void;
  /** Sync bookkeeping ("as of", last attempt, delta links): `sync-state.json`, at the next checkpoint. */
  saveSyncStateLater(): void;
  /** A failure in background work no caller waits for (a compaction): the daemon log and the system log. */
  reportFailure(error: unknown, where: { tenantId: string; operation: string }): void;
  /** Starts the checkpoint timer unless it is running. */
  scheduleCheckpoint(): void;
}
