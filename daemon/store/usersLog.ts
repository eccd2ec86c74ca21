import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { asciiJson } from './asciiJson';
import { APPEND_FLAGS, encodeCheckedLine, readCheckedLines, SYNCHRONOUS_APPENDS } from './checkedLines';
import { checkStoreValue, storeUnreadable } from './storeUnreadable';
import { syncDirectory, writeFileAtomic } from '../files/writeFileAtomic';
import { ReusedReadBuffer } from './reusedReadBuffer';
import { STORE_SCHEMA_VERSION, USERS_FILE_SCHEMA_VERSION } from './storeSchema';
import type { StoredUser } from './storeTypes';
import type { UsersLogHeader, UsersLogRecord, UsersSnapshot } from './usersLogSchema';
import { userOnDisk, usersLogHeaderSchema, usersLogRecordSchema, usersSnapshotSchema } from './usersLogSchema';
import { usersLogShapes } from './usersLogShapes';
import { userTupleOf } from './userTuple';

/** One log file as read on load. */
interface LogSegment {
  generation: number;
  /** Up to the end of the last whole record: what follows is a torn tail. */
  validBytes: number;
  records: UsersLogRecord[];
  /** Cuts the torn tail off the file, so that appends continue after the last whole record. */
  dropTornTail(): Promise<void>;
}

/**
 * A tenant's users frozen at one moment, read a slice at a time: freezing 100,000 users must not hold the
 * event loop as long as copying them all would.
 */
export interface FrozenUsers {
  readonly length: number;
  slice(start: number, end: number): StoredUser[];
}

/** A record as it is appended: the users it sets as they are in memory, written as tuples. */
export type UsersLogRecordToWrite = Omit<UsersLogRecord, 'set'> & { set?: StoredUser[] };

/** A snapshot as compaction takes it: everything but the users as they will be written, and the users frozen. */
export type SnapshotToWrite = Omit<UsersSnapshot, 'users'> & { users: FrozenUsers };

/** What a tenant's files held when they were opened. */
interface LoadedUsers {
  snapshot: UsersSnapshot;
  records: UsersLogRecord[];
}

/** By default, the log is compacted once it has grown past this and past the snapshot's size. */
const DEFAULT_COMPACTION_BYTES = 1024 * 1024;


/** A log with no append for this long is closed. */
const APPENDER_IDLE_MS = 5_000;

/** Users serialized per turn of the event loop when a snapshot is written, so API requests wait little. */
const SNAPSHOT_USERS_PER_TURN = 250;

/**
 * One tenant's users on disk, so that a write costs what changed: a snapshot (`<tenant>.snap.json`)
 * and an append-only log (`<tenant>.log`) of JSON lines, each prefixed by the CRC-32 of its JSON.
 *
 * - An append resolves once it is fsynced; appends made while one is being written go out together in
 *   the next write (one fsync for all of them).
 * - A final line that is incomplete or fails its CRC is what a crash mid-write leaves: it was never
 *   acknowledged, so it is dropped (and cut off the file). A bad line before the last one is damage, and
 *   the daemon refuses to start rather than lose what follows it.
 * - Compaction never holds an append back. It takes the users in memory as they are at that moment, and
 *   from then on appends go to a new segment (`<tenant>.next.log`, whose header says generation g+1)
 *   while the snapshot of generation g+1 is written from that frozen copy. Once the snapshot is on disk,
 *   the segment is renamed over the log, which the snapshot has made obsolete.
 * - A crash before the snapshot is in place leaves snapshot g, log g and segment g+1: all three are read,
 *   in that order. A crash after it leaves snapshot g+1 beside a log of generation g, which is ignored,
 *   and the segment, which becomes the log. Replaying a record the snapshot already holds is harmless.
 */
