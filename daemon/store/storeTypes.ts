/**
 * The records the store keeps and what its functions take and give, without saying how they are kept:
 * files, a change log or a database all speak these types. (The on-disk shapes of the file store, with
 * their zod checks, live in `storeSchema.ts`.)
 */

export type TenantStatus = 'ACTIVE' | 'INACTIVE' | 'DORMANT' | 'STALE' | 'DISCONNECTED';

/** Why the last sync failed; the first three mean the daemon cannot connect at all (DISCONNECTED). */
export type SyncFailureCategory = 'credentials' | 'consent' | 'permissions' | 'throttled' | 'timeout' | 'network' | 'graph' | 'internal';

export interface SyncFailure {
  at: number;
  category: SyncFailureCategory;
  code: string;
  message: string;
}

export interface CredentialHealth {
  checkedAt: number;
  canGetToken: boolean;
  /** The AADSTS reason in plain words and what to do, when no token could be had. */
  failure: { code: string; message: string; remedy: string } | null;
  grantedRoles: string[];
  missingRoles: string[];
  missingOptionalRoles: string[];
  /** When the secret or certificate expires, where known. */
  credentialExpiresAt: number | null;
}

export type CredentialKind = 'secret' | 'certificate';

/** A registered tenant. Its secret lives in the vault, never here. */
export interface StoredTenant {
  id: string;
  /** The directory (tenant) id or a verified domain, as the operator gave it. */
  tenantIdOrDomain: string;
  displayName: string;
  appId: string;
  credentialKind: CredentialKind;
  /** The app profile whose client id and credential it signs in with; null = its own app and credential. */
  appProfileId: string | null;
  /** Overrides the daemon's poll interval for this tenant; null = the daemon's. */
  pollIntervalMs: number | null;
  createdAt: number;
  /** "As of": the last successful sync. */
  lastSyncAt: number | null;
  lastAttemptAt: number | null;
  lastError: SyncFailure | null;
  /** Operator actions only (register, lock, unlock, refresh, rotate); automated work does not count. */
  lastManagementActivityAt: number;
  /** The last status recorded, so that a change can be noticed and recorded as an activity. */
  status: TenantStatus;
  statusChangedAt: number;
  credentialHealth: CredentialHealth | null;
}

/**
 * One multi-tenant app registered in the partner's own tenant, used by every customer tenant that
 * consented to it. Its credential lives in the vault, never here.
 */
export interface StoredAppProfile {
  id: string;
  /** Unique, as the operator names it (case-insensitively). */
  name: string;
  /** The partner tenant the app is registered in: its directory id or a verified domain. */
  partnerTenant: string;
  appId: string;
  credentialKind: CredentialKind;
  /** When the secret or certificate expires, where known: one countdown for every tenant using it. */
  credentialExpiresAt: number | null;
  createdAt: number;
  credentialsRotatedAt: number | null;
}

export interface UserLock {
  /** Who locked it through the product (the operator's name as the extension reports it). */
  by: string;
  at: number;
  revokedSessions: boolean;
}

export interface StoredUser {
  id: string;
  userPrincipalName: string;
  displayName: string | null;
  accountEnabled: boolean;
  /** True when sign-in state is mastered in on-premises AD; null for cloud-only users. */
  onPremisesSyncEnabled: boolean | null;
  lastChangedAt: number;
  lastVerifiedAt: number;
  /** Set only while the product's lock holds: an account found enabled loses it. */
  lock: UserLock | null;
}

export type TaskStatus = 'PENDING' | 'IN_PROGRESS' | 'COMPLETE' | 'ERROR';

/** Who asked for the task: a refresh, the poller's own schedule, or an operator directly. */
export type TaskOrigin = 'refresh' | 'poller' | 'operator';

export interface StoredTask {
  id: string;
  /** Orders tasks created in the same millisecond. */
  seq: number;
  tenantId: string | null;
  /** Selects the handler that runs it, e.g. `update-ad-cache`. */
  kind: string;
  /** As the operator sees it, e.g. "Update AD cache". */
  name: string;
  description: string;
  status: TaskStatus;
  origin: TaskOrigin;
  /** Hidden from listings unless asked for ("Display automated tasks"). */
  automated: boolean;
  /** The activity that queued it, if any; the two tasks of one refresh share it. */
  activityId: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: { code: string; message: string; errorId: string | null } | null;
}

export type ActivityKind =
  | 'tenant-added'
  | 'tenant-removed'
  | 'credentials-rotated'
  | 'app-profile-added'
  | 'app-profile-removed'
  | 'settings-changed'
  | 'lock'
  | 'unlock'
  | 'refresh'
  | 'external-change'
  | 'status-change';

export interface StoredActivity {
  id: string;
  seq: number;
  tenantId: string | null;
  kind: ActivityKind;
  /** As the operator sees it, e.g. "Updating account status". */
  name: string;
  description: string;
  /** Who did it: an operator, `m365-status` for the daemon itself, or what is known of an outside actor. */
  actor: string;
  /** Counts as management activity for the tenant's INACTIVE / DORMANT status. */
  management: boolean;
  at: number;
  userId: string | null;
  /** Tasks this activity queued. */
  taskIds: string[];
  /** For a refresh that queued nothing: the earlier task that made a new one unnecessary. */
  blockedByTaskId: string | null;
}

