import { randomUUID } from 'node:crypto';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Low } from 'lowdb';
import type { Clock, Timer } from '../clock';
import { systemClock } from '../clock';
import { AppError } from '../errors/AppError';
import { syncDirectory } from '../files/writeFileAtomic';
import type { Logger } from '../logging/logger';
import { redactSecrets, redactText } from '../logging/redactSecrets';
import type { DataDirLock } from './dataDirLock';
import { acquireDataDirLock } from './dataDirLock';
import { DurableJsonFile } from './durableJsonFile';
import { loadStoreFile } from './loadStoreFile';
import type {
  ActivityKind,
  CredentialHealth,
  CredentialKind,
  MainFile,
  StoredActivity,
  StoredTask,
  StoredTenant,
  StoredUser,
  SyncFailure,
  SystemLogEntry,
  SystemLogFile,
  SystemLogLevel,
  TaskOrigin,
  TaskStatus,
  TenantStatus,
  UserLock,
  UsersFile,
} from './storeSchema';
import { mainFileSchema, STORE_SCHEMA_VERSION, systemLogFileSchema, usersFileSchema } from './storeSchema';

export const MAIN_FILE_NAME = 'store.json';
export const SYSTEM_LOG_FILE_NAME = 'system-log.json';
export const USERS_DIR_NAME = 'users';

export interface StoreOptions {
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
}

export type StoreEvent =
  | { type: 'tenant'; tenant: StoredTenant }
  | { type: 'tenant-removed'; tenantId: string }
  | { type: 'users'; tenantId: string; userIds: readonly string[] }
  | { type: 'task'; task: StoredTask }
  | { type: 'activity'; activity: StoredActivity }
  | { type: 'log'; entry: SystemLogEntry };

export interface NewTenant {
  tenantIdOrDomain: string;
  appId: string;
  credentialKind: CredentialKind;
  displayName?: string;
  pollIntervalMs?: number | null;
  /** The operator registering it. */
  by: string;
}

export interface NewTask {
  tenantId: string | null;
  kind: string;
  name: string;
  description: string;
  origin: TaskOrigin;
  automated: boolean;
}

export interface NewActivity {
  tenantId: string | null;
  kind: ActivityKind;
  name: string;
  description: string;
  actor: string;
  management: boolean;
  userId?: string | null;
  blockedByTaskId?: string | null;
}

/** A user as Graph reports it, before the store adds its own bookkeeping. */
export interface ObservedUser {
  id: string;
  userPrincipalName: string;
  displayName: string | null;
  accountEnabled: boolean;
  onPremisesSyncEnabled: boolean | null;
}

export interface UserChangeBatch {
  /** When the Graph round that produced this batch started. */
  observedAt: number;
  users: readonly ObservedUser[];
  /** Users Graph reported as `@removed`. */
  removedUserIds?: readonly string[];
  /** The delta link to continue from; null forgets it (the next round is a full one). */
  deltaLink: string | null;
  /** `users` is every user of the tenant: any other stored user no longer exists. */
  fullRound?: boolean;
}

export interface UserChangeSummary {
  added: StoredUser[];
  changed: Array<{ before: StoredUser; after: StoredUser }>;
  removed: StoredUser[];
  /** Users the product had locked that were found enabled: someone re-enabled them elsewhere. */
  locksCleared: StoredUser[];
  /** Whether the users file was written now (false when nothing but bookkeeping changed). */
  written: boolean;
}

export type UserStateFilter = 'locked' | 'disabled' | 'enabled';

export interface UserQuery {
  state?: UserStateFilter;
  /** Case-insensitive, in the user principal name or display name. */
  text?: string;
  offset?: number;
  limit?: number;
}

export interface UserCounts {
  total: number;
  enabled: number;
  disabled: number;
  locked: number;
}

export interface TaskQuery {
  includeAutomated?: boolean;
  tenantId?: string;
  status?: TaskStatus;
  limit?: number;
}

export interface ActivityQuery {
  tenantId?: string;
  limit?: number;
}

export interface SystemLogInput {
  level: SystemLogLevel;
  message: string;
  code?: string;
  errorId?: string;
  source?: string;
  taskId?: string;
  tenantId?: string;
  details?: Readonly<Record<string, unknown>>;
}

export interface SystemLogQuery {
  taskId?: string;
  tenantId?: string;
  /** The least severe level returned: `warn` returns warnings and errors. */
  level?: SystemLogLevel;
  limit?: number;
}

interface UsersSlot {
  db: Low<UsersFile>;
  file: DurableJsonFile<UsersFile>;
  lazy: boolean;
}

const LEVEL_RANK: Readonly<Record<SystemLogLevel, number>> = { info: 0, warn: 1, error: 2 };
const FINISHED: ReadonlySet<TaskStatus> = new Set(['COMPLETE', 'ERROR']);

function emptyMain(): MainFile {
  return { schemaVersion: STORE_SCHEMA_VERSION, nextSeq: 1, tenants: [], tasks: [], activities: [] };
}

function emptyLog(): SystemLogFile {
  return { schemaVersion: STORE_SCHEMA_VERSION, nextSeq: 1, entries: [] };
}