export class UsersLog {
  readonly snapshotPath: string;
  readonly logPath: string;
  /** Where appends go while a compaction writes the snapshot that makes `logPath` obsolete. */
  readonly nextLogPath: string;
  readonly #tenantId: string;
  readonly #directory: string;
  readonly #takeSnapshot: () => SnapshotToWrite;
  readonly #compactionBytes: number;
  readonly #onCompactionFailed: (error: unknown) => void;
  /** After a failed compaction, the next is tried once the log has grown by another `compactionBytes`. */
  #compactAfterBytes = 0;
  /** The generation of the snapshot on disk; `logPath` continues it. */
  #generation = 0;
  /** Whether `logPath` holds a header for `#generation`, so records can be appended to it. */
  #logReady = false;
  #logBytes = 0;
  /** Whether appends go to `nextLogPath` (generation `#generation + 1`) rather than to `logPath`. */
  #onNext = false;
  /** The generation `nextLogPath`'s header says: the snapshot under way, or written but not yet adopted. */
  #nextGeneration = 0;
  /** Whether `nextLogPath` holds its header, so records can be appended to it. */
  #nextReady = false;
  #nextBytes = 0;
  #snapshotBytes = 0;
  #pending: Buffer[] = [];
  #pendingDone: Deferred | null = null;
  #writing: Promise<void> | null = null;
  #compacting: Promise<void> | null = null;
  #appender: { path: string; handle: FileHandle; closeTimer: NodeJS.Timeout | null } | null = null;
  /** The snapshot that makes `logPath` obsolete is on disk: the segment takes the log's place before the next append. */
  #adoptNext = false;
  /** A full round's pages are being appended: see `holdCompaction`. */
  #compactionHeld = false;
  /** Callers of `snapshotNow` waiting for a snapshot taken after their call. */
  #snapshotWanted: Deferred | null = null;

  /**
   * `takeSnapshot` answers the tenant's users as they are in memory now, for compaction, which happens
   * once the log is larger than both `compactionBytes` and the snapshot.
   */
  constructor(
    directory: string,
    tenantId: string,
    takeSnapshot: () => SnapshotToWrite,
    compactionBytes = DEFAULT_COMPACTION_BYTES,
    onCompactionFailed: (error: unknown) => void = () => undefined,
  ) {
    this.#compactionBytes = compactionBytes;
    this.#onCompactionFailed = onCompactionFailed;
    this.#directory = directory;
    this.#tenantId = tenantId;
    this.snapshotPath = join(directory, `${tenantId}.snap.json`);
    this.logPath = join(directory, `${tenantId}.log`);
    this.nextLogPath = join(directory, `${tenantId}.next.log`);
    this.#takeSnapshot = takeSnapshot;
  }

