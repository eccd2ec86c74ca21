import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Timer } from '../clock';
import { systemClock } from '../clock';
import { AppError } from '../errors/AppError';
import { handleError } from '../errors/handleError';
import { ForegroundRequests } from '../foregroundRequests';
import { createLogger, type Logger } from '../logging/logger';
import type { DataDirLock } from './dataDirLock';
import { acquireDataDirLock } from './dataDirLock';
import { DurableJsonFile } from './durableJsonFile';
import { loadStoreFile } from './loadStoreFile';
import type { LowdbContext } from './lowdbContext';
import { LowdbAppProfiles } from './lowdbAppProfiles';
import { LowdbMainFile } from './lowdbMainFile';
import { LowdbSyncState } from './lowdbSyncState';
import { LowdbSystemLog, SYSTEM_LOG_JOURNAL_FILE_NAME, SystemLogJournal } from './lowdbSystemLog';
import { LowdbTasks } from './lowdbTasks';
import { LowdbTenants } from './lowdbTenants';
import { LowdbUsers } from './lowdbUsers';
import { MAIN_JOURNAL_FILE_NAME, MainFileJournal } from './mainFileJournal';
import type { Store } from './store';
import { StoreEventEmitter } from './storeEventEmitter';
import type { MainFile, SystemLogFile } from './storeSchema';
import { MAIN_FILE_SCHEMA_VERSION, mainFileSchema, STORE_SCHEMA_VERSION, systemLogFileSchema } from './storeSchema';
import { upgradeMainFile } from './upgradeMainFile';
import type {
  ActivityQuery,
  CredentialHealth,
  CredentialKind,
  NewActivity,
  NewAppProfile,
  NewTask,
  NewTenant,
  RecordedRefresh,
  RefreshDecision,
  StoredActivity,
  StoredAppProfile,
  StoredTask,
  StoredTenant,
  StoredUser,
  StoreEvent,
  SyncFailure,
  SystemLogEntry,
  SystemLogInput,
  SystemLogQuery,
  TaskQuery,
  TenantStatus,
  UserChangeBatch,
  UserChangeSummary,
  UserCounts,
  UserPage,
  UserQuery,
} from './storeTypes';

export const MAIN_FILE_NAME = 'store.json';
export const SYSTEM_LOG_FILE_NAME = 'system-log.json';
export const SYNC_STATE_FILE_NAME = 'sync-state.json';
export const USERS_DIR_NAME = 'users';

export interface LowdbStoreOptions {
  dataDir: string;
  clock?: Clock;
  /** Errors of background checkpoints, which have no caller to report to. */
  logger?: Logger;
  systemLogMaxEntries?: number;
  /** How long bookkeeping that changed nothing else may wait in memory before it is written. */
  checkpointIntervalMs?: number;
  /** Finished automated tasks kept per tenant and kind; older ones are dropped. */
  automatedTaskRetention?: number;
  activityRetention?: number;
  /** A tenant's users log is compacted into a new snapshot once larger than this and than the snapshot. */
  usersLogCompactionBytes?: number;
  /**
   * The daemon's API requests, which a sync's slices of a page give way to. Without a daemon (migration,
   * tests) none are ever in flight, and each slice waits one turn of the event loop.
   */
  foregroundRequests?: ForegroundRequests;
}

function emptyMain(): MainFile {
  return { schemaVersion: MAIN_FILE_SCHEMA_VERSION, nextSeq: 1, tenants: [], appProfiles: [], tasks: [], activities: [] };
}

function emptyLog(): SystemLogFile {
  return { schemaVersion: STORE_SCHEMA_VERSION, nextSeq: 1, entries: [] };
}