function emptyUsers(tenantId: string): UsersFile {
  return { schemaVersion: STORE_SCHEMA_VERSION, tenantId, deltaLink: null, users: {} };
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

/**
 * The daemon's picture of every tenant, on disk. The only code that touches lowdb; every change goes
 * through a function named for what happened, and resolves only once the change is on disk.
 *
 * Files in the data directory (all 0600):
 * - `store.json`: tenants, tasks, activities;
 * - `users/<tenant id>.json`: one tenant's users and its delta link;
 * - `system-log.json`: the bounded system log;
 * - `daemon.lock`: which process owns the directory.
 *
 * (The vault keeps `vault.json` and `vault.key` in the same directory, under the same lock.)
 *
 * Bookkeeping that only moves forward in time ("as of", last attempt, last verified, a new delta link
 * with no user changed, the poller's own automated tasks) is kept in memory and written with the next
 * real change or at the next checkpoint, so a sync that changed nothing writes nothing. A crash loses at
 * most that bookkeeping: the next sync recomputes it.
 */
export class Store {
  readonly dataDir: string;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #lock: DataDirLock;
  readonly #main: Low<MainFile>;
  readonly #mainFile: DurableJsonFile<MainFile>;
  readonly #log: Low<SystemLogFile>;
  readonly #logFile: DurableJsonFile<SystemLogFile>;
  readonly #users = new Map<string, UsersSlot>();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #systemLogMaxEntries: number;
  readonly #checkpointIntervalMs: number;
  readonly #automatedTaskRetention: number;
  readonly #activityRetention: number;
  #mainLazy = false;
  #checkpointTimer: Timer | null = null;
  #closed = false;

  private constructor(init: {
    options: StoreOptions;
    clock: Clock;
    lock: DataDirLock;
    main: Low<MainFile>;
    mainFile: DurableJsonFile<MainFile>;
    log: Low<SystemLogFile>;
    logFile: DurableJsonFile<SystemLogFile>;
  }) {
    this.dataDir = init.options.dataDir;
    this.#clock = init.clock;
    this.#logger = init.options.logger;
    this.#lock = init.lock;
    this.#main = init.main;
    this.#mainFile = init.mainFile;
    this.#log = init.log;
    this.#logFile = init.logFile;
    this.#systemLogMaxEntries = init.options.systemLogMaxEntries ?? 5000;
    this.#checkpointIntervalMs = init.options.checkpointIntervalMs ?? 5 * 60_000;
    this.#automatedTaskRetention = init.options.automatedTaskRetention ?? 50;
    this.#activityRetention = init.options.activityRetention ?? 10_000;
  }

  /** Takes the data directory's lock (refusing if another daemon holds it) and loads every file. */
  static async open(options: StoreOptions): Promise<Store> {
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
      const main = await loadStoreFile(mainFile, mainFileSchema, emptyMain);
      const log = await loadStoreFile(logFile, systemLogFileSchema, emptyLog);
      const store = new Store({ options, clock, lock, main, mainFile, log, logFile });
      await store.#loadUsers(usersDir);
      return store;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  async #loadUsers(usersDir: string): Promise<void> {
    const known = new Set(this.#main.data.tenants.map((t) => t.id));
    for (const tenantId of known) {
      const file = new DurableJsonFile<UsersFile>(this.#usersPath(tenantId));
      const db = await loadStoreFile(file, usersFileSchema, () => emptyUsers(tenantId));
      this.#users.set(tenantId, { db, file, lazy: false });
    }
    // A tenant removed just before a crash can leave its users behind: they belong to no one now.
    for (const name of await readdir(usersDir)) {
      const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : null;
      if (id !== null && !known.has(id)) await unlink(join(usersDir, name)).catch(() => undefined);
    }
  }

  /** Writes pending bookkeeping, waits for every write, and releases the data directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.checkpoint();
    } finally {
      this.#closed = true;
      await this.#idle();
      this.#listeners.clear();
      await this.#lock.release();
    }
  }

  /** Writes whatever bookkeeping is waiting in memory; resolves when every file is on disk. */
  async checkpoint(): Promise<void> {
    this.#checkpointTimer?.cancel();
    this.#checkpointTimer = null;
    const writes: Array<Promise<void>> = [];
    if (this.#mainLazy) writes.push(this.#saveMain());
    for (const slot of this.#users.values()) {
      if (slot.lazy) writes.push(this.#saveUsers(slot));
    }
    await Promise.all(writes);
    await this.#idle();
  }

  #idle(): Promise<unknown> {
    return Promise.all([this.#mainFile.idle(), this.#logFile.idle(), ...[...this.#users.values()].map((s) => s.file.idle())]);
  }

  /**
   * Changes, once they are on disk; bookkeeping ("as of", a repeated failure) as soon as it is in memory.
   * Returns the unsubscribe function.
   */
  onDidChange(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- tenants ----

  async addTenant(input: NewTenant): Promise<StoredTenant> {
    this.#assertOpen();
    const duplicate = this.#main.data.tenants.find(
      (t) => t.tenantIdOrDomain.toLowerCase() === input.tenantIdOrDomain.toLowerCase(),
    );
    if (duplicate) {
      throw AppError.conflict('TENANT_EXISTS', `${input.tenantIdOrDomain} is already registered as "${duplicate.displayName}".`, {
        tenantId: duplicate.id,
      });
    }
    const at = this.#clock.now();
    const tenant: StoredTenant = {
      id: randomUUID(),
      tenantIdOrDomain: input.tenantIdOrDomain,
      displayName: input.displayName ?? input.tenantIdOrDomain,
      appId: input.appId,
      credentialKind: input.credentialKind,
      pollIntervalMs: input.pollIntervalMs ?? null,
      createdAt: at,
      lastSyncAt: null,
      lastAttemptAt: null,
      lastError: null,
      lastManagementActivityAt: at,
      status: 'ACTIVE',
      statusChangedAt: at,
      credentialHealth: null,
    };
    this.#main.data.tenants.push(tenant);
    const file = new DurableJsonFile<UsersFile>(this.#usersPath(tenant.id));
    const slot: UsersSlot = { db: await loadStoreFile(file, usersFileSchema, () => emptyUsers(tenant.id)), file, lazy: false };
    this.#users.set(tenant.id, slot);
    const activity = this.#pushActivity({
      tenantId: tenant.id,
      kind: 'tenant-added',
      name: 'Registered tenant',
      description: `Registered ${tenant.tenantIdOrDomain} with app ${tenant.appId} (${tenant.credentialKind}).`,
      actor: input.by,
      management: true,
    });
    await this.#saveMain();
    this.#emit({ type: 'tenant', tenant: copy(tenant) }, { type: 'activity', activity: copy(activity) });
    return copy(tenant);
  }

  getTenant(tenantId: string): StoredTenant | undefined {
    const tenant = this.#findTenant(tenantId);
    return tenant ? copy(tenant) : undefined;
  }

  /** Like getTenant, but a missing tenant is the caller's error (404). */
  requireTenant(tenantId: string): StoredTenant {
    return copy(this.#requireTenant(tenantId));
  }

  listTenants(): StoredTenant[] {
    return copy(this.#main.data.tenants);
  }

  /** Forgets the tenant and its users; its history (tasks, activities) stays. Pending tasks are failed. */
  async removeTenant(tenantId: string, by: string): Promise<StoredActivity> {
    this.#assertOpen();
    const tenant = this.#requireTenant(tenantId);
    const at = this.#clock.now();
    this.#main.data.tenants = this.#main.data.tenants.filter((t) => t.id !== tenantId);
    const failed: StoredTask[] = [];
    for (const task of this.#main.data.tasks) {
      if (task.tenantId === tenantId && task.status === 'PENDING') {
        Object.assign(task, {
          status: 'ERROR',
          finishedAt: at,
          error: { code: 'TENANT_REMOVED', message: 'The tenant was removed before this task ran.', errorId: null },
        } satisfies Partial<StoredTask>);
        failed.push(task);
      }
    }
    const activity = this.#pushActivity({
      tenantId,
      kind: 'tenant-removed',
      name: 'Removed tenant',
      description: `Removed ${tenant.tenantIdOrDomain} and its cached users.`,
      actor: by,
      management: false,
    });
    await this.#saveMain();
    const slot = this.#users.get(tenantId);
    this.#users.delete(tenantId);
    if (slot) {
      await slot.file.idle();
      await unlink(slot.file.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await syncDirectory(join(this.dataDir, USERS_DIR_NAME));
    }
    this.#emit(
      { type: 'tenant-removed', tenantId },
      ...failed.map((task): StoreEvent => ({ type: 'task', task: copy(task) })),
      { type: 'activity', activity: copy(activity) },
    );
    return copy(activity);
  }

  async recordCredentialsRotated(tenantId: string, credentialKind: CredentialKind, by: string): Promise<StoredActivity> {
    this.#assertOpen();
    const tenant = this.#requireTenant(tenantId);
    const previous = tenant.credentialKind;
    tenant.credentialKind = credentialKind;
    // Health describes the old credential; the next check fills it in for the new one.
    tenant.credentialHealth = null;
    const activity = this.#pushActivity({
      tenantId,
      kind: 'credentials-rotated',
      name: 'Rotated credentials',
      description:
        previous === credentialKind
          ? `Replaced the ${credentialKind} used to sign in to ${tenant.tenantIdOrDomain}.`
          : `Replaced the ${previous} used to sign in to ${tenant.tenantIdOrDomain} with a ${credentialKind}.`,
      actor: by,
      management: true,
    });
    await this.#saveMain();
    this.#emit({ type: 'tenant', tenant: copy(tenant) }, { type: 'activity', activity: copy(activity) });
    return copy(activity);
  }

  async setTenantPollInterval(tenantId: string, pollIntervalMs: number | null, by: string): Promise<StoredTenant> {
    this.#assertOpen();
    const tenant = this.#requireTenant(tenantId);
    if (tenant.pollIntervalMs === pollIntervalMs) return copy(tenant);
    tenant.pollIntervalMs = pollIntervalMs;
    const activity = this.#pushActivity({
      tenantId,
      kind: 'settings-changed',
      name: 'Changed poll interval',
      description:
        pollIntervalMs === null
          ? 'This tenant now follows the daemon poll interval.'
          : `This tenant is now polled every ${Math.round(pollIntervalMs / 1000)} s.`,
      actor: by,
      management: true,
    });
    await this.#saveMain();
    this.#emit({ type: 'tenant', tenant: copy(tenant) }, { type: 'activity', activity: copy(activity) });
    return copy(tenant);
  }

  /** A sync attempt started: bookkeeping only. */
  recordSyncAttempt(tenantId: string): void {
    this.#assertOpen();
    this.#requireTenant(tenantId).lastAttemptAt = this.#clock.now();
    this.#saveMainLater();
  }

  /** A sync finished: the tenant's picture is true "as of" `at`. Written now only if it clears an error. */
  async recordSyncSuccess(tenantId: string, at: number = this.#clock.now()): Promise<void> {
    this.#assertOpen();
    const tenant = this.#requireTenant(tenantId);
    const hadError = tenant.lastError !== null;
    tenant.lastSyncAt = Math.max(tenant.lastSyncAt ?? 0, at);
    tenant.lastAttemptAt = Math.max(tenant.lastAttemptAt ?? 0, at);
    tenant.lastError = null;
    if (hadError) await this.#saveMain();
    else this.#saveMainLater();
    this.#emit({ type: 'tenant', tenant: copy(tenant) });
  }

  /** A sync failed. Written now when the failure differs from the last one; a repeat is bookkeeping. */
  async recordSyncFailure(tenantId: string, failure: Omit<SyncFailure, 'at'>): Promise<void> {
    this.#assertOpen();
    const tenant = this.#requireTenant(tenantId);
    const at = this.#clock.now();
    const previous = tenant.lastError;
    const same =
      previous !== null &&
      previous.category === failure.category &&
      previous.code === failure.code &&
      previous.message === failure.message;
    tenant.lastAttemptAt = at;
    tenant.lastError = { ...failure, at };
    if (same) this.#saveMainLater();
    else await this.#saveMain();
    this.#emit({ type: 'tenant', tenant: copy(tenant) });
  }

  /** Records a derived status; a change is written with an activity, no change writes nothing. */
  async recordTenantStatus(tenantId: string, status: TenantStatus, reason: string): Promise<StoredActivity | undefined> {
    this.#assertOpen();
    const tenant = this.#requireTenant(tenantId);
    if (tenant.status === status) return undefined;
    const previous = tenant.status;
    tenant.status = status;
    tenant.statusChangedAt = this.#clock.now();
    const activity = this.#pushActivity({
      tenantId,
      kind: 'status-change',
      name: 'Status changed',
      description: `${previous} → ${status}: ${reason}`,
      actor: 'm365-status',
      management: false,
    });
    await this.#saveMain();
    this.#emit({ type: 'tenant', tenant: copy(tenant) }, { type: 'activity', activity: copy(activity) });
    return copy(activity);
  }

  /** A new credential health check; only a different outcome (not a later `checkedAt`) is written now. */
  async recordCredentialHealth(tenantId: string, health: CredentialHealth): Promise<void> {
    this.#assertOpen();
    const tenant = this.#requireTenant(tenantId);
    const previous = tenant.credentialHealth;
    const same = previous !== null && JSON.stringify({ ...previous, checkedAt: 0 }) === JSON.stringify({ ...health, checkedAt: 0 });
    tenant.credentialHealth = copy(health);
    if (same) this.#saveMainLater();
    else await this.#saveMain();
    this.#emit({ type: 'tenant', tenant: copy(tenant) });
  }

  // ---- users ----

  getDeltaLink(tenantId: string): string | null {
    return this.#requireUsers(tenantId).db.data.deltaLink;
  }

  /**
   * Applies what a Graph round reported. A user's sign-in state observed before the product's own last
   * change to that user (a lock confirmed while the round was in flight) is not applied: it is older
   * than what we know. A user found enabled loses the product's lock.
   */
  async applyUserChanges(tenantId: string, batch: UserChangeBatch): Promise<UserChangeSummary> {
    this.#assertOpen();
    this.#requireTenant(tenantId);
    const slot = this.#requireUsers(tenantId);
    const users = slot.db.data.users;
    const summary: UserChangeSummary = { added: [], changed: [], removed: [], locksCleared: [], written: false };
    const seen = new Set<string>();
    let bookkeeping = false;

    for (const observed of batch.users) {
      seen.add(observed.id);
      const existing = users[observed.id];
      if (!existing) {
        const user: StoredUser = {
          ...pickObserved(observed),
          lastChangedAt: batch.observedAt,
          lastVerifiedAt: batch.observedAt,
          lock: null,
        };
        users[observed.id] = user;
        summary.added.push(copy(user));
        continue;
      }
      const olderThanOurChange = existing.lastChangedAt > batch.observedAt;
      const next: StoredUser = {
        ...existing,
        ...pickObserved(observed),
        accountEnabled: olderThanOurChange ? existing.accountEnabled : observed.accountEnabled,
        lastVerifiedAt: Math.max(existing.lastVerifiedAt, batch.observedAt),
      };
      if (next.accountEnabled && next.lock) next.lock = null;
      if (materiallyDifferent(existing, next)) {
        next.lastChangedAt = Math.max(existing.lastChangedAt, batch.observedAt);
        summary.changed.push({ before: copy(existing), after: copy(next) });
        if (existing.lock && !next.lock) summary.locksCleared.push(copy(next));
      } else if (next.lastVerifiedAt !== existing.lastVerifiedAt) {
        bookkeeping = true;
      }
      users[observed.id] = next;
    }

    const removedIds = new Set(batch.removedUserIds ?? []);
    if (batch.fullRound) {
      for (const id of Object.keys(users)) if (!seen.has(id)) removedIds.add(id);
    }
    for (const id of removedIds) {
      const user = users[id];
      if (!user) continue;
      summary.removed.push(copy(user));
      delete users[id];
    }

    if (slot.db.data.deltaLink !== batch.deltaLink) {
      slot.db.data.deltaLink = batch.deltaLink;
      bookkeeping = true;
    }

    const changedIds = [
      ...summary.added.map((u) => u.id),
      ...summary.changed.map((c) => c.after.id),
      ...summary.removed.map((u) => u.id),
    ];
    if (changedIds.length > 0) {
      await this.#saveUsers(slot);
      summary.written = true;
      this.#emit({ type: 'users', tenantId, userIds: changedIds });
    } else if (bookkeeping) {
      slot.lazy = true;
      this.#scheduleCheckpoint();
    }
    return summary;
  }

  /** Graph confirmed the product disabled the user's sign-in. */
  async recordUserLocked(
    tenantId: string,
    userId: string,
    lock: { by: string; revokedSessions: boolean },
  ): Promise<{ user: StoredUser; activity: StoredActivity }> {
    this.#assertOpen();
    const at = this.#clock.now();
    const userLock: UserLock = { by: lock.by, at, revokedSessions: lock.revokedSessions };
    const user = this.#updateUser(tenantId, userId, { accountEnabled: false, lock: userLock }, at);
    const activity = this.#pushActivity({
      tenantId,
      kind: 'lock',
      name: 'Locked user',
      description: `Disabled sign-in for ${user.userPrincipalName}${lock.revokedSessions ? ' and revoked its sign-in sessions' : ''}.`,
      actor: lock.by,
      management: true,
      userId,
    });
    await Promise.all([this.#saveUsers(this.#requireUsers(tenantId)), this.#saveMain()]);
    this.#emitUserAction(tenantId, user, activity);
    return { user: copy(user), activity: copy(activity) };
  }

  /** Graph confirmed the product enabled the user's sign-in. */
  async recordUserUnlocked(tenantId: string, userId: string, by: string): Promise<{ user: StoredUser; activity: StoredActivity }> {
    this.#assertOpen();
    const at = this.#clock.now();
    const user = this.#updateUser(tenantId, userId, { accountEnabled: true, lock: null }, at);
    const activity = this.#pushActivity({
      tenantId,
      kind: 'unlock',
      name: 'Unlocked user',
      description: `Enabled sign-in for ${user.userPrincipalName}.`,
      actor: by,
      management: true,
      userId,
    });
    await Promise.all([this.#saveUsers(this.#requireUsers(tenantId)), this.#saveMain()]);
    this.#emitUserAction(tenantId, user, activity);
    return { user: copy(user), activity: copy(activity) };
  }

  getUser(tenantId: string, userId: string): StoredUser | undefined {
    const user = this.#requireUsers(tenantId).db.data.users[userId];
    return user ? this.#withVerification(tenantId, user) : undefined;
  }

  /**
   * Users sorted by display name. `lastVerifiedAt` counts the tenant's last successful sync: a delta
   * round that does not mention a user has verified that it did not change.
   */
  listUsers(tenantId: string, query: UserQuery = {}): { users: StoredUser[]; total: number } {
    const all = Object.values(this.#requireUsers(tenantId).db.data.users);
    const text = query.text?.trim().toLowerCase();
    const matching = all.filter((user) => {
      if (query.state === 'locked' && !user.lock) return false;
      // As UserView.state has it: a user the product locked is "locked", not "disabled".
      if (query.state === 'disabled' && (user.accountEnabled || user.lock)) return false;
      if (query.state === 'enabled' && !user.accountEnabled) return false;
      if (text && !user.userPrincipalName.toLowerCase().includes(text) && !(user.displayName ?? '').toLowerCase().includes(text)) {
        return false;
      }
      return true;
    });
    // What needs the operator's eye first: users the product locked, then other disabled ones.
    const rank = (user: StoredUser): number => (user.lock ? 0 : user.accountEnabled ? 2 : 1);
    matching.sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (a.displayName ?? a.userPrincipalName).localeCompare(b.displayName ?? b.userPrincipalName) ||
        a.userPrincipalName.localeCompare(b.userPrincipalName),
    );
    const offset = Math.max(0, query.offset ?? 0);
    const limit = Math.max(0, query.limit ?? 100);
    return {
      users: matching.slice(offset, offset + limit).map((user) => this.#withVerification(tenantId, user)),
      total: matching.length,
    };
  }

  countUsers(tenantId: string): UserCounts {
    const counts: UserCounts = { total: 0, enabled: 0, disabled: 0, locked: 0 };
    for (const user of Object.values(this.#requireUsers(tenantId).db.data.users)) {
      // Three disjoint states, as UserView.state: locked by the product, otherwise disabled or enabled.
      counts.total++;
      if (user.lock) counts.locked++;
      else if (user.accountEnabled) counts.enabled++;
      else counts.disabled++;
    }
    return counts;
  }

  // ---- tasks and activities ----

  /**
   * Records an activity and queues the tasks it starts, in one write. Operator activities
   * (`management`) also mark the tenant as managed now.
   */
  async recordActivity(input: NewActivity, tasks: readonly NewTask[] = []): Promise<{ activity: StoredActivity; tasks: StoredTask[] }> {
    this.#assertOpen();
    if (input.tenantId !== null) this.#requireTenant(input.tenantId);
    const activityId = randomUUID();
    const queued = tasks.map((task) => this.#pushTask(task, activityId));
    const activity = this.#pushActivity({ ...input }, activityId, queued.map((t) => t.id));
    await this.#saveMain();
    const tenant = input.tenantId !== null && input.management ? this.#findTenant(input.tenantId) : undefined;
    this.#emit(
      ...(tenant ? [{ type: 'tenant', tenant: copy(tenant) } as const] : []),
      { type: 'activity', activity: copy(activity) },
      ...queued.map((task): StoreEvent => ({ type: 'task', task: copy(task) })),
    );
    return { activity: copy(activity), tasks: copy(queued) };
  }

  /**
   * Queues one task on its own. The poller's tasks are bookkeeping: kept in memory at once and written
   * with the next checkpoint, so that a quiet sync costs no write; every other task is written now.
   */
  async queueTask(input: NewTask): Promise<StoredTask> {
    this.#assertOpen();
    if (input.tenantId !== null) this.#requireTenant(input.tenantId);
    const task = this.#pushTask(input, null);
    await this.#saveTask(task);
    return copy(task);
  }

  /**
   * A task that starts the moment it is recorded (the poller's own syncs): it is never PENDING, so the
   * task runner, which takes PENDING tasks, leaves it alone.
   */
  async beginTask(input: NewTask): Promise<StoredTask> {
    this.#assertOpen();
    if (input.tenantId !== null) this.#requireTenant(input.tenantId);
    const task = this.#pushTask(input, null);
    task.status = 'IN_PROGRESS';
    task.startedAt = task.createdAt;
    await this.#saveTask(task);
    return copy(task);
  }

  async startTask(taskId: string): Promise<StoredTask> {
    return this.#moveTask(taskId, 'PENDING', (task) => {
      task.status = 'IN_PROGRESS';
      task.startedAt = this.#clock.now();
    });
  }

  async completeTask(taskId: string, description?: string): Promise<StoredTask> {
    return this.#moveTask(taskId, 'IN_PROGRESS', (task) => {
      task.status = 'COMPLETE';
      task.finishedAt = this.#clock.now();
      if (description !== undefined) task.description = description;
    });
  }

  /** Ends a task in ERROR; a PENDING task may fail too (it could not be started). */
  async failTask(taskId: string, error: { code: string; message: string; errorId?: string }): Promise<StoredTask> {
    return this.#moveTask(taskId, ['PENDING', 'IN_PROGRESS'], (task) => {
      task.status = 'ERROR';
      task.finishedAt = this.#clock.now();
      task.error = { code: error.code, message: error.message, errorId: error.errorId ?? null };
    });
  }

  /** Tasks left IN_PROGRESS by a process that is gone end in ERROR with `reason`. */
  async failInterruptedTasks(reason: string): Promise<StoredTask[]> {
    this.#assertOpen();
    const at = this.#clock.now();
    const interrupted = this.#main.data.tasks.filter((task) => task.status === 'IN_PROGRESS');
    for (const task of interrupted) {
      task.status = 'ERROR';
      task.finishedAt = at;
      task.error = { code: 'INTERRUPTED', message: reason, errorId: null };
    }
    if (interrupted.length === 0) return [];
    await this.#saveMain();
    this.#emit(...interrupted.map((task): StoreEvent => ({ type: 'task', task: copy(task) })));
    return copy(interrupted);
  }

  getTask(taskId: string): StoredTask | undefined {
    const task = this.#main.data.tasks.find((t) => t.id === taskId);
    return task ? copy(task) : undefined;
  }

  /** Newest first; automated tasks only when asked for. */
  listTasks(query: TaskQuery = {}): StoredTask[] {
    const out: StoredTask[] = [];
    const limit = query.limit ?? 100;
    const tasks = this.#main.data.tasks;
    for (let i = tasks.length - 1; i >= 0 && out.length < limit; i--) {
      const task = tasks[i] as StoredTask;
      if (task.automated && !query.includeAutomated) continue;
      if (query.tenantId !== undefined && task.tenantId !== query.tenantId) continue;
      if (query.status !== undefined && task.status !== query.status) continue;
      out.push(task);
    }
    return copy(out);
  }

  /** Tasks waiting to run, oldest first. */
  pendingTasks(): StoredTask[] {
    return copy(this.#main.data.tasks.filter((task) => task.status === 'PENDING'));
  }

  /** The tasks queued by the tenant's most recent refresh that queued any, or none. */
  latestRefreshTasks(tenantId: string): StoredTask[] {
    const tasks = this.#main.data.tasks;
    for (let i = tasks.length - 1; i >= 0; i--) {
      const task = tasks[i] as StoredTask;
      if (task.tenantId === tenantId && task.origin === 'refresh') {
        return copy(tasks.filter((t) => t.activityId !== null && t.activityId === task.activityId));
      }
    }
    return [];
  }

  /** Newest first. */
  listActivities(query: ActivityQuery = {}): StoredActivity[] {
    const out: StoredActivity[] = [];
    const limit = query.limit ?? 100;
    const activities = this.#main.data.activities;
    for (let i = activities.length - 1; i >= 0 && out.length < limit; i--) {
      const activity = activities[i] as StoredActivity;
      if (query.tenantId !== undefined && activity.tenantId !== query.tenantId) continue;
      out.push(activity);
    }
    return copy(out);
  }

  // ---- system log ----

  /** Appends to the bounded system log; message and details are redacted before they are kept. */
  async appendSystemLog(input: SystemLogInput): Promise<SystemLogEntry> {
    this.#assertOpen();
    const log = this.#log.data;
    const entry: SystemLogEntry = {
      id: randomUUID(),
      seq: log.nextSeq++,
      at: this.#clock.now(),
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
    if (log.entries.length > this.#systemLogMaxEntries) log.entries.splice(0, log.entries.length - this.#systemLogMaxEntries);
    await this.#log.write();
    this.#emit({ type: 'log', entry: copy(entry) });
    return copy(entry);
  }

  /** Newest first. */
  querySystemLog(query: SystemLogQuery = {}): SystemLogEntry[] {
    const out: SystemLogEntry[] = [];
    const limit = query.limit ?? 200;
    const least = LEVEL_RANK[query.level ?? 'info'];
    const entries = this.#log.data.entries;
    for (let i = entries.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = entries[i] as SystemLogEntry;
      if (LEVEL_RANK[entry.level] < least) continue;
      if (query.taskId !== undefined && entry.taskId !== query.taskId) continue;
      if (query.tenantId !== undefined && entry.tenantId !== query.tenantId) continue;
      out.push(entry);
    }
    return copy(out);
  }

  // ---- internals ----

  #assertOpen(): void {
    if (this.#closed) throw new AppError({ status: 503, code: 'STORE_CLOSED', message: 'The daemon is shutting down.' });
  }

  #findTenant(tenantId: string): StoredTenant | undefined {
    return this.#main.data.tenants.find((t) => t.id === tenantId);
  }

  #requireTenant(tenantId: string): StoredTenant {
    const tenant = this.#findTenant(tenantId);
    if (!tenant) throw AppError.notFound('TENANT_NOT_FOUND', `No tenant with id ${tenantId}.`, { tenantId });
    return tenant;
  }

  #requireUsers(tenantId: string): UsersSlot {
    const slot = this.#users.get(tenantId);
    if (!slot) throw AppError.notFound('TENANT_NOT_FOUND', `No tenant with id ${tenantId}.`, { tenantId });
    return slot;
  }

  #usersPath(tenantId: string): string {
    return join(this.dataDir, USERS_DIR_NAME, `${tenantId}.json`);
  }

  #updateUser(tenantId: string, userId: string, change: Pick<StoredUser, 'accountEnabled' | 'lock'>, at: number): StoredUser {
    this.#requireTenant(tenantId);
    const users = this.#requireUsers(tenantId).db.data.users;
    const existing = users[userId];
    if (!existing) throw AppError.notFound('USER_NOT_FOUND', `No user with id ${userId} in this tenant.`, { userId });
    const user: StoredUser = { ...existing, ...change, lastChangedAt: at, lastVerifiedAt: at };
    users[userId] = user;
    return user;
  }

  #withVerification(tenantId: string, user: StoredUser): StoredUser {
    const asOf = this.#findTenant(tenantId)?.lastSyncAt ?? 0;
    return { ...copy(user), lastVerifiedAt: Math.max(user.lastVerifiedAt, asOf) };
  }

  #pushTask(input: NewTask, activityId: string | null): StoredTask {
    const task: StoredTask = {
      id: randomUUID(),
      seq: this.#main.data.nextSeq++,
      tenantId: input.tenantId,
      kind: input.kind,
      name: input.name,
      description: input.description,
      status: 'PENDING',
      origin: input.origin,
      automated: input.automated,
      activityId,
      createdAt: this.#clock.now(),
      startedAt: null,
      finishedAt: null,
      error: null,
    };
    this.#main.data.tasks.push(task);
    return task;
  }

  #pushActivity(input: NewActivity, id: string = randomUUID(), taskIds: string[] = []): StoredActivity {
    const at = this.#clock.now();
    const activity: StoredActivity = {
      id,
      seq: this.#main.data.nextSeq++,
      tenantId: input.tenantId,
      kind: input.kind,
      name: input.name,
      description: input.description,
      actor: input.actor,
      management: input.management,
      at,
      userId: input.userId ?? null,
      taskIds,
      blockedByTaskId: input.blockedByTaskId ?? null,
    };
    const activities = this.#main.data.activities;
    activities.push(activity);
    if (activities.length > this.#activityRetention) activities.splice(0, activities.length - this.#activityRetention);
    if (input.management && input.tenantId !== null) {
      const tenant = this.#findTenant(input.tenantId);
      if (tenant) tenant.lastManagementActivityAt = Math.max(tenant.lastManagementActivityAt, at);
    }
    return activity;
  }

  async #moveTask(taskId: string, from: TaskStatus | readonly TaskStatus[], change: (task: StoredTask) => void): Promise<StoredTask> {
    this.#assertOpen();
    const task = this.#main.data.tasks.find((t) => t.id === taskId);
    if (!task) throw AppError.notFound('TASK_NOT_FOUND', `No task with id ${taskId}.`, { taskId });
    const allowed: readonly TaskStatus[] = typeof from === 'string' ? [from] : from;
    if (!allowed.includes(task.status)) {
      throw AppError.conflict('TASK_STATE', `Task ${taskId} is ${task.status}, not ${allowed.join(' or ')}.`, { taskId, status: task.status });
    }
    change(task);
    if (FINISHED.has(task.status) && task.automated) this.#pruneAutomated(task);
    await this.#saveTask(task);
    return copy(task);
  }

  async #saveTask(task: StoredTask): Promise<void> {
    if (task.origin === 'poller') this.#saveMainLater();
    else await this.#saveMain();
    this.#emit({ type: 'task', task: copy(task) });
  }

  // Automated tasks would otherwise grow the main file by one per sync per tenant for ever.
  #pruneAutomated(finished: StoredTask): void {
    const tasks = this.#main.data.tasks;
    const sameSeries = tasks.filter(
      (t) => t.automated && FINISHED.has(t.status) && t.tenantId === finished.tenantId && t.kind === finished.kind,
    );
    const excess = sameSeries.length - this.#automatedTaskRetention;
    if (excess <= 0) return;
    const drop = new Set(sameSeries.slice(0, excess).map((t) => t.id));
    this.#main.data.tasks = tasks.filter((t) => !drop.has(t.id));
  }

  async #saveMain(): Promise<void> {
    this.#mainLazy = false;
    await this.#main.write();
  }

  #saveMainLater(): void {
    this.#mainLazy = true;
    this.#scheduleCheckpoint();
  }

  async #saveUsers(slot: UsersSlot): Promise<void> {
    slot.lazy = false;
    await slot.db.write();
  }

  #scheduleCheckpoint(): void {
    if (this.#checkpointTimer || this.#closed) return;
    this.#checkpointTimer = this.#clock.setTimeout(() => {
      this.#checkpointTimer = null;
      this.checkpoint().catch((error: unknown) => this.#logger?.error('Could not write a store checkpoint', { error }));
    }, this.#checkpointIntervalMs);
  }

  #emitUserAction(tenantId: string, user: StoredUser, activity: StoredActivity): void {
    const tenant = this.#findTenant(tenantId);
    this.#emit(
      { type: 'users', tenantId, userIds: [user.id] },
      ...(tenant ? [{ type: 'tenant', tenant: copy(tenant) } as const] : []),
      { type: 'activity', activity: copy(activity) },
    );
  }

  #emit(...events: StoreEvent[]): void {
    for (const event of events) {
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (error) {
          this.#logger?.error('A store listener threw', { error, event: event.type });
        }
      }
    }
  }
}

function pickObserved(observed: ObservedUser): Pick<
  StoredUser,
  'id' | 'userPrincipalName' | 'displayName' | 'accountEnabled' | 'onPremisesSyncEnabled'
> {
  return {
    id: observed.id,
    userPrincipalName: observed.userPrincipalName,
    displayName: observed.displayName,
    accountEnabled: observed.accountEnabled,
    onPremisesSyncEnabled: observed.onPremisesSyncEnabled,
  };
}

function materiallyDifferent(a: StoredUser, b: StoredUser): boolean {
  return (
    a.userPrincipalName !== b.userPrincipalName ||
    a.displayName !== b.displayName ||
    a.accountEnabled !== b.accountEnabled ||
    a.onPremisesSyncEnabled !== b.onPremisesSyncEnabled ||
    (a.lock === null) !== (b.lock === null)
  );
}

// Left by a crash between writing a temp file and renaming it: never the live data, safe to drop.
async function removeLeftoverTempFiles(directory: string): Promise<void> {
  for (const name of await readdir(directory)) {
    if (name.startsWith('.') && name.endsWith('.tmp')) await unlink(join(directory, name)).catch(() => undefined);
  }
}
