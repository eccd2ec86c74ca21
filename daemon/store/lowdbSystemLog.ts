import { randomUUID } from 'node:crypto';
import type { Low } from 'lowdb';
import type { Clock } from '../clock';
import { redactSecrets, redactText } from '../logging/redactSecrets';
import type { DurableJsonFile } from './durableJsonFile';
import { JournaledFile, SeqJournal } from './seqJournal';
import { systemLogEntrySchema, type SystemLogFile } from './storeSchema';
import type { StoreEventEmitter } from './storeEventEmitter';
import type { SystemLogEntry, SystemLogInput, SystemLogLevel, SystemLogQuery } from './storeTypes';

const LEVEL_RANK: Readonly<Record<SystemLogLevel, number>> = { info: 0, warn: 1, error: 2 };

export const SYSTEM_LOG_JOURNAL_FILE_NAME = 'system-log.journal';

/** `system-log.journal`: the entries written since `system-log.json` was, numbered as the log numbers them. */
export type SystemLogJournal = SeqJournal<SystemLogEntry>;

export const SystemLogJournal = {
  open: (path: string) => SeqJournal.open(path, { schema: systemLogEntrySchema, seqOf: (entry: SystemLogEntry) => entry.seq }),
};

export interface LowdbSystemLogInit {
  db: Low<SystemLogFile>;
  file: DurableJsonFile<SystemLogFile>;
  journal: SystemLogJournal;
  clock: Clock;
  events: StoreEventEmitter;
  assertOpen: () => void;
  /** Starts the checkpoint timer unless it is running: the file takes the journal's entries then. */
  scheduleCheckpoint: () => void;
  maxEntries: number;
}

/**
 * The bounded system log, in its own file (`system-log.json`): the oldest entries rotate out. An entry is
 * durable after one append to the log's journal (`SeqJournal`); the file, up to 5,000 entries (2.5 MB),
 * takes them at the next checkpoint. It was rewritten whole for each entry: in an outage at 1,000 tenants,
 * an entry for each tenant's failure, 200 MB in 40 seconds.
 */
export class LowdbSystemLog {
  readonly file: DurableJsonFile<SystemLogFile>;
  readonly journal: SystemLogJournal;
  readonly #init: LowdbSystemLogInit;
  readonly #stored: JournaledFile<SystemLogFile, SystemLogEntry>;

  constructor(init: LowdbSystemLogInit) {
    this.#init = init;
    this.file = init.file;
    this.journal = init.journal;
    this.#stored = new JournaledFile(init.db, init.file, init.journal);
  }

  /** Whether entries are in the journal that the file does not hold yet. */
  get lazy(): boolean {
    return this.#stored.lazy;
  }

  /**
   * Puts back, on open, the entries the journal holds that the file was not written with since, and
   * empties the journal of those it does hold. Returns how many were put back.
   */
  replayJournal(entries: readonly SystemLogEntry[]): number {
    const log = this.#init.db.data;
    const known = new Set(log.entries.map((entry) => entry.id));
    let replayed = 0;
    for (const entry of entries) {
      if (entry.seq < this.#stored.durableSeq || known.has(entry.id)) continue;
      log.entries.push(entry);
      log.nextSeq = Math.max(log.nextSeq, entry.seq + 1);
      replayed++;
    }
    this.#trim();
    if (replayed > 0) this.#stored.markLazy();
    this.journal.foldedBelow(this.#stored.durableSeq);
    return replayed;
  }

  /** Writes the file with every entry, and empties the journal of them. */
  save(): Promise<void> {
    return this.#stored.save();
  }

  #trim(): void {
    const { entries } = this.#init.db.data;
    if (entries.length > this.#init.maxEntries) entries.splice(0, entries.length - this.#init.maxEntries);
  }

  async appendSystemLog(input: SystemLogInput): Promise<SystemLogEntry> {
    const { db, clock, events } = this.#init;
    this.#init.assertOpen();
    const log = db.data;
    const entry: SystemLogEntry = {
      id: randomUUID(),
      seq: log.nextSeq++,
      at: clock.now(),
      level: input.level,
      message: redactText(input.message),
      code: input.code ?? null,
      errorId: input.errorId ?? null,
      source: input.source ?? null,
      taskId: input.taskId ?? null,
      tenantId: input.tenantId ?? null,
      details: input.details ? (redactSecrets(input.details) as Record<string, unknown>) : null,
    };
    log.entries.push(entry);
    this.#trim();
    this.#init.scheduleCheckpoint();
    await this.#stored.saveRecord(() => entry);
    events.emit({ type: 'log', entry: structuredClone(entry) });
    return structuredClone(entry);
  }

  async querySystemLog(query: SystemLogQuery = {}): Promise<SystemLogEntry[]> {
    const out: SystemLogEntry[] = [];
    const limit = query.limit ?? 200;
    const least = LEVEL_RANK[query.level ?? 'info'];
    const among = query.tenantIds === undefined ? null : new Set(query.tenantIds);
    const entries = this.#init.db.data.entries;
    for (let i = entries.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = entries[i] as SystemLogEntry;
      if (LEVEL_RANK[entry.level] < least) continue;
      if (query.taskId !== undefined && entry.taskId !== query.taskId) continue;
      if (query.tenantId !== undefined && entry.tenantId !== query.tenantId) continue;
      if (among !== null && (entry.tenantId === null || !among.has(entry.tenantId))) continue;
      out.push(entry);
    }
    return structuredClone(out);
  }
}