/**
 * The store in JSON files through lowdb, for one daemon: the only code that touches lowdb. Every change
 * resolves only once it is on disk; reads answer from memory.
 *
 * Files in the data directory (all 0600):
 * - `store.json`: tenants, tasks, activities;
 * - `store.journal`: what changed in `store.json` since it was last written (registrations, refreshes and
 *   their tasks, removals, rotations, a tenant's new error or status), one append each, so that a change
 *   does not rewrite it (`MainFileJournal`);
 * - `sync-state.json`: what quiet rounds move forward ("as of", last attempt, delta link), per tenant, so
 *   that a checkpoint after them rewrites neither `store.json` nor a file per tenant (`LowdbSyncState`);
 * - `users/<tenant id>.snap.json` + `users/<tenant id>.log`: one tenant's users and its delta link, as a
 *   snapshot and an append-only log of changes since (see `UsersLog`); a `users/<tenant id>.json` of the
 *   earlier one-file format becomes a snapshot when it opens;
 * - `system-log.json`: the bounded system log, with `system-log.journal` for the entries since it was
 *   last written (`SystemLogJournal`);
 * - `daemon.lock`: which process owns the directory.
 *
 * (The vault keeps `vault.json` and `vault.key` in the same directory, under the same lock.)
 *
 * A refresh needs no lock of its own here: it decides and records in one synchronous step, and this
 * process is the only one using the directory (`daemon.lock`).
 */
export class LowdbStore implements Store {
  readonly dataDir: string;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #lock: DataDirLock;
  readonly #main: LowdbMainFile;
  readonly #events: StoreEventEmitter;
  readonly #tenants: LowdbTenants;
  readonly #appProfiles: LowdbAppProfiles;
  readonly #users: LowdbUsers;
  readonly #tasks: LowdbTasks;
  readonly #systemLog: LowdbSystemLog;
  readonly #syncState: LowdbSyncState;
  readonly #checkpointIntervalMs: number;
  #checkpointTimer: Timer | null = null;
  #closed = false;
  /** Settles once the users have loaded, or failed to. */
  #usersLoading: Promise<void> = Promise.resolve();

