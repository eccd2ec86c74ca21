import { readdir, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError } from '../errors/AppError';
import { syncDirectory } from '../files/writeFileAtomic';
import type { ForegroundRequests } from '../foregroundRequests';
import type { LowdbContext } from './lowdbContext';
import type { DurableDeltaLink, LowdbSyncState } from './lowdbSyncState';
import type { LowdbTasks } from './lowdbTasks';
import { DurableJsonFile } from './durableJsonFile';
import { loadStoreFile } from './loadStoreFile';
import type { UsersFile } from './storeSchema';
import { STORE_SCHEMA_VERSION, USERS_FILE_SCHEMA_VERSION, usersFileSchema } from './storeSchema';
import type {
  StoredActivity,
  StoredUser,
  StoreEvent,
  UserChangeBatch,
  UserChangeSummary,
  UserCounts,
  UserLock,
  UserPage,
  UserQuery,
} from './storeTypes';
import { TenantUserTable } from './tenantUserTable';
import { ReusedReadBuffer } from './reusedReadBuffer';
import { exists, UsersLog, type MayExist, type SnapshotToWrite, type UsersLogRecordToWrite } from './usersLog';
import { userOnDisk, type UsersLogRecord } from './usersLogSchema';
import { firstSeenUser, materiallyDifferent, seenAgainUser } from './storeRecords';
import { tenantNotFound } from '../errors/tenantNotFound';

/** How many tenants' users files are read at once on load. */
const LOAD_CONCURRENCY = 8;

/**
 * Users of a sync's page applied per turn of the event loop. Putting one user of a large tenant in page
 * order costs several microseconds (about twenty collator comparisons), so a 200-user delta page is cut
 * into four turns of well under a millisecond each on an idle machine.
 */
export const APPLY_USERS_PER_TURN = 50;

/** Users looked at per turn when a full round's last page finds those no longer in the tenant. */
const REMOVAL_CHECKS_PER_TURN = 5_000;

/** A turn of the event loop: I/O waiting (API requests, Graph answers) is served before what follows. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One tenant's users in memory, and what of them is not yet on disk. */
interface TenantUsers {
  tenantId: string;
  log: UsersLog;
  table: TenantUserTable;
  deltaLink: string | null;
  /** Counts the rounds that brought a new delta link, so that the newest of those on disk wins on load. */
  deltaRound: number;
  /** The round whose delta link the users files hold now (or will, once the appends under way are done). */
  writtenDeltaRound: number;
  /** The delta link of the latest quiet round (or the one loaded), for `sync-state.json`. */
  durable: DurableDeltaLink;
  /** `lastVerifiedAt` moves not written yet, by the time they moved to. */
  verified: Map<number, string[]>;
  lazy: boolean;
  /** Lock and unlock activities in this tenant's users files that `store.json` may not hold yet. */
  activities: StoredActivity[];
  /** The page of a sync being applied, a slice per turn; the next waits for it. */
  applying: Promise<void> | null;
  /** Users locked or unlocked while a page is applied: its record must carry them as they are then. */
  touchedWhileApplying: Set<string> | null;
  /**
   * Appends that failed since the last snapshot taken after them: memory holds changes the disk does not,
   * so the tenant's next write is a snapshot of memory (see #write). Counted, so that a snapshot taken
   * before a later failure does not count as having written it.
   */
  failedAppends: number;
}

/**
 * Users, per tenant a snapshot and an append-only log (`UsersLog`): a change to one user appends one
 * small record, and a round that changed nothing writes nothing. The delta link is written with the next
 * change or in the next snapshot; that of a quiet round goes to `sync-state.json` at the next checkpoint
 * instead, so that a checkpoint after quiet rounds writes one file, not one per tenant. `lastVerifiedAt`
 * moves are written with the next change or at a checkpoint.
 */
export class LowdbUsers {
  readonly #context: LowdbContext;
  readonly #tasks: LowdbTasks;
  readonly #usersDir: string;
  readonly #tenants = new Map<string, TenantUsers>();
  readonly #compactionBytes: number | undefined;
  /** The API requests being answered: a sync's next slice of a page comes after them, within a bound. */
  readonly #foregroundRequests: ForegroundRequests;

