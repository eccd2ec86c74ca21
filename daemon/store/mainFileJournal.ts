import { constants } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod';
import { PRIVATE_FILE_MODE, syncDirectory } from '../files/writeFileAtomic';
import { APPEND_FLAGS, encodeCheckedLine, readCheckedLines, SYNCHRONOUS_APPENDS } from './checkedLines';
import { activitySchema, taskSchema, tenantSchema } from './storeSchema';
import { checkStoreValue, storeUnreadable } from './storeUnreadable';

export const MAIN_JOURNAL_FILE_NAME = 'store.journal';

const tenantAddedRecordSchema = z.object({ tenantAdded: tenantSchema, activity: activitySchema }).strict();

const changeRecordSchema = z
  .object({
    seq: z.number().int().nonnegative(),
    tenants: z.array(tenantSchema).optional(),
    removedTenantIds: z.array(z.string()).optional(),
    tasks: z.array(taskSchema).optional(),
    activities: z.array(activitySchema).optional(),
  })
  .strict();

const journalRecordSchema = z.union([tenantAddedRecordSchema, changeRecordSchema]);

/** A tenant registered since `store.json` was last written, with the activity that says so. */
export type TenantAddedRecord = z.infer<typeof tenantAddedRecordSchema>;

/**
 * One change to the main file since it was last written, as it left memory: the tenants and tasks it
 * touched as they are now (whole, so that replaying records in order leaves each as the last one says),
 * the tenants it removed, and the activities it added.
 */
export type MainChangeRecord = z.infer<typeof changeRecordSchema>;

export type MainJournalRecord = TenantAddedRecord | MainChangeRecord;

/** The number that tells whether `store.json` holds a record: see `MainFileJournal`. */
export function journalRecordSeq(record: MainJournalRecord): number {
  return 'tenantAdded' in record ? record.activity.seq : record.seq;
}

/**
 * `store.journal`: what changed in the main file since `store.json` was last written, a line each (the
 * format of the users logs: see `checkedLines`), so that a registration, an operator's refresh, a removal
 * or a tenant's new error is durable after one append to a file kept open, where it rewrote the main file,
 * which holds every tenant, task and activity (2 MB at 1,000 tenants) and whose write waits on the event
 * loop and the disk at each of its steps. `store.json` catches up at the next checkpoint, which empties
 * the journal.
 *
 * Which records `store.json` already holds is told by their number, taken from the main file's `nextSeq`
 * (a registration's is its activity's): `store.json` is written with the `nextSeq` of the moment its text
 * was taken, and a change and its record are made in one synchronous step, so a record numbered below the
 * file's `nextSeq` is in it and one numbered from there on is not. The store puts the newer ones back, in
 * order, when it opens. Emptying the journal once the file holds everything is housekeeping, not safety: a
 * record left over from before the last write is skipped by its number, and never replaces a newer state.
 */
export class MainFileJournal {
  readonly path: string;
  readonly #handle: FileHandle;
  #bytes: number;
  /** The highest activity number in the file, -1 when it holds none. */
  #newestSeq: number;
  /** An append failed and may have left part of a record: nothing more is appended until it is emptied. */
  #broken = false;
  #queue: Promise<void> = Promise.resolve();

  private constructor(path: string, handle: FileHandle, bytes: number, newestSeq: number) {
    this.path = path;
    this.#handle = handle;
    this.#bytes = bytes;
    this.#newestSeq = newestSeq;
  }

  /**
   * Reads the journal and opens it for appending, creating it (with its directory entry durable) if it is
   * missing. A torn last record, which a crash in the middle of an append leaves and which was never
   * acknowledged, is left out and cut off; a damaged record before the last refuses to open, naming the file.
   */
  static async open(path: string): Promise<{ journal: MainFileJournal; records: MainJournalRecord[] }> {
    let bytes: Buffer | null = null;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (bytes === null) {
      const handle = await open(path, APPEND_FLAGS | constants.O_CREAT | constants.O_EXCL, PRIVATE_FILE_MODE);
      try {
        await syncDirectory(dirname(path));
      } catch (error) {
        await handle.close();
        throw error;
      }
      return { journal: new MainFileJournal(path, handle, 0, -1), records: [] };
    }
    const { values, validBytes } = readCheckedLines(bytes, (line) => {
      throw storeUnreadable(path, `has a damaged record at line ${line}, before its last one`);
    });
    const records = values.map((value, index) => checkStoreValue(path, journalRecordSchema, value, `has a record of the wrong shape at line ${index + 1}`));
    const handle = await open(path, APPEND_FLAGS, PRIVATE_FILE_MODE);
    try {
      if (validBytes < bytes.length) {
        // Appends after the torn bytes would leave a damaged record before the last.
        await handle.truncate(validBytes);
        await handle.sync();
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    const newestSeq = records.reduce((newest, record) => Math.max(newest, journalRecordSeq(record)), -1);
    return { journal: new MainFileJournal(path, handle, validBytes, newestSeq), records };
  }

  /** Bytes of records appended since it was last emptied. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether appends go through: false after one failed, until the journal is emptied again. */
  get usable(): boolean {
    return !this.#broken;
  }

  /** Resolves once the record is on disk. Records go out in the order they were asked for. */
  append(record: MainJournalRecord): Promise<void> {
    // The record's text as it is now: the tenant goes on changing in memory.
    const line = encodeCheckedLine(record);
    return this.#enqueue(async () => {
      if (this.#broken) throw new Error(`${this.path} could not be written before, and is not appended to until store.json is written again`);
      try {
        const { bytesWritten } = await this.#handle.write(line);
        if (bytesWritten < line.length) throw new Error(`the disk took ${bytesWritten} of ${line.length} bytes appended to ${this.path} (is it full?)`);
        if (!SYNCHRONOUS_APPENDS) await this.#handle.datasync();
      } catch (error) {
        this.#broken = true;
        throw error;
      }
      this.#bytes += line.length;
      this.#newestSeq = Math.max(this.#newestSeq, journalRecordSeq(record));
    });
  }

  /**
   * `store.json` on disk now holds everything numbered below `seq`: the journal is emptied if that is all
   * it holds. A record numbered from `seq` on keeps it as it is, for a later write to empty.
   */
  foldedBelow(seq: number): void {
    if (this.#bytes === 0 && !this.#broken) return;
    this.#enqueue(async () => {
      if (this.#newestSeq >= seq) return;
      // Not synced: should the old size come back after a crash, its records are skipped by their numbers,
      // and the next append's synchronous write carries the new size with it.
      await this.#handle.truncate(0);
      this.#bytes = 0;
      this.#newestSeq = -1;
      this.#broken = false;
    }).catch(() => undefined);
  }

  /** Resolves once nothing is being written. */
  idle(): Promise<void> {
    return this.#queue;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#handle.close();
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const done = this.#queue.then(step);
    this.#queue = done.catch(() => undefined);
    return done;
  }
}
