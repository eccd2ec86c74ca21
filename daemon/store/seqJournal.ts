import { constants } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Low } from 'lowdb';
import type * as z from 'zod';
import { PRIVATE_FILE_MODE, syncDirectory } from '../files/writeFileAtomic';
import type { DurableJsonFile } from './durableJsonFile';
import { APPEND_FLAGS, encodeCheckedLine, readCheckedLines, SYNCHRONOUS_APPENDS } from './checkedLines';
import { checkStoreValue, storeUnreadable } from './storeUnreadable';

/**
 * A journal past this is folded into its file by the change that took it there, rather than at the next
 * checkpoint: a start replays it whole, and a tenant whose error changes every round (1,000 of them in an
 * outage) appends a record each time.
 */
export const JOURNAL_FOLD_BYTES = 4 * 1024 * 1024;

/** What a journal holds: the shape of a record, checked when read, and the number it is told apart by. */
export interface SeqJournalShape<R> {
  schema: z.ZodType<R>;
  seqOf: (record: R) => number;
}

/**
 * A JSON file's journal: the changes made since the file was last written, a line each (the format of the
 * users logs: see `checkedLines`), so that a change is durable after one append to a file kept open instead
 * of a rewrite of the whole file, which grows with everything it holds and whose write waits on the event
 * loop and the disk at each of its steps. The file catches up at its next write, which empties the journal.
 *
 * Which records the file already holds is told by their numbers: the file is written with the next number
 * to be given at the moment its text was taken, and a change and its record are made in one synchronous
 * step, so a record numbered below the file's next number is in it and one numbered from there on is not.
 * Whoever opens the file puts the newer ones back, in order. Emptying the journal once the file holds
 * everything is housekeeping, not safety: a record left over from before the last write is skipped by its
 * number, and never replaces a newer state.
 */
export class SeqJournal<R> {
  readonly path: string;
  readonly #handle: FileHandle;
  #bytes: number;
  readonly #seqOf: (record: R) => number;
  /** The highest record number in the file, -1 when it holds none. */
  #newestSeq: number;
  /** An append failed and may have left part of a record: nothing more is appended until it is emptied. */
  #broken = false;
  #queue: Promise<void> = Promise.resolve();

  private constructor(path: string, handle: FileHandle, bytes: number, newestSeq: number, seqOf: (record: R) => number) {
    this.path = path;
    this.#seqOf = seqOf;
    this.#handle = handle;
    this.#bytes = bytes;
    this.#newestSeq = newestSeq;
  }

  /**
   * Reads the journal and opens it for appending, creating it (with its directory entry durable) if it is
   * missing. A torn last record, which a crash in the middle of an append leaves and which was never
   * acknowledged, is left out and cut off; a damaged record before the last refuses to open, naming the file.
   */
  static async open<R>(path: string, shape: SeqJournalShape<R>): Promise<{ journal: SeqJournal<R>; records: R[] }> {
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
      return { journal: new SeqJournal(path, handle, 0, -1, shape.seqOf), records: [] };
    }
    const { values, validBytes } = readCheckedLines(bytes, (line) => {
      throw storeUnreadable(path, `has a damaged record at line ${line}, before its last one`);
    });
    const records = values.map((value, index) => checkStoreValue(path, shape.schema, value, `has a record of the wrong shape at line ${index + 1}`));
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
    const newestSeq = records.reduce((newest, record) => Math.max(newest, shape.seqOf(record)), -1);
    return { journal: new SeqJournal(path, handle, validBytes, newestSeq, shape.seqOf), records };
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
  append(record: R): Promise<void> {
    // The record's text as it is now: the tenant goes on changing in memory.
    const line = encodeCheckedLine(record);
    return this.#enqueue(async () => {
      if (this.#broken) throw new Error(`${this.path} could not be written before, and is not appended to until the file it continues is written again`);
      try {
        const { bytesWritten } = await this.#handle.write(line);
        if (bytesWritten < line.length) throw new Error(`the disk took ${bytesWritten} of ${line.length} bytes appended to ${this.path} (is it full?)`);
        if (!SYNCHRONOUS_APPENDS) await this.#handle.datasync();
      } catch (error) {
        this.#broken = true;
        throw error;
      }
      this.#bytes += line.length;
      this.#newestSeq = Math.max(this.#newestSeq, this.#seqOf(record));
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

/**
 * A JSON file numbered by its `nextSeq` with its `SeqJournal`: a change goes to the journal, the file
 * catches up when written (at a checkpoint, or once the journal passes `JOURNAL_FOLD_BYTES`), and what the
 * file on disk holds is told by `durableSeq`.
 */
export class JournaledFile<T extends { nextSeq: number }, R> {
  readonly db: Low<T>;
  readonly file: DurableJsonFile<T>;
  readonly journal: SeqJournal<R>;
  readonly #onWrite: () => void;
  #durableSeq: number;
  #lazy = false;

  /** `onWrite` runs as a write of the file takes its text: for what goes out with any write of it. */
  constructor(db: Low<T>, file: DurableJsonFile<T>, journal: SeqJournal<R>, onWrite: () => void = () => undefined) {
    this.db = db;
    this.file = file;
    this.journal = journal;
    this.#onWrite = onWrite;
    this.#durableSeq = db.data.nextSeq;
  }

  /**
   * Every record numbered below this (`nextSeq` as of the last write that finished, or as loaded) is in the
   * file on disk, or was dropped from it by retention: what was numbered since is in memory and the journal.
   */
  get durableSeq(): number {
    return this.#durableSeq;
  }

  /** Whether changes are in memory (and the journal) that the file does not hold yet. */
  get lazy(): boolean {
    return this.#lazy;
  }

  markLazy(): void {
    this.#lazy = true;
  }

  /** Writes the file with everything in memory, and empties the journal of what it now holds. */
  async save(): Promise<void> {
    this.#lazy = false;
    this.#onWrite();
    // The file's text is taken when the write is asked for, so this is what the finished write holds.
    const seq = this.db.data.nextSeq;
    await this.db.write();
    this.#durableSeq = Math.max(this.#durableSeq, seq);
    this.journal.foldedBelow(seq);
  }

  /**
   * Makes a change just made in memory durable with one append of `record()` to the journal, called in the
   * same synchronous step as the change (a record takes the objects as they are now, and its number).
   * Written with the file instead while a write of it is under way (what the change depends on may be in
   * that write alone, and the record would be numbered past a file that may not reach the disk), before
   * the file was ever written, or after the journal failed.
   */
  async saveRecord(record: () => R): Promise<void> {
    if (this.file.busy || !this.file.written || !this.journal.usable) return this.save();
    this.#lazy = true;
    await this.journal.append(record());
    if (this.journal.bytes > JOURNAL_FOLD_BYTES && !this.file.busy) await this.save();
  }
}