  private constructor(init: {
    options: LowdbStoreOptions;
    clock: Clock;
    lock: DataDirLock;
    main: LowdbMainFile;
    syncState: LowdbSyncState;
    systemLog: Omit<ConstructorParameters<typeof LowdbSystemLog>[0], 'clock' | 'events' | 'assertOpen' | 'maxEntries' | 'scheduleCheckpoint'>;
  }) {
    const { options } = init;
    this.dataDir = options.dataDir;
    this.#clock = init.clock;
    this.#logger = options.logger;
    this.#lock = init.lock;
    this.#main = init.main;
    this.#syncState = init.syncState;
    this.#events = new StoreEventEmitter(options.logger);
    this.#checkpointIntervalMs = options.checkpointIntervalMs ?? 5 * 60_000;
    const context: LowdbContext = {
      clock: init.clock,
      main: init.main,
      events: this.#events,
      assertOpen: () => this.#assertOpen(),
      saveMainLater: () => {
        init.main.markLazy();
        this.#scheduleCheckpoint();
      },
      saveMainChange: (change) => {
        init.main.markLazy();
        this.#scheduleCheckpoint();
        return init.main.saveChange(change);
      },
      carryMainLater: () => init.main.markCarried(),
      saveSyncStateLater: () => {
        init.syncState.markDirty();
        this.#scheduleCheckpoint();
      },
      scheduleCheckpoint: () => this.#scheduleCheckpoint(),
      reportFailure: (error, where) => {
        handleError(error, { source: 'store', ...where }, { logger: this.#logger ?? createLogger({ write: () => undefined }), systemLog: this });
      },
    };
    this.#tasks = new LowdbTasks(context, {
      automatedTaskRetention: options.automatedTaskRetention ?? 50,
      activityRetention: options.activityRetention ?? 10_000,
    });
    this.#users = new LowdbUsers(
      context,
      this.#tasks,
      join(options.dataDir, USERS_DIR_NAME),
      options.foregroundRequests ?? new ForegroundRequests(),
      options.usersLogCompactionBytes,
    );
    this.#tenants = new LowdbTenants(context, this.#tasks, this.#users);
    this.#appProfiles = new LowdbAppProfiles(context, this.#tasks);
    this.#systemLog = new LowdbSystemLog({
      ...init.systemLog,
      clock: init.clock,
      events: this.#events,
      assertOpen: () => this.#assertOpen(),
      scheduleCheckpoint: () => this.#scheduleCheckpoint(),
      maxEntries: options.systemLogMaxEntries ?? 5000,
    });
  }

  /** Takes the data directory's lock (refusing if another daemon holds it) and loads every file. */
  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    const { store, usersLoaded } = await LowdbStore.opening(options);
    await usersLoaded;
    return store;
  }

  /**
   * As `open`, but answers once `store.json` is loaded, with the users still loading: until `usersLoaded`
   * resolves, only the tenants may be read. If it rejects (a users file that cannot be read), the store is
   * closed already and the lock released.
   */
  static async opening(options: LowdbStoreOptions): Promise<{ store: LowdbStore; usersLoaded: Promise<void> }> {
    const clock = options.clock ?? systemClock;
    const usersDir = join(options.dataDir, USERS_DIR_NAME);
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    const lock = await acquireDataDirLock(options.dataDir, clock.now());
    try {
      await mkdir(usersDir, { recursive: true, mode: 0o700 });
      await removeLeftoverTempFiles(options.dataDir);
      await removeLeftoverTempFiles(usersDir);
      const mainFile = new DurableJsonFile<MainFile>(join(options.dataDir, MAIN_FILE_NAME), { indent: 1 });
      const logFile = new DurableJsonFile<SystemLogFile>(join(options.dataDir, SYSTEM_LOG_FILE_NAME), { indent: 1 });
      const mainData = await loadStoreFile(mainFile, mainFileSchema, emptyMain, { current: MAIN_FILE_SCHEMA_VERSION, upgrade: upgradeMainFile });
      const { journal, records } = await MainFileJournal.open(join(options.dataDir, MAIN_JOURNAL_FILE_NAME));
      let logJournal: SystemLogJournal | undefined;
      let store: LowdbStore;
      try {
        const main = new LowdbMainFile(mainData, mainFile, journal);
        // Registrations acknowledged since store.json was last written; it catches up at the first checkpoint.
        if (main.replayJournal(records) > 0) main.markLazy();
        journal.foldedBelow(main.durableSeq);
        const syncState = await LowdbSyncState.open(join(options.dataDir, SYNC_STATE_FILE_NAME));
        for (const tenant of main.data.tenants) syncState.applyTo(tenant);
        const log = await loadStoreFile(logFile, systemLogFileSchema, emptyLog);
        const opened = await SystemLogJournal.open(join(options.dataDir, SYSTEM_LOG_JOURNAL_FILE_NAME));
        logJournal = opened.journal;
        store = new LowdbStore({ options, clock, lock, main, syncState, systemLog: { db: log, file: logFile, journal: logJournal } });
        store.#systemLog.replayJournal(opened.records);
      } catch (error) {
        await journal.close();
        await logJournal?.close();
        throw error;
      }
      if (store.#main.lazy || store.#systemLog.lazy) store.#scheduleCheckpoint();
      const usersLoaded = store.#users.load(new Set(store.#main.data.tenants.map((t) => t.id)), store.#syncState).catch(async (error: unknown) => {
        store.#closed = true;
        await journal.close().catch(() => undefined);
        await store.#systemLog.journal.close().catch(() => undefined);
        await lock.release();
        throw error;
      });
      store.#usersLoading = usersLoaded.catch(() => undefined);
      // Whoever opens it hears of a failure through `usersLoaded`; this keeps it from going unhandled meanwhile.
      usersLoaded.catch(() => undefined);
      return { store, usersLoaded };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  async close(): Promise<void> {
    // A load still reading files would otherwise go on after the lock is released.
    await this.#usersLoading;
    if (this.#closed) return;
    try {
      await this.#flush(true);
    } finally {
      this.#closed = true;
      await this.#idle();
      this.#events.clear();
      await this.#main.journal.close().catch((error: unknown) => this.#logger?.error('Could not close the main file\'s journal', { error }));
      await this.#systemLog.journal.close().catch((error: unknown) => this.#logger?.error('Could not close the system log\'s journal', { error }));
      await this.#lock.release();
    }
  }

  checkpoint(): Promise<void> {
    return this.#flush(false);
  }

  onDidChange(listener: (event: StoreEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  // ---- tenants ----

  addTenant(input: NewTenant): Promise<StoredTenant> {
    // Checked in the same synchronous step as the add, so the profile cannot go in between.
    try {
      if (input.appProfileId) this.#appProfiles.assertUsable(input.appProfileId, input.appId);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.#tenants.addTenant(input);
  }

  getTenant(tenantId: string): Promise<StoredTenant | undefined> {
    return this.#tenants.getTenant(tenantId);
  }

  requireTenant(tenantId: string): Promise<StoredTenant> {
    return this.#tenants.requireTenant(tenantId);
  }

  readTenant(tenantId: string): Promise<Readonly<StoredTenant> | undefined> {
    return this.#tenants.readTenant(tenantId);
  }

  listTenants(): Promise<StoredTenant[]> {
    return this.#tenants.listTenants();
  }

  readTenants(): Promise<ReadonlyArray<Readonly<StoredTenant>>> {
    return this.#tenants.readTenants();
  }

  removeTenant(tenantId: string, by: string): Promise<StoredActivity> {
    return this.#tenants.removeTenant(tenantId, by);
  }

  recordCredentialsRotated(tenantId: string, credentialKind: CredentialKind, by: string): Promise<StoredActivity> {
    return this.#tenants.recordCredentialsRotated(tenantId, credentialKind, by);
  }

  recordSyncAttempt(tenantId: string): Promise<void> {
    return this.#tenants.recordSyncAttempt(tenantId);
  }

  recordSyncSuccess(tenantId: string, at?: number): Promise<void> {
    return this.#tenants.recordSyncSuccess(tenantId, at);
  }

  recordSyncFailure(tenantId: string, failure: Omit<SyncFailure, 'at'>): Promise<void> {
    return this.#tenants.recordSyncFailure(tenantId, failure);
  }

  recordTenantStatus(tenantId: string, status: TenantStatus, reason: string): Promise<StoredActivity | undefined> {
    return this.#tenants.recordTenantStatus(tenantId, status, reason);
  }

  recordCredentialHealth(tenantId: string, health: CredentialHealth): Promise<void> {
    return this.#tenants.recordCredentialHealth(tenantId, health);
  }

  // ---- app profiles ----

  addAppProfile(input: NewAppProfile): Promise<StoredAppProfile> {
    return this.#appProfiles.addAppProfile(input);
  }

  getAppProfile(profileId: string): Promise<StoredAppProfile | undefined> {
    return this.#appProfiles.getAppProfile(profileId);
  }

  requireAppProfile(profileId: string): Promise<StoredAppProfile> {
    return this.#appProfiles.requireAppProfile(profileId);
  }

  listAppProfiles(): Promise<StoredAppProfile[]> {
    return this.#appProfiles.listAppProfiles();
  }

  removeAppProfile(profileId: string, by: string): Promise<StoredActivity> {
    return this.#appProfiles.removeAppProfile(profileId, by);
  }

  recordAppProfileCredentialsRotated(profileId: string, credential: { kind: CredentialKind; expiresAt: number | null }, by: string): Promise<StoredActivity> {
    return this.#appProfiles.recordAppProfileCredentialsRotated(profileId, credential, by);
  }

  // ---- users ----

  getDeltaLink(tenantId: string): Promise<string | null> {
    return this.#users.getDeltaLink(tenantId);
  }

  applyUserChanges(tenantId: string, batch: UserChangeBatch): Promise<UserChangeSummary> {
    return this.#users.applyUserChanges(tenantId, batch);
  }

  recordUserLocked(tenantId: string, userId: string, lock: { by: string; revokedSessions: boolean }): Promise<{ user: StoredUser; activity: StoredActivity }> {
    return this.#users.recordUserLocked(tenantId, userId, lock);
  }

  recordUserUnlocked(tenantId: string, userId: string, by: string): Promise<{ user: StoredUser; activity: StoredActivity }> {
    return this.#users.recordUserUnlocked(tenantId, userId, by);
  }

  getUser(tenantId: string, userId: string): Promise<StoredUser | undefined> {
    return this.#users.getUser(tenantId, userId);
  }

  listUsers(tenantId: string, query?: UserQuery): Promise<UserPage> {
    return this.#users.listUsers(tenantId, query);
  }

  countUsers(tenantId: string): Promise<UserCounts> {
    return this.#users.countUsers(tenantId);
  }

  // ---- tasks and activities ----

  recordActivity(input: NewActivity, tasks?: readonly NewTask[]): Promise<{ activity: StoredActivity; tasks: StoredTask[] }> {
    return this.#tasks.recordActivity(input, tasks);
  }

  recordRefresh(tenantId: string, decide: (latestRefreshTasks: readonly StoredTask[], tenant: StoredTenant) => RefreshDecision): Promise<RecordedRefresh> {
    return this.#tasks.recordRefresh(tenantId, decide);
  }

  queueTask(input: NewTask): Promise<StoredTask> {
    return this.#tasks.queueTask(input);
  }

  beginTask(input: NewTask): Promise<StoredTask> {
    return this.#tasks.beginTask(input);
  }

  startTask(taskId: string): Promise<StoredTask> {
    return this.#tasks.startTask(taskId);
  }

  completeTask(taskId: string, description?: string): Promise<StoredTask> {
    return this.#tasks.completeTask(taskId, description);
  }

  failTask(taskId: string, error: { code: string; message: string; errorId?: string }): Promise<StoredTask> {
    return this.#tasks.failTask(taskId, error);
  }

  failInterruptedTasks(reason: string): Promise<StoredTask[]> {
    return this.#tasks.failInterruptedTasks(reason);
  }

  getTask(taskId: string): Promise<StoredTask | undefined> {
    return this.#tasks.getTask(taskId);
  }

  listTasks(query?: TaskQuery): Promise<StoredTask[]> {
    return this.#tasks.listTasks(query);
  }

  pendingTasks(): Promise<StoredTask[]> {
    return this.#tasks.pendingTasks();
  }

  listActivities(query?: ActivityQuery): Promise<StoredActivity[]> {
    return this.#tasks.listActivities(query);
  }

  // ---- work shared across daemons: this daemon is the only one ----

  async renewTenantLeases(): Promise<ReadonlySet<string>> {
    return new Set((await this.listTenants()).map((tenant) => tenant.id));
  }

  async claimNextTask(busyTenantIds: readonly string[]): Promise<StoredTask | undefined> {
    const busy = new Set(busyTenantIds);
    for (const task of await this.pendingTasks()) {
      if (task.tenantId !== null && busy.has(task.tenantId)) continue;
      // Another caller in this process may have started it since the queue was read.
      if ((await this.getTask(task.id))?.status === 'PENDING') return this.startTask(task.id);
    }
    return undefined;
  }

  async failTasksOfGoneDaemons(): Promise<StoredTask[]> {
    return [];
  }

  // ---- system log ----

  appendSystemLog(input: SystemLogInput): Promise<SystemLogEntry> {
    return this.#systemLog.appendSystemLog(input);
  }

  querySystemLog(query?: SystemLogQuery): Promise<SystemLogEntry[]> {
    return this.#systemLog.querySystemLog(query);
  }

  // ---- internals ----

  #assertOpen(): void {
    if (this.#closed) throw new AppError({ status: 503, code: 'STORE_CLOSED', message: 'The daemon is shutting down.' });
  }

  #idle(): Promise<unknown> {
    return Promise.all([this.#main.idle(), this.#systemLog.file.idle(), this.#systemLog.journal.idle(), this.#syncState.file.idle(), ...this.#users.idle()]);
  }

  /** A checkpoint; when closing, also the poller's records the main file carries until its next write. */
  async #flush(closing: boolean): Promise<void> {
    this.#checkpointTimer?.cancel();
    this.#checkpointTimer = null;
    const writes: Array<Promise<void>> = [];
    if (this.#main.lazy || (closing && this.#main.carried)) writes.push(this.#main.save());
    if (this.#systemLog.lazy) writes.push(this.#systemLog.save());
    writes.push(...this.#users.checkpoint());
    if (this.#syncState.dirty) {
      writes.push(this.#syncState.save(this.#main.data.tenants, (tenantId) => this.#users.durableDeltaLink(tenantId)));
    }
    await Promise.all(writes);
    await this.#idle();
  }

  #scheduleCheckpoint(): void {
    if (this.#checkpointTimer || this.#closed) return;
    this.#checkpointTimer = this.#clock.setTimeout(() => {
      this.#checkpointTimer = null;
      this.checkpoint().catch((error: unknown) => this.#logger?.error('Could not write a store checkpoint', { error }));
    }, this.#checkpointIntervalMs);
  }
}

/** Opens the file store in `options.dataDir`; see `LowdbStore`. */
export function openLowdbStore(options: LowdbStoreOptions): Promise<LowdbStore> {
  return LowdbStore.open(options);
}

// Left by a crash between writing a temp file and renaming it: never the live data, safe to drop.
async function removeLeftoverTempFiles(directory: string): Promise<void> {
  for (const name of await readdir(directory)) {
    if (name.startsWith('.') && name.endsWith('.tmp')) await unlink(join(directory, name)).catch(() => undefined);
  }
}
