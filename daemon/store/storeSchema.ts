import * as z from 'zod';
import type {
  ActivityKind,
  CredentialHealth,
  CredentialKind,
  StoredActivity,
  StoredAppProfile,
  StoredTask,
  StoredTenant,
  StoredUser,
  SyncFailure,
  SyncFailureCategory,
  SystemLogEntry,
  SystemLogLevel,
  TaskOrigin,
  TaskStatus,
  TenantStatus,
  UserLock,
} from './storeTypes';

// The file store's on-disk shapes. Each record schema is held to its storage-neutral type in
// `storeTypes.ts`, so the two cannot drift.

/**
 * Version of the on-disk layout, written into every file but `store.json` (which has its own,
 * `MAIN_FILE_SCHEMA_VERSION`). Raise a file's version, with an upgrade step `loadStoreFile` applies,
 * whenever a change would not load under the previous schema or an older build would drop what it adds
 * (zod drops keys it does not know); a daemon refuses files from a newer one.
 */
export const STORE_SCHEMA_VERSION = 1;

/**
 * Version of `store.json` alone, which has moved on from `STORE_SCHEMA_VERSION`: 2 added app profiles
 * (`appProfiles`, and each tenant's `appProfileId`). A build that knows only version 1 would load such a
 * file, drop both without a word and write the rest back, turning every tenant on a profile into one with
 * no credential; at 2 it refuses the file instead. A version 1 file is brought up at open
 * (`upgradeMainFile`).
 */
export const MAIN_FILE_SCHEMA_VERSION = 2;

/**
 * Version of the users files (`users/<tenant>.snap.json` and the header of `users/<tenant>.log`), which
 * has moved on from `STORE_SCHEMA_VERSION`: 2 writes each user as a tuple (`UserTuple`) instead of an
 * object. Files of version 1 are read as they are; a log of version 1 goes on taking appends, in either
 * form, until its next compaction writes both files at 2. A build that knows only version 1 refuses a
 * file of version 2 as one of a newer store, and a record holding tuples as one it cannot read: either way
 * it names the file and loses nothing.
 */
export const USERS_FILE_SCHEMA_VERSION = 2;

// Our own ids become file names (users/<id>.json): nothing that could climb out of the directory.
const ourId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const time = z.number().int().nonnegative();

export const tenantStatusSchema: z.ZodType<TenantStatus> = z.enum(['ACTIVE', 'INACTIVE', 'DORMANT', 'STALE', 'DISCONNECTED']);

/** Why the last sync failed; the first three mean the daemon cannot connect at all (DISCONNECTED). */
export const syncFailureCategorySchema: z.ZodType<SyncFailureCategory> = z.enum([
  'credentials',
  'consent',
  'permissions',
  'throttled',
  'timeout',
  'network',
  'graph',
  'internal',
]);

export const syncFailureSchema: z.ZodType<SyncFailure> = z.object({
  at: time,
  category: syncFailureCategorySchema,
  code: z.string(),
  message: z.string(),
});

export const credentialHealthSchema: z.ZodType<CredentialHealth> = z.object({
  checkedAt: time,
  canGetToken: z.boolean(),
  /** The AADSTS reason in plain words and what to do, when no token could be had. */
  failure: z.object({ code: z.string(), message: z.string(), remedy: z.string() }).nullable(),
  grantedRoles: z.array(z.string()),
  missingRoles: z.array(z.string()),
  missingOptionalRoles: z.array(z.string()),
  /** When the secret or certificate expires, where known. */
  credentialExpiresAt: time.nullable(),
});

export const credentialKindSchema: z.ZodType<CredentialKind> = z.enum(['secret', 'certificate']);

/** A tenant as kept in the main file. Its secret lives in the vault, never here. */
export const tenantSchema: z.ZodType<StoredTenant> = z.object({
  id: ourId,
  /** The directory (tenant) id or a verified domain, as the operator gave it. */
  tenantIdOrDomain: z.string().min(1),
  displayName: z.string().min(1),
  appId: z.string().min(1),
  credentialKind: credentialKindSchema,
  /** Null for a tenant with its own app; files of schema 1 have none and are upgraded at open. */
  appProfileId: ourId.nullable(),
  /** Overrides the daemon's poll interval for this tenant; null = the daemon's. */
  pollIntervalMs: z.number().int().positive().nullable(),
  createdAt: time,
  /** "As of": the last successful sync. */
  lastSyncAt: time.nullable(),
  lastAttemptAt: time.nullable(),
  lastError: syncFailureSchema.nullable(),
  /** Operator actions only (register, lock, unlock, refresh, rotate); automated work does not count. */
  lastManagementActivityAt: time,
  /** The last status recorded, so that a change can be noticed and recorded as an activity. */
  status: tenantStatusSchema,
  statusChangedAt: time,
  credentialHealth: credentialHealthSchema.nullable(),
});

/** An app profile as kept in the main file. Its credential lives in the vault, never here. */
export const appProfileSchema: z.ZodType<StoredAppProfile> = z.object({
  id: ourId,
  name: z.string().min(1),
  partnerTenant: z.string().min(1),
  appId: z.string().min(1),
  credentialKind: credentialKindSchema,
  credentialExpiresAt: time.nullable(),
  createdAt: time,
  credentialsRotatedAt: time.nullable(),
});

