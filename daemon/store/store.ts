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

/**
 * The daemon's picture of every tenant: the only way the rest of the daemon reads or changes it. Every
 * change goes through a function named for what happened, and resolves only once the change is durable;
 * every read is asynchronous too, so that the picture can live in files, a change log or a database
 * shared by several daemons.
 *
 * Bookkeeping that only moves forward in time ("as of", last attempt, last verified, a new delta link
 * with no user changed, the poller's own automated tasks) may be held back and written with the next
 * real change or at the next checkpoint, so a sync that changed nothing writes nothing. A crash loses at
 * most that bookkeeping: the next sync recomputes it.
 *
 * A missing tenant, user or task is the caller's error (`TENANT_NOT_FOUND`, `USER_NOT_FOUND`,
 * `TASK_NOT_FOUND`, 404) wherever the function cannot answer without it; `get…` answers undefined.
 */
export interface Store {
  /** Writes pending bookkeeping, waits for every write, and lets go of the storage. */
  close(): Promise<void>;

  /** Writes whatever bookkeeping is being held back; resolves when it is durable. */
  checkpoint(): Promise<void>;

  /**
   * Changes, once they are durable; bookkeeping ("as of", a repeated failure) as soon as it is known.
   * Returns the unsubscribe function.
   */
  onDidChange(listener: (event: StoreEvent) => void): () => void;

  // ---- tenants ----

  /** A tenant with `appProfileId` needs that profile (404 `APP_PROFILE_NOT_FOUND`) and its app id. */
  addTenant(input: NewTenant): Promise<StoredTenant>;
  getTenant(tenantId: string): Promise<StoredTenant | undefined>;
  /** Like getTenant, but a missing tenant is the caller's error (404). */
  requireTenant(tenantId: string): Promise<StoredTenant>;
  /**
   * The tenant as the store holds it now, for a read that needs no copy of its own (whether it is still
   * there, its status): not to be changed, nor kept, since a later change may show through it. A poll
   * round reads its tenant several times, and a copy each time was most of what a quiet round allocated.
   */
  readTenant(tenantId: string): Promise<Readonly<StoredTenant> | undefined>;
  listTenants(): Promise<StoredTenant[]>;
  /** Every tenant as the store holds it now, in a list of its own: read-only like `readTenant`. */
  readTenants(): Promise<ReadonlyArray<Readonly<StoredTenant>>>;
  /** Forgets the tenant and its users; its history (tasks, activities) stays. Pending tasks are failed. */
  removeTenant(tenantId: string, by: string): Promise<StoredActivity>;
  recordCredentialsRotated(tenantId: string, credentialKind: CredentialKind, by: string): Promise<StoredActivity>;
  /** A sync attempt started: bookkeeping only. */
  recordSyncAttempt(tenantId: string): Promise<void>;
  /** A sync finished: the tenant's picture is true "as of" `at`. Written now only if it clears an error. */
  recordSyncSuccess(tenantId: string, at?: number): Promise<void>;
  /** A sync failed. Written now when the failure differs from the last one; a repeat is bookkeeping. */
  recordSyncFailure(tenantId: string, failure: Omit<SyncFailure, 'at'>): Promise<void>;
  /** Records a derived status; a change is written with an activity, no change writes nothing. */
  recordTenantStatus(tenantId: string, status: TenantStatus, reason: string): Promise<StoredActivity | undefined>;
  /** A new credential health check; only a different outcome (not a later `checkedAt`) is written now. */
  recordCredentialHealth(tenantId: string, health: CredentialHealth): Promise<void>;

  // ---- app profiles ----

  /** Names are unique whatever the case (409 `APP_PROFILE_EXISTS`). */
  addAppProfile(input: NewAppProfile): Promise<StoredAppProfile>;
  getAppProfile(profileId: string): Promise<StoredAppProfile | undefined>;
  /** Like getAppProfile, but a missing profile is the caller's error (404 `APP_PROFILE_NOT_FOUND`). */
  requireAppProfile(profileId: string): Promise<StoredAppProfile>;
  listAppProfiles(): Promise<StoredAppProfile[]>;
  /** Refused (409 `APP_PROFILE_IN_USE`, naming them) while any tenant uses the profile. */
  removeAppProfile(profileId: string, by: string): Promise<StoredActivity>;
  /**
   * The profile's credential was replaced: one activity, and every tenant using it takes the new kind
   * and forgets its credential health, in one write.
   */
  recordAppProfileCredentialsRotated(profileId: string, credential: { kind: CredentialKind; expiresAt: number | null }, by: string): Promise<StoredActivity>;

  // ---- users ----