export type SystemLogLevel = 'info' | 'warn' | 'error';

export interface SystemLogEntry {
  id: string;
  seq: number;
  at: number;
  level: SystemLogLevel;
  message: string;
  code: string | null;
  errorId: string | null;
  source: string | null;
  taskId: string | null;
  tenantId: string | null;
  details: Record<string, unknown> | null;
}

export type StoreEvent =
  | { type: 'tenant'; tenant: StoredTenant }
  | { type: 'tenant-removed'; tenantId: string }
  /** `users` holds the changed users as they are now, when the store has them at hand; ids not in it were removed. */
  | { type: 'users'; tenantId: string; userIds: readonly string[]; users?: readonly StoredUser[] }
  /**
   * A page of a full round (a tenant's first sync, or a resync) changed the tenant's users: listeners read
   * them again rather than be handed each, so a first sync of 100,000 users is a few hundred small events.
   */
  | { type: 'users-reloaded'; tenantId: string }
  | { type: 'task'; task: StoredTask }
  | { type: 'activity'; activity: StoredActivity }
  | { type: 'log'; entry: SystemLogEntry };

export interface NewTenant {
  tenantIdOrDomain: string;
  appId: string;
  credentialKind: CredentialKind;
  displayName?: string;
  pollIntervalMs?: number | null;
  /** Signs in with this app profile's app and credential; `appId` must be the profile's. */
  appProfileId?: string | null;
  /** The operator registering it. */
  by: string;
  /** The id to register it under, when its credential went to the vault under that id first. */
  id?: string;
  /** The result of the credential check made before registering, recorded in the same write. */
  credentialHealth?: CredentialHealth;
  /**
   * Its directory (tenant) id, when known (a domain resolved through Microsoft): a shared store refuses a
   * second tenant of the same directory, which daemons registering it at the same moment, one by
   * domain and one by id, would otherwise both add. The local store has one daemon, whose registrations
   * of one directory already run one after another.
   */
  directoryId?: string | null;
}

export interface NewAppProfile {
  name: string;
  partnerTenant: string;
  appId: string;
  credentialKind: CredentialKind;
  credentialExpiresAt: number | null;
  /** The operator adding it. */
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

/**
 * What a refresh records, decided from the tenant's latest refresh tasks: the activity, and either the
 * tasks it queues or the earlier task that makes new ones unnecessary.
 */
export type RefreshDecision =
  | { outcome: 'queued'; activity: Omit<NewActivity, 'tenantId' | 'blockedByTaskId'>; tasks: ReadonlyArray<Omit<NewTask, 'tenantId'>> }
  | { outcome: 'already-requested'; activity: Omit<NewActivity, 'tenantId' | 'blockedByTaskId'>; earlierTask: StoredTask };

export type RecordedRefresh =
  | { outcome: 'queued'; activity: StoredActivity; tasks: StoredTask[] }
  | { outcome: 'already-requested'; activity: StoredActivity; earlierTask: StoredTask };

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
  /**
   * The delta link to continue from; null forgets it (the next round is a full one). Absent on a page with
   * more of its round to come: the link stays as it was until the round's last page brings the new one, so
   * a round cut short starts again from where the last whole round ended.
   */
  deltaLink?: string | null;
  /**
   * The batch belongs to a full round, which lists every user of the tenant. On the round's last page
   * (`deltaLink` given), any stored user neither in `users` nor in `earlierUserIds` no longer exists.
   */
  fullRound?: boolean;
  /** With `fullRound`, on its last page: the users its earlier pages listed (applied by earlier batches). */
  earlierUserIds?: ReadonlySet<string>;
}

export interface UserChangeSummary {
  added: StoredUser[];
  changed: Array<{ before: StoredUser; after: StoredUser }>;
  removed: StoredUser[];
  /** Users the product had locked that were found enabled: someone re-enabled them elsewhere. */
  locksCleared: StoredUser[];
  /** Whether the change was written now (false when nothing but bookkeeping changed). */
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

export interface UserPage {
  users: StoredUser[];
  total: number;
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
  /** Only these tenants' (none of no tenant): a restricted engineer's list, filtered before `limit`. */
  tenantIds?: readonly string[];
  status?: TaskStatus;
  limit?: number;
}

export interface ActivityQuery {
  tenantId?: string;
  /** Only these tenants' (none of no tenant): a restricted engineer's list, filtered before `limit`. */
  tenantIds?: readonly string[];
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
  /** Only these tenants' (none of no tenant): a restricted engineer's list, filtered before `limit`. */
  tenantIds?: readonly string[];
  /** The least severe level returned: `warn` returns warnings and errors. */
  level?: SystemLogLevel;
  limit?: number;
}