  /**
   * Reads the snapshot and the records that continue it. Without a snapshot, `legacy` (the users file of
   * the earlier one-file format, if any) becomes generation 0's snapshot and is written as one at once.
   * A file `mayExist` rules out is not looked for.
   */
  async load(
    legacy: () => Promise<Omit<UsersSnapshot, 'generation'> | null>,
    reader = new ReusedReadBuffer(),
    mayExist: MayExist = () => true,
  ): Promise<LoadedUsers> {
    let snapshot = await this.#readSnapshot(reader, mayExist);
    if (!snapshot) {
      const migrated = await legacy();
      snapshot = { schemaVersion: STORE_SCHEMA_VERSION, tenantId: this.#tenantId, generation: 0, deltaLink: null, users: [], ...migrated };
      if (migrated) {
        // The migrated snapshot starts a new generation, so that a log left beside the old file is ignored.
        snapshot.generation = 1;
        const users = snapshot.users;
        await this.#writeSnapshot({ ...snapshot, users: { length: users.length, slice: (start, end) => users.slice(start, end).map(userOnDisk) } });
      }
    }
    this.#generation = snapshot.generation;
    const records = await this.#readLog(reader, mayExist);
    return { snapshot, records: [...records, ...(await this.#readNextLog(reader, mayExist))] };
  }

  /** Appends one record; resolves once it is on disk. */
  append(record: UsersLogRecordToWrite): Promise<void> {
    this.#pending.push(encodeCheckedLine(record.set ? { ...record, set: record.set.map(userTupleOf) } : record));
    this.#pendingDone ??= deferred();
    const done = this.#pendingDone.promise;
    this.#writing ??= this.#drain();
    return done;
  }

  /**
   * Holds compaction back while a full round's pages are appended (true), and lets it go (false). Those
   * pages list each user once, as a snapshot would, so compacting them page by page only wrote the same
   * users again: a 100,000-user tenant's first sync was rewritten about five times over (the busiest
   * stretches of the event loop during it). Let go with the round's last page, the compaction the log's
   * size asks for runs once. Locks and other appends meanwhile change nothing here.
   */
  holdCompaction(held: boolean): void {
    const released = this.#compactionHeld && !held;
    this.#compactionHeld = held;
    if (released && !this.#writing) this.#compactIfDue();
  }

  #compactIfDue(): void {
    // Without a log for the snapshot on disk (starting it failed), a segment would continue nothing a load
    // can place: the next append starts the log first.
    if (this.#compacting || this.#compactionHeld || (!this.#onNext && !this.#logReady)) return;
    const logBytes = this.#logBytes + this.#nextBytes;
    if (logBytes > Math.max(this.#compactionBytes, this.#snapshotBytes, this.#compactAfterBytes)) this.#startCompaction();
  }

  /**
   * Writes the users in memory now as a snapshot, whatever the log's size, and resolves once it is on disk
   * (or rejects, having reported the failure as a failed compaction). For memory that holds changes a
   * failed append left off the disk. Appends go on meanwhile, as during any compaction.
   */
  snapshotNow(): Promise<void> {
    this.#snapshotWanted ??= deferred();
    const done = this.#snapshotWanted.promise;
    // A compaction under way starts it once it ends. (Started now, the drain would end before it is
    // stored as the one running, and be taken for running ever after.)
    if (!this.#compacting) this.#writing ??= this.#drain();
    return done;
  }

  /** Resolves when nothing is being written, with the log closed. */
  async idle(): Promise<void> {
    while (this.#writing || this.#compacting) await Promise.all([this.#writing, this.#compacting]);
    if (!this.#writing) await this.#closeAppender();
  }

  /** Deletes both files (the tenant is gone). */
  async remove(): Promise<void> {
    await this.idle();
    for (const path of [this.nextLogPath, this.logPath, this.snapshotPath]) {
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    await syncDirectory(this.#directory);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0 || this.#adoptNext || (this.#snapshotWanted && !this.#compacting)) {
        if (this.#adoptNext) {
          // Between two appends, so that no append opens the segment by its old name after the rename.
          this.#adoptNext = false;
          await this.#adoptNextLog().catch((error: unknown) => this.#compactionFailed(error));
          continue;
        }
        if (this.#snapshotWanted && !this.#compacting) {
          // Between two appends too, as any compaction starts: from it on, appends go to the segment.
          // One under way froze memory before the call, so this waits for it (see the compaction's end).
          await this.#startWantedSnapshot(this.#snapshotWanted);
          continue;
        }
        const lines = this.#pending;
        const done = this.#pendingDone;
        this.#pending = [];
        this.#pendingDone = null;
        try {
          await this.#appendLines(lines);
          done?.resolve();
        } catch (error) {
          done?.reject(error);
          continue;
        }
        this.#compactIfDue();
      }
    } finally {
      this.#writing = null;
    }
  }

  /**
   * Appends to a file kept open, opened for synchronous writes where the platform has them: one call to
   * the disk per append instead of four (open, write, fsync, close), each of which waits for a turn of
   * the event loop and a thread of the pool while a large sync keeps both busy. It is closed once appends
   * stop for a while, so a daemon keeping many tenants holds few files open.
   */
  async #appendLines(lines: Buffer[]): Promise<void> {
    if (this.#onNext ? !this.#nextReady : !this.#logReady) await this.#startLog();
    const path = this.#onNext ? this.nextLogPath : this.logPath;
    if (this.#appender?.path !== path) {
      await this.#closeAppender();
      // Not created here: the file holds its header by now, and one found missing is an error, not a log without a header.
      this.#appender = { path, handle: await open(path, APPEND_FLAGS), closeTimer: null };
    }
    const appender = this.#appender;
    if (appender.closeTimer) clearTimeout(appender.closeTimer);
    appender.closeTimer = null;
    try {
      const before = this.#onNext ? this.#nextBytes : this.#logBytes;
      const length = lines.reduce((sum, line) => sum + line.length, 0);
      // The records as they were encoded, in one call: no copy of them is joined first.
      const { bytesWritten } = lines.length === 1 ? await appender.handle.write(lines[0] as Buffer) : await appender.handle.writev(lines);
      if (bytesWritten < length) {
        // A full disk took part of a record. Cut it off again: appends after a torn record would leave a
        // damaged one before the last, which refuses to start.
        await appender.handle.truncate(before);
        await appender.handle.datasync();
        throw new Error(`the disk took ${bytesWritten} of ${length} bytes appended to ${path} (is it full?)`);
      }
      if (!SYNCHRONOUS_APPENDS) await appender.handle.datasync();
      if (this.#onNext) this.#nextBytes += bytesWritten;
      else this.#logBytes += bytesWritten;
    } catch (error) {
      await this.#closeAppender();
      throw error;
    }
    if (this.#appender === appender) {
      appender.closeTimer = setTimeout(() => {
        if (this.#appender === appender && !this.#writing) void this.#closeAppender();
      }, APPENDER_IDLE_MS);
      appender.closeTimer.unref();
    }
  }

  async #closeAppender(): Promise<void> {
    const appender = this.#appender;
    if (!appender) return;
    this.#appender = null;
    if (appender.closeTimer) clearTimeout(appender.closeTimer);
    await appender.handle.close().catch(() => undefined);
  }

  /**
   * Freezes the users in memory now, including changes still waiting to be appended (they go to the new
   * segment after it, and replaying them again is harmless), and writes them as the next snapshot while
   * appends go on. A failed compaction leaves appends on the segment; the next one writes the same
   * generation again. The appends that made it start are already durable: a failure loses nothing, and
   * is reported rather than thrown at the next writer.
   */
  #startCompaction(): void {
    if (this.#onNext && this.#nextGeneration === this.#generation) {
      // The snapshot is on disk and only the segment's rename failed: try that again, not another snapshot.
      this.#adoptNext = true;
      return;
    }
    // Reported by #compact.
    this.#compact().catch(() => undefined);
  }

  /**
   * A snapshot `snapshotNow` asked for. The files must first be as a compaction starts from: the last
   * snapshot's segment in the log's place, or the log of the snapshot on disk started.
   */
  async #startWantedSnapshot(wanted: Deferred): Promise<void> {
    this.#snapshotWanted = null;
    try {
      if (this.#onNext && this.#nextGeneration === this.#generation) await this.#adoptNextLog();
      else if (!this.#onNext && !this.#logReady) await this.#startLog();
    } catch (error) {
      this.#compactionFailed(error);
      wanted.reject(error);
      return;
    }
    this.#compact().then(wanted.resolve, wanted.reject);
  }

  /** Takes the snapshot and writes it; resolves once it is on disk. */
  #compact(): Promise<void> {
    const snapshot = this.#takeSnapshot();
    snapshot.generation = this.#generation + 1;
    if (!this.#onNext) {
      this.#onNext = true;
      this.#nextGeneration = snapshot.generation;
    }
    const written = this.#writeSnapshot(snapshot);
    this.#compacting = written
      .then(
        () => {
          this.#generation = snapshot.generation;
          // The log is obsolete from now on: should the segment fail to take its place (or, with nothing
          // appended meanwhile, a new log fail to start), the next append must not go to the old log,
          // which a load now ignores, but start the new one again.
          this.#logReady = false;
          this.#logBytes = 0;
          this.#adoptNext = true;
          this.#writing ??= this.#drain();
        },
        (error: unknown) => this.#compactionFailed(error),
      )
      .finally(() => {
        this.#compacting = null;
        // A snapshot asked for while this one was written is taken now.
        if (this.#snapshotWanted) this.#writing ??= this.#drain();
      });
    return written;
  }

  #compactionFailed(error: unknown): void {
    this.#compactAfterBytes = this.#logBytes + this.#nextBytes + this.#compactionBytes;
    this.#onCompactionFailed(error);
  }

  /** The snapshot continued by the segment is on disk: the segment becomes the log. */
  async #adoptNextLog(): Promise<void> {
    // Renaming or replacing a file another handle has open fails on Windows.
    await this.#closeAppender();
    if (this.#nextReady) {
      await rename(this.nextLogPath, this.logPath);
      // Renamed: appends go to the log from now on, even if making the rename durable fails below (a
      // crash before it is durable leaves the segment under its old name, which a load adopts then).
      this.#logBytes = this.#nextBytes;
      this.#logReady = true;
      this.#onNext = false;
      this.#nextReady = false;
      this.#nextBytes = 0;
      await syncDirectory(this.#directory);
    } else {
      // Nothing was appended meanwhile: an empty log replaces the obsolete one, which would only take room.
      this.#onNext = false;
      this.#nextBytes = 0;
      await this.#startLog();
    }
  }

  /** Writes an empty log (or segment) for the generation appends go to. */
  async #startLog(): Promise<void> {
    const generation = this.#onNext ? this.#nextGeneration : this.#generation;
    const header: UsersLogHeader = { schemaVersion: USERS_FILE_SCHEMA_VERSION, tenantId: this.#tenantId, generation };
    const line = encodeCheckedLine(header);
    // The file is replaced: a handle still open on it would append to the one replaced.
    await this.#closeAppender();
    await writeFileAtomic(this.#onNext ? this.nextLogPath : this.logPath, line);
    if (this.#onNext) {
      this.#nextReady = true;
      this.#nextBytes = line.length;
    } else {
      this.#logReady = true;
      this.#logBytes = line.length;
    }
  }

  /**
   * The same JSON as `JSON.stringify(snapshot)`, made a slice of users at a time with a turn of the event
   * loop between slices: a 100,000-user tenant's snapshot is tens of megabytes.
   */
  async #writeSnapshot(snapshot: SnapshotToWrite): Promise<void> {
    const { users, ...head } = snapshot;
    const pieces: Array<string | Buffer> = [`${asciiJson.stringify({ ...head, schemaVersion: USERS_FILE_SCHEMA_VERSION }).slice(0, -1)},"users":[`];
    for (let i = 0; i < users.length; i += SNAPSHOT_USERS_PER_TURN) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      // As bytes, with the array's brackets cut off by a view rather than a copy of the string: a large
      // tenant's first sync compacts its log several times, and those copies were a fifth of its garbage.
      const json = Buffer.from(asciiJson.stringify(users.slice(i, i + SNAPSHOT_USERS_PER_TURN).map(userTupleOf)), 'latin1');
      if (i > 0) json[0] = COMMA;
      pieces.push(json.subarray(i > 0 ? 0 : 1, json.length - 1));
    }
    pieces.push(']}');
    await writeFileAtomic(this.snapshotPath, pieces);
    this.#snapshotBytes = pieces.reduce((sum, piece) => sum + Buffer.byteLength(piece), 0);
  }

  async #readSnapshot(reader: ReusedReadBuffer, mayExist: MayExist): Promise<UsersSnapshot | null> {
    const bytes = mayExist(this.snapshotPath) ? await reader.read(this.snapshotPath) : null;
    if (bytes === null) return null;
    this.#snapshotBytes = bytes.length;
    let raw: unknown;
    try {
      raw = JSON.parse(asciiJson.text(bytes));
    } catch (error) {
      throw storeUnreadable(this.snapshotPath, 'is not valid JSON', error);
    }
    const snapshot = usersLogShapes.isSnapshot(raw)
      ? raw
      : checkStoreValue(this.snapshotPath, usersSnapshotSchema, raw, 'does not have the expected shape', USERS_FILE_SCHEMA_VERSION);
    if (snapshot.tenantId !== this.#tenantId) throw storeUnreadable(this.snapshotPath, `belongs to tenant ${snapshot.tenantId}`);
    return snapshot;
  }

  async #readLog(reader: ReusedReadBuffer, mayExist: MayExist): Promise<UsersLogRecord[]> {
    const segment = await this.#readSegment(this.logPath, reader, mayExist);
    if (!segment) {
      this.#logReady = false;
      return [];
    }
    if (segment.generation !== this.#generation) {
      if (segment.generation > this.#generation) throw storeUnreadable(this.logPath, `continues generation ${segment.generation}, newer than its snapshot's`);
      // Already in the snapshot: a crash came between writing the snapshot and starting the new log.
      this.#logReady = false;
      return [];
    }
    await segment.dropTornTail();
    this.#logReady = true;
    this.#logBytes = segment.validBytes;
    return segment.records;
  }

  /** The segment a compaction left behind, if a crash came before it took the log's place. */
  async #readNextLog(reader: ReusedReadBuffer, mayExist: MayExist): Promise<UsersLogRecord[]> {
    const segment = await this.#readSegment(this.nextLogPath, reader, mayExist);
    if (segment && segment.generation === this.#generation + 1 && this.#logReady) {
      // The snapshot it waited for never reached the disk: it continues the log, and appends go on there.
      await segment.dropTornTail();
      this.#onNext = true;
      this.#nextGeneration = segment.generation;
      this.#nextReady = true;
      this.#nextBytes = segment.validBytes;
      return segment.records;
    }
    if (segment && segment.generation === this.#generation && !this.#logReady) {
      // The snapshot is in place, and the log beside it obsolete: the segment takes the log's place now.
      await segment.dropTornTail();
      await rename(this.nextLogPath, this.logPath);
      await syncDirectory(this.#directory);
      this.#logReady = true;
      this.#logBytes = segment.validBytes;
      return segment.records;
    }
    if (segment && segment.generation > this.#generation) {
      throw storeUnreadable(this.nextLogPath, `continues generation ${segment.generation}, which neither its snapshot nor its log leads to`);
    }
    // Absent, torn before its header was whole, or older than the snapshot: nothing in it is needed.
    if (mayExist(this.nextLogPath) && (await exists(this.nextLogPath))) {
      await unlink(this.nextLogPath);
      await syncDirectory(this.#directory);
    }
    return [];
  }

  /** A log or segment's header and records; null when it is absent or holds not even a whole header. */
  async #readSegment(path: string, reader: ReusedReadBuffer, mayExist: MayExist): Promise<LogSegment | null> {
    // Read as bytes: the CRC is checked on them as they are, and only a record's JSON becomes a string.
    // Every line is decoded before this returns: the bytes are the reader's, and its next read reuses them.
    const bytes = mayExist(path) ? await reader.read(path) : null;
    if (bytes === null) return null;
    const fileBytes = bytes.length;
    // After the last '\n' is whatever a crash left of a record that was never acknowledged (or nothing).
    const { values: decoded, validBytes } = readCheckedLines(bytes, (line) => {
      throw storeUnreadable(path, `has a damaged record at line ${line}, before its last one`);
    });
    const [first, ...rest] = decoded;
    if (first === undefined) return null;
    const header = checkStoreValue(path, usersLogHeaderSchema, first, 'has no valid header', USERS_FILE_SCHEMA_VERSION);
    if (header.tenantId !== this.#tenantId) throw storeUnreadable(path, `belongs to tenant ${header.tenantId}`);
    return {
      generation: header.generation,
      validBytes,
      // Checked only when the segment is used: one a newer snapshot made obsolete is never replayed.
      get records() {
        return rest.map((value) => (usersLogShapes.isRecord(value) ? value : checkStoreValue(path, usersLogRecordSchema, value, 'has a record of the wrong shape')));
      },
      dropTornTail: async () => {
        if (validBytes === fileBytes) return;
        const handle = await open(path, 'r+');
        try {
          await handle.truncate(validBytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
      },
    };
  }
}

/**
 * False only for a file known to be absent; true means "look". A load of every tenant passes what one
 * listing of the users directory showed: asking the disk for each tenant's absent files (most tenants have
 * no snapshot yet, or no log beside it) cost an error object and its stack trace apiece, about 60 ms of a
 * restart at 100 tenants.
 */
export type MayExist = (path: string) => boolean;

/** Whether the file is there (any other failure to look is an error). */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

const COMMA = 0x2c;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