  getDeltaLink(tenantId: string): Promise<string | null>;
  /**
   * Applies what a Graph round reported. A user's sign-in state observed before the product's own last
   * change to that user (a lock confirmed while the round was in flight) is not applied: it is older
   * than what we know. A user found enabled loses the product's lock. A round may come page by page
   * (see `UserChangeBatch.deltaLink`, `fullRound`); each page is durable when its call resolves, and a
   * page of a full round is announced as `users-reloaded` rather than user by user.
   */
  applyUserChanges(tenantId: string, batch: UserChangeBatch): Promise<UserChangeSummary>;
  /** Graph confirmed the product disabled the user's sign-in. */
  recordUserLocked(tenantId: string, userId: string, lock: { by: string; revokedSessions: boolean }): Promise<{ user: StoredUser; activity: StoredActivity }>;
  /** Graph confirmed the product enabled the user's sign-in. */
  recordUserUnlocked(tenantId: string, userId: string, by: string): Promise<{ user: StoredUser; activity: StoredActivity }>;
  getUser(tenantId: string, userId: string): Promise<StoredUser | undefined>;
  /**
   * Users the product locked first, then other disabled ones, then the rest, each by display name.
   * `lastVerifiedAt` counts the tenant's last successful sync: a delta round that does not mention a
   * user has verified that it did not change.
   */
  listUsers(tenantId: string, query?: UserQuery): Promise<UserPage>;
  /** Three disjoint states, as the API's user state: locked by the product, otherwise disabled or enabled. */
  countUsers(tenantId: string): Promise<UserCounts>;

  // ---- tasks and activities ----

  /**
   * Records an activity and queues the tasks it starts, in one write. Operator activities
   * (`management`) also mark the tenant as managed now.
   */
  recordActivity(input: NewActivity, tasks?: readonly NewTask[]): Promise<{ activity: StoredActivity; tasks: StoredTask[] }>;
  /**
   * A refresh, decided and recorded as one step per tenant: `decide` is given the tasks queued by the
   * tenant's most recent refresh that queued any, and no other refresh of that tenant (from this daemon
   * or another sharing the storage) decides in between.
   */
  recordRefresh(tenantId: string, decide: (latestRefreshTasks: readonly StoredTask[], tenant: StoredTenant) => RefreshDecision): Promise<RecordedRefresh>;
  /**
   * Queues one task on its own. The poller's tasks are bookkeeping: they may be held back (past a
   * checkpoint too, until the next write of something else or `close`), a run of them that ended alike may
   * be kept as its newest one, and a crash may lose them, so that quiet syncs cost no write; every other
   * task is written now.
   */
  queueTask(input: NewTask): Promise<StoredTask>;
  /**
   * A task that starts the moment it is recorded (the poller's own syncs): it is never PENDING, so the
   * task runner, which takes PENDING tasks, leaves it alone.
   */
  beginTask(input: NewTask): Promise<StoredTask>;
  startTask(taskId: string): Promise<StoredTask>;
  completeTask(taskId: string, description?: string): Promise<StoredTask>;
  /** Ends a task in ERROR; a PENDING task may fail too (it could not be started). */
  failTask(taskId: string, error: { code: string; message: string; errorId?: string }): Promise<StoredTask>;
  /** Tasks left IN_PROGRESS by a process that is gone end in ERROR with `reason`. */
  failInterruptedTasks(reason: string): Promise<StoredTask[]>;
  getTask(taskId: string): Promise<StoredTask | undefined>;
  /** Newest first; automated tasks only when asked for. */
  listTasks(query?: TaskQuery): Promise<StoredTask[]>;
  /** Tasks waiting to run, oldest first. */
  pendingTasks(): Promise<StoredTask[]>;
  /** Newest first. */
  listActivities(query?: ActivityQuery): Promise<StoredActivity[]>;

  // ---- work shared across daemons ----

  /**
   * How long this daemon's leases last without renewal, where the deployment sets it (`--tenant-lease`);
   * undefined where nothing is shared and the caller's own default applies.
   */
  readonly tenantLeaseMs?: number;

  /**
   * This daemon's share of the tenants, renewed: it is marked alive until `leaseMs` from now, keeps the
   * tenants it holds, takes free or expired ones up to its fair share (tenants / live daemons) and lets
   * go of any beyond it. Answers the tenants it holds, the only ones it syncs until the next renewal;
   * another daemon takes them once this one has not renewed for `leaseMs`. One daemon alone holds all.
   */
  renewTenantLeases(leaseMs: number): Promise<ReadonlySet<string>>;
  /**
   * Starts the oldest PENDING task whose tenant is not in `busyTenantIds` (nor running a queued task on
   * another daemon, nor leased by another live daemon): each PENDING task is started by exactly one
   * daemon, the tenant's holder while it lives. Undefined when there is none.
   */
  claimNextTask(busyTenantIds: readonly string[]): Promise<StoredTask | undefined>;
  /**
   * Tasks left IN_PROGRESS by other daemons that stopped renewing (`renewTenantLeases`) end in ERROR
   * with `reason`; a daemon alone has none.
   */
  failTasksOfGoneDaemons(reason: string): Promise<StoredTask[]>;

  // ---- system log ----

  /** Appends to the bounded system log; message and details are redacted before they are kept. */
  appendSystemLog(input: SystemLogInput): Promise<SystemLogEntry>;
  /** Newest first. */
  querySystemLog(query?: SystemLogQuery): Promise<SystemLogEntry[]>;
}
