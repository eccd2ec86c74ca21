import { randomUUID } from 'node:crypto';
import type { Low } from 'lowdb';
import type { Clock } from '../clock';
import { redactSecrets, redactText } from '../logging/redactSecrets';
import type { DurableJsonFile } from './durableJsonFile';
import type { SystemLogFile } from './storeSchema';
import type { StoreEventEmitter } from './storeEventEmitter';
import type { SystemLogEntry, SystemLogInput, SystemLogLevel, SystemLogQuery } from './storeTypes';

const LEVEL_RANK: Readonly<Record<SystemLogLevel, number>> = { info: 0, warn: 1, error: 2 };

export interface LowdbSystemLogInit {
  db: Low<SystemLogFile>;
  file: DurableJsonFile<SystemLogFile>;
  clock: Clock;
  events: StoreEventEmitter;
  assertOpen: () => void;
  maxEntries: number;
}

/** The bounded system log, in its own file (`system-log.json`): the oldest entries rotate out. */
export class LowdbSystemLog {
  readonly file: DurableJsonFile<SystemLogFile>;
  readonly #init: LowdbSystemLogInit;

  constructor(init: LowdbSystemLogInit) {
    this.#init = init;
    this.file = init.file;
  }

  async appendSystemLog(input: SystemLogInput): Promise<SystemLogEntry> {
    const { db, clock, events, maxEntries } = this.#init;
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
    if (log.entries.length > maxEntries) log.entries.splice(0, log.entries.length - maxEntries);
    await db.write();
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