  constructor(context: LowdbContext, tasks: LowdbTasks, usersDir: string, foregroundRequests: ForegroundRequests, compactionBytes?: number) {
    this.#context = context;
    this.#tasks = tasks;
    this.#usersDir = usersDir;
    this.#foregroundRequests = foregroundRequests;
    this.#compactionBytes = compactionBytes;
  }

  /** Loads the users of every known tenant and drops files that belong to no tenant. */
  async load(tenantIds: ReadonlySet<string>, syncState: LowdbSyncState): Promise<void> {
    // Listed once: a tenant's files that are not listed are not looked for (see MayExist). Nothing else
    // writes here while the store loads.
    const listed = new Set(await readdir(this.#usersDir));
    const mayExist = (path: string) => listed.has(basename(path));
    // A few tenants at a time, so that reading one tenant's files overlaps parsing another's.
    const queue = [...tenantIds];
    const opener = async (): Promise<void> => {
      // One buffer per opener for all the files it reads, let go once the users are loaded.
      const reader = new ReusedReadBuffer();
      for (let tenantId = queue.shift(); tenantId !== undefined; tenantId = queue.shift()) await this.#open(tenantId, syncState, { reader, mayExist });
    };
    await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, queue.length) }, opener));
    const restored = [...this.#tenants.values()].flatMap((slot) => slot.activities);
    if (restored.length > 0) {
      this.#tasks.restoreActivities(restored);
      this.#context.saveMainLater();
    }
    // A tenant removed just before a crash can leave its users behind: they belong to no one now.
    let removed = false;
    for (const name of listed) {
      const id = name.startsWith('.') ? null : name.split('.')[0];
      if (id && !tenantIds.has(id)) removed = (await unlink(join(this.#usersDir, name)).then(() => true, () => false)) || removed;
    }
    if (removed) await syncDirectory(this.#usersDir);
  }

  /**
   * Starts keeping a new tenant's users: none yet, and no file until the first change. Synchronous, so
   * that the tenant is never listed without its users.
   */
  createTenant(tenantId: string): void {
    this.#tenants.set(tenantId, this.#slot(tenantId));
  }

  /**
   * Forgets a tenant's users now, in the same step as the tenant itself; the returned function deletes
   * their files, to be called once the tenant's removal is durable.
   */
  removeTenant(tenantId: string): () => Promise<void> {
    const slot = this.#tenants.get(tenantId);
    this.#tenants.delete(tenantId);
    return async () => {
      if (slot) await slot.log.remove();
    };
  }

  /** The tenant's delta link for `sync-state.json`: one whose users were all on disk when it came. */
  durableDeltaLink(tenantId: string): DurableDeltaLink | undefined {
    return this.#tenants.get(tenantId)?.durable;
  }

  /**
   * Writes the held-back `lastVerifiedAt` moves of every tenant that has some: one small record each; and
   * the users of a tenant whose append failed, as a snapshot.
   */
  checkpoint(): Array<Promise<void>> {
    const writes: Array<Promise<void>> = [];
    for (const slot of this.#tenants.values()) {
      if (!slot.lazy && slot.failedAppends === 0) continue;
      slot.lazy = false;
      const record = this.#bookkeeping(slot);
      if (Object.keys(record).length > 0 || slot.failedAppends > 0) writes.push(this.#write(slot, record));
    }
    return writes;
  }

  idle(): Array<Promise<void>> {
    return [...this.#tenants.values()].map((slot) => slot.log.idle());
  }

  async getDeltaLink(tenantId: string): Promise<string | null> {
    return this.#require(tenantId).deltaLink;
  }

  /**
   * Applies one page of a sync: in memory a slice of users per turn of the event loop (a page of a large
   * tenant's first sync, put in page order one user at a time, would otherwise hold every API request and
   * Graph answer behind it), then on disk in one record, so that a crash keeps all of the page or none.
   * Pages of one tenant are applied one after another.
   */
  async applyUserChanges(tenantId: string, batch: UserChangeBatch): Promise<UserChangeSummary> {
    this.#context.assertOpen();
    this.#context.main.requireTenant(tenantId);
    let slot = this.#require(tenantId);
    while (slot.applying) {
      await slot.applying;
      slot = this.#stillApplyingTo(tenantId, slot);
    }
    const applied = this.#apply(slot, batch);
    const settled = applied.then(
      () => undefined,
      () => undefined,
    );
    slot.applying = settled;
    try {
      return await applied;
    } finally {
      if (slot.applying === settled) {
        slot.applying = null;
        slot.touchedWhileApplying = null;
      }
    }
  }

  async #apply(slot: TenantUsers, batch: UserChangeBatch): Promise<UserChangeSummary> {
    const { tenantId, table } = slot;
    const summary: UserChangeSummary = { added: [], changed: [], removed: [], locksCleared: [], written: false };
    const seen = new Set<string>();
    const set: StoredUser[] = [];
    const removed: string[] = [];
    const verified: Array<[number, string]> = [];

    // A batch of more than a slice (a sync's page) gives way to the API requests in flight before its first
    // slice too: it arrives from Graph while a registration or a lock waits on Graph or the disk, and would
    // otherwise run ahead of them. A smaller one (a refresh's user, often a request's own) runs at once.
    const sliced = batch.users.length > APPLY_USERS_PER_TURN;
    for (let i = 0; i < batch.users.length; i++) {
      if (i % APPLY_USERS_PER_TURN === 0 && (i > 0 || sliced)) {
        await this.#foregroundRequests.backgroundTurn();
        this.#stillApplyingTo(tenantId, slot);
      }
      const observed = batch.users[i] as UserChangeBatch['users'][number];
      seen.add(observed.id);
      const existing = table.get(observed.id);
      if (!existing) {
        const user = firstSeenUser(observed, batch.observedAt);
        table.set(user);
        set.push(user);
        // The table keeps its own copy of the fields: this object is the caller's alone.
        summary.added.push(user);
        continue;
      }
      const next = seenAgainUser(existing, observed, batch.observedAt);
      if (materiallyDifferent(existing, next)) {
        next.lastChangedAt = Math.max(existing.lastChangedAt, batch.observedAt);
        table.set(next);
        set.push(next);
        summary.changed.push({ before: existing, after: { ...next } });
        if (existing.lock && !next.lock) summary.locksCleared.push({ ...next });
      } else if (table.verify(observed.id, next.lastVerifiedAt)) {
        verified.push([next.lastVerifiedAt, observed.id]);
      }
    }

    const removedIds = new Set(batch.removedUserIds ?? []);
    if (batch.fullRound && batch.deltaLink !== undefined) {
      const earlier = batch.earlierUserIds;
      let looked = 0;
      // Every user of the tenant is looked at; a Map's iterator carries on past changes made meanwhile.
      for (const id of table.ids()) {
        if (!seen.has(id) && !earlier?.has(id)) removedIds.add(id);
        if (++looked % REMOVAL_CHECKS_PER_TURN === 0) {
          await this.#foregroundRequests.backgroundTurn();
          this.#stillApplyingTo(tenantId, slot);
        }
      }
    }
    for (const id of removedIds) {
      const user = table.get(id);
      if (!user) continue;
      table.delete(id);
      removed.push(id);
      summary.removed.push(user);
      if (removed.length % APPLY_USERS_PER_TURN === 0) {
        await this.#foregroundRequests.backgroundTurn();
        this.#stillApplyingTo(tenantId, slot);
      }
    }

    // From here to the append nothing waits: the record is what memory holds at this moment.
    const touched = slot.touchedWhileApplying;
    if (touched && touched.size > 0) {
      // A lock or unlock of a user of this page, made between two slices, is already on disk in a record
      // of its own: this later record must carry the user as it is now, or a load would undo the lock.
      for (let i = 0; i < set.length; i++) {
        const user = set[i] as StoredUser;
        if (touched.has(user.id)) set[i] = table.get(user.id) ?? user;
      }
    }
    for (const [at, id] of verified) addVerified(slot, at, id);
    const bookkeeping = verified.length > 0;

    const newLink = batch.deltaLink !== undefined && slot.deltaLink !== batch.deltaLink;
    if (newLink) {
      slot.deltaLink = batch.deltaLink ?? null;
      slot.deltaRound++;
    }

    const changed = set.length > 0 || removed.length > 0;
    // The delta link goes with the users it brought, in the same record: the two never disagree on disk.
    // Taken before the compaction a full round's last page lets go below, which counts the bookkeeping as
    // written by its snapshot: a record taken after it would leave the link to that snapshot alone, and a
    // snapshot that fails (or a crash before it is on disk) would leave the round's users without it.
    const record = changed ? { ...(set.length > 0 ? { set } : {}), ...(removed.length > 0 ? { removed } : {}), ...this.#bookkeeping(slot) } : null;
    // Until a full round's last page (the one with the link), its pages need no compaction: see holdCompaction.
    slot.log.holdCompaction(batch.fullRound === true && batch.deltaLink === undefined);
    if (record || slot.failedAppends > 0) {
      // After a failed append even a quiet round writes: the snapshot of memory that #write makes then
      // is what lets its link, or any later one, reach the disk.
      await this.#write(slot, record ?? {});
      summary.written = true;
      if (record) this.#context.events.emit(batch.fullRound ? { type: 'users-reloaded', tenantId } : this.#usersEvent(slot, [...set.map((u) => u.id), ...removed]));
    } else {
      if (newLink) {
        // Only a quiet round's link goes there: it brought no user that could still be on its way to disk.
        slot.durable = { deltaLink: slot.deltaLink, deltaRound: slot.deltaRound };
        this.#context.saveSyncStateLater();
      }
      if (bookkeeping) {
        slot.lazy = true;
        this.#context.scheduleCheckpoint();
      }
    }
    return summary;
  }

  /**
   * After a turn given to others: the store may have closed (nothing of the page may reach the disk then)
   * or the tenant been removed (its users are no one's now).
   */
  #stillApplyingTo(tenantId: string, slot: TenantUsers): TenantUsers {
    this.#context.assertOpen();
    this.#context.main.requireTenant(tenantId);
    const current = this.#require(tenantId);
    if (current !== slot) throw tenantNotFound(tenantId);
    return current;
  }

  async recordUserLocked(
    tenantId: string,
    userId: string,
    lock: { by: string; revokedSessions: boolean },
  ): Promise<{ user: StoredUser; activity: StoredActivity }> {
    this.#context.assertOpen();
    const at = this.#context.clock.now();
    const userLock: UserLock = { by: lock.by, at, revokedSessions: lock.revokedSessions };
    const user = this.#updateUser(tenantId, userId, { accountEnabled: false, lock: userLock }, at);
    const activity = this.#tasks.pushActivity({
      tenantId,
      kind: 'lock',
      name: 'Locked user',
      description: `Disabled sign-in for ${user.userPrincipalName}${lock.revokedSessions ? ' and revoked its sign-in sessions' : ''}.`,
      actor: lock.by,
      management: true,
      userId,
    });
    return this.#saveUserAction(tenantId, user, activity);
  }

  async recordUserUnlocked(tenantId: string, userId: string, by: string): Promise<{ user: StoredUser; activity: StoredActivity }> {
    this.#context.assertOpen();
    const at = this.#context.clock.now();
    const user = this.#updateUser(tenantId, userId, { accountEnabled: true, lock: null }, at);
    const activity = this.#tasks.pushActivity({
      tenantId,
      kind: 'unlock',
      name: 'Unlocked user',
      description: `Enabled sign-in for ${user.userPrincipalName}.`,
      actor: by,
      management: true,
      userId,
    });
    return this.#saveUserAction(tenantId, user, activity);
  }

  async getUser(tenantId: string, userId: string): Promise<StoredUser | undefined> {
    return this.#require(tenantId).table.get(userId, this.#verifiedAsOf(tenantId));
  }

  async listUsers(tenantId: string, query: UserQuery = {}): Promise<UserPage> {
    return this.#require(tenantId).table.search(query, this.#verifiedAsOf(tenantId), nextTurn);
  }

  async countUsers(tenantId: string): Promise<UserCounts> {
    return this.#require(tenantId).table.counts();
  }

  async #open(tenantId: string, syncState: LowdbSyncState, files: { reader: ReusedReadBuffer; mayExist: MayExist }): Promise<void> {
    const slot = this.#slot(tenantId);
    const legacyPath = join(this.#usersDir, `${tenantId}.json`);
    const legacyMayExist = files.mayExist(legacyPath);
    const { snapshot, records } = await slot.log.load(
      async () => {
        if (!legacyMayExist || !(await exists(legacyPath))) return null;
        const { data } = await loadStoreFile(new DurableJsonFile<UsersFile>(legacyPath), usersFileSchema, () => emptyUsers(tenantId));
        return { schemaVersion: STORE_SCHEMA_VERSION, tenantId, deltaLink: data.deltaLink, users: Object.values(data.users) };
      },
      files.reader,
      files.mayExist,
    );
    // Once a snapshot exists the one-file format is no longer read: the snapshot has everything it held.
    if (legacyMayExist && (await exists(legacyPath))) {
      await unlink(legacyPath);
      await syncDirectory(this.#usersDir);
    }
    for (const entry of snapshot.users) slot.table.set(userOnDisk(entry));
    slot.deltaLink = snapshot.deltaLink;
    slot.deltaRound = snapshot.deltaRound ?? 0;
    for (const record of records) replay(slot, record);
    // Newer than store.json on disk: the activities of locks acknowledged before it was written again.
    const durableSeq = this.#context.main.durableSeq;
    const activities = new Map<string, StoredActivity>();
    for (const activity of [...(snapshot.activities ?? []), ...records.flatMap((record) => record.activities ?? [])]) {
      if (activity.seq >= durableSeq && activity.tenantId === tenantId) activities.set(activity.id, activity);
    }
    slot.activities = [...activities.values()];
    const quiet = syncState.loaded(tenantId);
    if (quiet && quiet.deltaRound > slot.deltaRound) {
      slot.deltaLink = quiet.deltaLink;
      slot.deltaRound = quiet.deltaRound;
    }
    slot.writtenDeltaRound = slot.deltaRound;
    slot.durable = { deltaLink: slot.deltaLink, deltaRound: slot.deltaRound };
    this.#tenants.set(tenantId, slot);
  }

  #slot(tenantId: string): TenantUsers {
    const slot: TenantUsers = {
      tenantId,
      table: new TenantUserTable(),
      deltaLink: null,
      deltaRound: 0,
      writtenDeltaRound: 0,
      durable: { deltaLink: null, deltaRound: 0 },
      verified: new Map(),
      lazy: false,
      activities: [],
      applying: null,
      touchedWhileApplying: null,
      failedAppends: 0,
      log: new UsersLog(this.#usersDir, tenantId, (): SnapshotToWrite => {
        // The snapshot holds the bookkeeping too: nothing is left to write for it.
        slot.verified.clear();
        slot.writtenDeltaRound = slot.deltaRound;
        // The log it replaces may be the only place an activity is on disk: the snapshot keeps those.
        const durableSeq = this.#context.main.durableSeq;
        slot.activities = slot.activities.filter((activity) => activity.seq >= durableSeq);
        return {
          schemaVersion: USERS_FILE_SCHEMA_VERSION,
          tenantId,
          generation: 0,
          deltaLink: slot.deltaLink,
          deltaRound: slot.deltaRound,
          users: slot.table.frozen(),
          ...(slot.activities.length > 0 ? { activities: slot.activities.map((activity) => structuredClone(activity)) } : {}),
        };
      }, this.#compactionBytes, (error) => this.#context.reportFailure(compactionFailed(tenantId, error), { tenantId, operation: 'compact users log' })),
    };
    return slot;
  }

  /**
   * Appends a record; once an append of the tenant has failed, writes a snapshot of its users in memory
   * instead, until one is on disk. A failed append leaves memory ahead of the disk: the users it set, and
   * the delta link and bookkeeping it took as written. Appending later records as if it had landed would
   * make a newer delta link durable without those users, and Graph would never send them again; a
   * snapshot carries all of it (and puts the bookkeeping's "written" right), so nothing is put back here.
   */
  async #write(slot: TenantUsers, record: UsersLogRecordToWrite): Promise<void> {
    if (slot.failedAppends > 0) {
      const failed = slot.failedAppends;
      await slot.log.snapshotNow();
      if (slot.failedAppends === failed) slot.failedAppends = 0;
      return;
    }
    try {
      await slot.log.append(record);
    } catch (error) {
      slot.failedAppends++;
      // Written at the next checkpoint at the latest, should no round or lock of the tenant come first.
      this.#context.scheduleCheckpoint();
      throw error;
    }
  }

  /** The bookkeeping not yet written, as fields of a record; taking it counts it as written. */
  #bookkeeping(slot: TenantUsers): Omit<UsersLogRecordToWrite, 'set'> {
    const record: Omit<UsersLogRecordToWrite, 'set'> = {};
    if (slot.deltaRound !== slot.writtenDeltaRound) {
      record.deltaLink = slot.deltaLink;
      record.deltaRound = slot.deltaRound;
      slot.writtenDeltaRound = slot.deltaRound;
    }
    if (slot.verified.size > 0) {
      record.verified = [...slot.verified];
      slot.verified.clear();
    }
    return record;
  }

  /** Carries the changed users as a read would answer them, so that listeners need not read them again. */
  #usersEvent(slot: TenantUsers, userIds: string[]): StoreEvent {
    const asOf = this.#verifiedAsOf(slot.tenantId);
    const users = userIds.flatMap((id) => slot.table.get(id, asOf) ?? []);
    return { type: 'users', tenantId: slot.tenantId, userIds, users };
  }

  #verifiedAsOf(tenantId: string): number {
    return this.#context.main.findTenant(tenantId)?.lastSyncAt ?? 0;
  }

  #require(tenantId: string): TenantUsers {
    const slot = this.#tenants.get(tenantId);
    if (!slot) throw tenantNotFound(tenantId);
    return slot;
  }

  #updateUser(tenantId: string, userId: string, change: Pick<StoredUser, 'accountEnabled' | 'lock'>, at: number): StoredUser {
    this.#context.main.requireTenant(tenantId);
    const slot = this.#require(tenantId);
    const existing = slot.table.get(userId);
    if (!existing) throw AppError.notFound('USER_NOT_FOUND', `No user with id ${userId} in this tenant.`, { userId });
    const user: StoredUser = { ...existing, ...change, lastChangedAt: at, lastVerifiedAt: at };
    slot.table.set(user);
    if (slot.applying) (slot.touchedWhileApplying ??= new Set()).add(userId);
    return user;
  }

  /**
   * One write: the user's new state and the activity in one record of the tenant's users log. The
   * activity (and the tenant's last management activity) reach `store.json` with its next write, at the
   * latest at the next checkpoint; until then a load restores them from the log.
   */
  async #saveUserAction(tenantId: string, user: StoredUser, activity: StoredActivity): Promise<{ user: StoredUser; activity: StoredActivity }> {
    const slot = this.#require(tenantId);
    const durableSeq = this.#context.main.durableSeq;
    slot.activities = slot.activities.filter((a) => a.seq >= durableSeq);
    slot.activities.push(activity);
    this.#context.saveMainLater();
    await this.#write(slot, { set: [user], activities: [activity], ...this.#bookkeeping(slot) });
    const tenant = this.#context.main.findTenant(tenantId);
    this.#context.events.emit(
      this.#usersEvent(slot, [user.id]),
      ...(tenant ? [{ type: 'tenant', tenant: structuredClone(tenant) } as const] : []),
      { type: 'activity', activity: structuredClone(activity) },
    );
    return { user, activity: structuredClone(activity) };
  }
}

