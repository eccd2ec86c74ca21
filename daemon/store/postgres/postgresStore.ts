import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Clock } from '../../clock';
import { systemClock } from '../../clock';
import { AppError } from '../../errors/AppError';
import type { Logger } from '../../logging/logger';
import type { Store } from '../store';
import { StoreEventEmitter } from '../storeEventEmitter';
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
} from '../storeTypes';
import { PostgresAppProfiles } from './postgresAppProfiles';
import type { ChangeReference } from './postgresChangeFeed';
import { PostgresChangeFeed } from './postgresChangeFeed';
import type { PostgresContext } from './postgresContext';
import { PostgresLeases } from './postgresLeases';
import { PostgresSystemLog } from './postgresSystemLog';
import { PostgresTasks } from './postgresTasks';
import { PostgresTenants } from './postgresTenants';
import { PostgresTransaction } from './postgresTransaction';
import { PostgresUsers } from './postgresUsers';

const DEFAULT_LEASE_MS = 30_000;

export interface PostgresStoreOptions {
  /** The shared database's pool (`openSharedDatabase`); the store borrows it and does not end it. */
  pool: pg.Pool;
  clock?: Clock;
  logger?: Logger;
  systemLogMaxEntries?: number;
  /** Finished automated tasks kept per tenant and kind; older ones are dropped. */
  automatedTaskRetention?: number;
  /** How long this daemon's leases last without renewal (`--tenant-lease`); 30 s by default. */
  tenantLeaseMs?: number;
}

/**
 * The store in the team's PostgreSQL database, shared by every daemon connected to it. Every change is
 * one transaction and resolves once it has committed; reads ask the database, so they see other daemons'
 * changes. Bookkeeping is written at once: a row update is cheap, and nothing is left to lose at a crash.
 *
 * Changes reach this daemon's listeners after they commit, and other daemons' listeners through
 * `NOTIFY` (`PostgresChangeFeed`).
 */
export class PostgresStore implements Store {
  /** Names this store to the other daemons: its notifications, the tasks it runs. */
  readonly id = randomUUID();
  readonly tenantLeaseMs: number;
  readonly #pool: pg.Pool;
  readonly #events: StoreEventEmitter;
  readonly #feed: PostgresChangeFeed;
  readonly #tenants: PostgresTenants;
  readonly #appProfiles: PostgresAppProfiles;
  readonly #users: PostgresUsers;
  readonly #tasks: PostgresTasks;
  readonly #systemLog: PostgresSystemLog;
  readonly #leases: PostgresLeases;
  readonly #running = new Set<Promise<unknown>>();
  #closed = false;

  private constructor(options: PostgresStoreOptions) {
    const clock = options.clock ?? systemClock;
    this.#pool = options.pool;
    this.tenantLeaseMs = options.tenantLeaseMs ?? DEFAULT_LEASE_MS;
    this.#events = new StoreEventEmitter(options.logger);
    const context: PostgresContext = {
      pool: options.pool,
      clock,
      assertOpen: () => this.#assertOpen(),
      transaction: (work) => this.#transaction(work),
    };
    this.#tasks = new PostgresTasks(context, { automatedTaskRetention: options.automatedTaskRetention ?? 50, daemonId: this.id });
    this.#users = new PostgresUsers(context, this.#tasks);
    this.#appProfiles = new PostgresAppProfiles(context, this.#tasks);
    this.#tenants = new PostgresTenants(context, this.#tasks, this.#appProfiles);
    this.#systemLog = new PostgresSystemLog(context, options.systemLogMaxEntries ?? 5000);
    this.#leases = new PostgresLeases(context, this.id);
    this.#feed = new PostgresChangeFeed({
      pool: options.pool,
      clock,
      logger: options.logger,
      storeId: this.id,
      resolve: (reference) => this.#resolve(reference),
      deliver: (event) => this.#events.emit(event),
    });
  }

  /** Opens the store on a migrated shared database and starts listening for other daemons' changes. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    // Alive for one lease period, until the poller's first renewal pushes it forward.
    await store.#leases.register(store.tenantLeaseMs);
    await store.#feed.start();
    return store;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#running]);
    await this.#leases.release().catch(() => undefined);
    await this.#feed.stop();
    this.#events.clear();
  }

  /** Nothing is held back: every change is committed when it resolves. */
  async checkpoint(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }

  onDidChange(listener: (event: StoreEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  // ---- tenants ----

  addTenant(input: NewTenant): Promise<StoredTenant> {
    return this.#tenants.addTenant(input);
  }

  getTenant(tenantId: string): Promise<StoredTenant | undefined> {
    return this.#tenants.getTenant(tenantId);
  }

  requireTenant(tenantId: string): Promise<StoredTenant> {
    return this.#tenants.requireTenant(tenantId);
  }

  // Every read is a query of its own here, so a read-only one costs the same as a copy.
  readTenant(tenantId: string): Promise<Readonly<StoredTenant> | undefined> {
    return this.#tenants.getTenant(tenantId);
  }

  listTenants(): Promise<StoredTenant[]> {
    return this.#tenants.listTenants();
  }

  readTenants(): Promise<ReadonlyArray<Readonly<StoredTenant>>> {
    return this.#tenants.listTenants();
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

  // ---- work shared across daemons ----

  renewTenantLeases(leaseMs: number): Promise<ReadonlySet<string>> {
    return this.#leases.renew(leaseMs);
  }

  claimNextTask(busyTenantIds: readonly string[]): Promise<StoredTask | undefined> {
    return this.#tasks.claimNextTask(busyTenantIds);
  }

  failTasksOfGoneDaemons(reason: string): Promise<StoredTask[]> {
    return this.#tasks.failTasksOfGoneDaemons(reason);
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

  #transaction<T>(work: (tx: PostgresTransaction) => Promise<T>): Promise<T> {
    this.#assertOpen();
    const running = this.#run(work);
    this.#running.add(running);
    const forget = (): void => void this.#running.delete(running);
    running.then(forget, forget);
    return running;
  }

  async #run<T>(work: (tx: PostgresTransaction) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const tx = new PostgresTransaction(client);
      let result: T;
      try {
        result = await work(tx);
        await this.#feed.announce(tx);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError as Error;
        });
        throw error;
      }
      this.#events.emit(...tx.events);
      return result;
    } finally {
      // A connection that could not even roll back is not given to the next transaction.
      client.release(broken);
    }
  }

  async #resolve(reference: ChangeReference): Promise<StoreEvent | undefined> {
    switch (reference.type) {
      case 'tenant': {
        const tenant = await this.#tenants.getTenant(reference.id);
        return tenant && { type: 'tenant', tenant };
      }
      case 'task': {
        const task = await this.#tasks.getTask(reference.id);
        return task && { type: 'task', task };
      }
      case 'activity': {
        const activity = await this.#tasks.getActivity(reference.id);
        return activity && { type: 'activity', activity };
      }
      case 'log': {
        const entry = await this.#systemLog.getEntry(reference.id);
        return entry && { type: 'log', entry };
      }
      case 'users': {
        const users = await this.#users.getUsers(reference.tenantId, reference.userIds);
        return users && { type: 'users', tenantId: reference.tenantId, userIds: reference.userIds, users };
      }
    }
  }
}