export const userLockSchema: z.ZodType<UserLock> = z.object({
  /** Who locked it through the product (the operator's name as the extension reports it). */
  by: z.string(),
  at: time,
  revokedSessions: z.boolean(),
});

export const userSchema: z.ZodType<StoredUser> = z.object({
  id: z.string().min(1),
  userPrincipalName: z.string(),
  displayName: z.string().nullable(),
  accountEnabled: z.boolean(),
  /** True when sign-in state is mastered in on-premises AD; null for cloud-only users. */
  onPremisesSyncEnabled: z.boolean().nullable(),
  lastChangedAt: time,
  lastVerifiedAt: time,
  /** Set only while the product's lock holds: an account found enabled loses it. */
  lock: userLockSchema.nullable(),
});

export const taskStatusSchema: z.ZodType<TaskStatus> = z.enum(['PENDING', 'IN_PROGRESS', 'COMPLETE', 'ERROR']);

/** Who asked for the task: a refresh, the poller's own schedule, or an operator directly. */
export const taskOriginSchema: z.ZodType<TaskOrigin> = z.enum(['refresh', 'poller', 'operator']);

export const taskSchema: z.ZodType<StoredTask> = z.object({
  id: z.string().min(1),
  /** Orders tasks created in the same millisecond. */
  seq: z.number().int().nonnegative(),
  tenantId: ourId.nullable(),
  /** Selects the handler that runs it, e.g. `update-ad-cache`. */
  kind: z.string().min(1),
  /** As the operator sees it, e.g. "Update AD cache". */
  name: z.string().min(1),
  description: z.string(),
  status: taskStatusSchema,
  origin: taskOriginSchema,
  /** Hidden from listings unless asked for ("Display automated tasks"). */
  automated: z.boolean(),
  /** The activity that queued it, if any; the two tasks of one refresh share it. */
  activityId: z.string().nullable(),
  createdAt: time,
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
  error: z.object({ code: z.string(), message: z.string(), errorId: z.string().nullable() }).nullable(),
});

export const activityKindSchema: z.ZodType<ActivityKind> = z.enum([
  'tenant-added',
  'tenant-removed',
  'credentials-rotated',
  'app-profile-added',
  'app-profile-removed',
  'settings-changed',
  'lock',
  'unlock',
  'refresh',
  'external-change',
  'status-change',
]);

export const activitySchema: z.ZodType<StoredActivity> = z.object({
  id: z.string().min(1),
  seq: z.number().int().nonnegative(),
  tenantId: ourId.nullable(),
  kind: activityKindSchema,
  /** As the operator sees it, e.g. "Updating account status". */
  name: z.string().min(1),
  description: z.string(),
  /** Who did it: an operator, `m365-status` for the daemon itself, or what is known of an outside actor. */
  actor: z.string(),
  /** Counts as management activity for the tenant's INACTIVE / DORMANT status. */
  management: z.boolean(),
  at: time,
  userId: z.string().nullable(),
  /** Tasks this activity queued. */
  taskIds: z.array(z.string()),
  /** For a refresh that queued nothing: the earlier task that made a new one unnecessary. */
  blockedByTaskId: z.string().nullable(),
});

export const logLevelSchema: z.ZodType<SystemLogLevel> = z.enum(['info', 'warn', 'error']);

export const systemLogEntrySchema: z.ZodType<SystemLogEntry> = z.object({
  id: z.string().min(1),
  seq: z.number().int().nonnegative(),
  at: time,
  level: logLevelSchema,
  message: z.string(),
  code: z.string().nullable(),
  errorId: z.string().nullable(),
  source: z.string().nullable(),
  taskId: z.string().nullable(),
  tenantId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});

/** `store.json`: everything but users and the system log, which change at their own pace. */
export const mainFileSchema = z.object({
  schemaVersion: z.literal(MAIN_FILE_SCHEMA_VERSION),
  nextSeq: z.number().int().nonnegative(),
  tenants: z.array(tenantSchema),
  appProfiles: z.array(appProfileSchema),
  tasks: z.array(taskSchema),
  activities: z.array(activitySchema),
});
export type MainFile = z.infer<typeof mainFileSchema>;

/**
 * `users/<tenant>.json`: the earlier format of a tenant's users, one file rewritten whole on every change.
 * Read only to move it to a snapshot (`usersSnapshotSchema`) when the store opens.
 */
export const usersFileSchema = z.object({
  schemaVersion: z.literal(STORE_SCHEMA_VERSION),
  tenantId: ourId,
  deltaLink: z.string().nullable(),
  users: z.record(z.string(), userSchema),
});
export type UsersFile = z.infer<typeof usersFileSchema>;

/** `system-log.json`: bounded; the oldest entries rotate out. */
export const systemLogFileSchema = z.object({
  schemaVersion: z.literal(STORE_SCHEMA_VERSION),
  nextSeq: z.number().int().nonnegative(),
  entries: z.array(systemLogEntrySchema),
});
export type SystemLogFile = z.infer<typeof systemLogFileSchema>;