function compactionFailed(tenantId: string, cause: unknown): AppError {
  const reason = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
  return new AppError({
    status: 500,
    code: 'INTERNAL_ERROR',
    message: `Could not compact the users log of tenant ${tenantId} (${reason}). Nothing acknowledged is lost: it is on disk in the users log, or in the new snapshot if that was written first. Until a compaction succeeds the log keeps growing; check the data directory's free space and permissions.`,
    details: { tenantId, reason },
    cause,
  });
}

/** Applies one log record on load. Records are whole states, so one already in the snapshot changes nothing. */
function replay(slot: TenantUsers, record: UsersLogRecord): void {
  for (const entry of record.set ?? []) {
    const user = userOnDisk(entry);
    // Most records set users the table does not hold yet: only a later `lastVerifiedAt` makes a copy.
    const known = slot.table.lastVerifiedAt(user.id) ?? 0;
    slot.table.set(known > user.lastVerifiedAt ? { ...user, lastVerifiedAt: known } : user);
  }
  for (const id of record.removed ?? []) slot.table.delete(id);
  if (record.deltaLink !== undefined) {
    slot.deltaLink = record.deltaLink;
    slot.deltaRound = record.deltaRound ?? slot.deltaRound;
  }
  for (const [at, ids] of record.verified ?? []) for (const id of ids) slot.table.verify(id, at);
}

function addVerified(slot: TenantUsers, at: number, userId: string): void {
  const ids = slot.verified.get(at);
  if (ids) ids.push(userId);
  else slot.verified.set(at, [userId]);
}

function emptyUsers(tenantId: string): UsersFile {
  return { schemaVersion: STORE_SCHEMA_VERSION, tenantId, deltaLink: null, users: {} };
}
