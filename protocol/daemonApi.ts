import * as z from 'zod';
import { daemonContract } from './daemonContract';

/**
 * The daemon's HTTP API and event stream: request schemas (validated by the daemon) and the shapes it
 * answers with, shared by the daemon and the extension's client so the two cannot drift.
 */

export const apiVersion = 'v1';

export const tenantStatuses = ['ACTIVE', 'INACTIVE', 'DORMANT', 'STALE', 'DISCONNECTED'] as const;
export type TenantStatusName = (typeof tenantStatuses)[number];

export const userStates = ['locked', 'disabled', 'enabled'] as const;
export type UserState = (typeof userStates)[number];

// ---- requests --------------------------------------------------------------------------------------

/**
 * Limits on every string the API takes, as Microsoft bounds the same values, so a value one side accepts
 * the other does too (the extension's input boxes use these).
 */
export const LIMITS = {
  /** A DNS name: 253 characters in all, in labels of at most 63. */
  domainMaxLength: 253,
  domainLabelMaxLength: 63,
  /** Entra ID: 64 characters before the @, 48 after. */
  userPrincipalNameMaxLength: 113,
  displayNameMaxLength: 256,
  /** Entra ID client secrets are 40 characters; this leaves room without taking anything. */
  clientSecretMaxLength: 512,
  /** A certificate, with its chain, and a private key (RSA 4096 in PKCS#8 PEM is about 3.3 KB). */
  certificatePemMaxLength: 32_768,
  privateKeyPemMaxLength: 16_384,
  /** Searching users by name or user principal name. */
  searchTextMaxLength: 256,
  operatorMaxLength: 256,
  /** An app profile's name, as the operator picks it. */
  appProfileNameMaxLength: 128,
  /** Tenants added in one `POST /v1/tenants:batch`: an MSP's customers in a few calls, each answered in seconds. */
  tenantBatchMaxEntries: 200,
  /** Any request body, JSON or CSV: a batch of 200 tenants with certificates does not fit, and is split by the client. */
  requestBodyMaxBytes: 64 * 1024,
} as const;

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const domainLabel = `[a-z0-9](?:[a-z0-9-]{0,${LIMITS.domainLabelMaxLength - 2}}[a-z0-9])?`;
const domainPattern = new RegExp(`^(?=.{1,${LIMITS.domainMaxLength}}$)${domainLabel}(?:\\.${domainLabel})+$`, 'i');
// The characters Entra ID allows before the @ of a user principal name.
const userPrincipalNamePattern = new RegExp(`^(?=.{3,${LIMITS.userPrincipalNameMaxLength}}$)[a-z0-9'._!#^~-]{1,64}@${domainLabel}(?:\\.${domainLabel})+$`, 'i');

const guidOrDomain = z
  .string()
  .trim()
  .max(LIMITS.domainMaxLength, `at most ${LIMITS.domainMaxLength} characters`)
  .refine(
    (value) => guidPattern.test(value) || domainPattern.test(value),
    'a directory (tenant) id such as 72f988bf-86f1-41af-91ab-2d7cd011db47, or a verified domain such as contoso.onmicrosoft.com (labels of letters, digits and hyphens, at most 63 characters each)',
  );
const appId = z.string().max(36, 'an application (client) id: a GUID').regex(guidPattern, 'an application (client) id: a GUID');
const pem = (label: string, maxLength: number) =>
  z
    .string()
    .max(maxLength, `at most ${maxLength} characters`)
    .includes(`-----BEGIN ${label}`, { message: `a PEM ${label.toLowerCase()} block` });

/** A tenant as the daemon names it in paths and queries: the UUID it gave the tenant when registering it. */
export const tenantIdSchema = z.string().max(36, 'a tenant id as the daemon gave it: a UUID').regex(guidPattern, 'a tenant id as the daemon gave it: a UUID');
/** A user in a path: its object id (a GUID) or its user principal name. */
export const userIdSchema = z
  .string()
  .max(LIMITS.userPrincipalNameMaxLength, `at most ${LIMITS.userPrincipalNameMaxLength} characters`)
  .refine((value) => guidPattern.test(value) || userPrincipalNamePattern.test(value), "a user's object id (a GUID) or user principal name (name@domain, at most 113 characters)");
/** Task, activity and log entry ids: UUIDs the daemon gave them. */
export const recordIdSchema = z.string().max(36, 'an id as the daemon gave it: a UUID').regex(guidPattern, 'an id as the daemon gave it: a UUID');
/** `X-M365-Operator`: a name for activities, printable text only. */
export const operatorHeaderSchema = z
  .string()
  .max(LIMITS.operatorMaxLength, `at most ${LIMITS.operatorMaxLength} characters`)
  .regex(/^[^\p{Cc}]*$/u, 'printable text, without control characters');

/** Path parameters of every route that takes them. */
export const tenantPathSchema = z.strictObject({ id: tenantIdSchema });
export const userPathSchema = z.strictObject({ id: tenantIdSchema, userId: userIdSchema });

export const credentialInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('secret'),
    clientSecret: z.string().min(1, 'the client secret value').max(LIMITS.clientSecretMaxLength, `at most ${LIMITS.clientSecretMaxLength} characters`),
    /** When the secret expires, as shown in the app registration; used when the daemon cannot read it. */
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  }),
  z.strictObject({
    kind: z.literal('certificate'),
    certificatePem: pem('CERTIFICATE', LIMITS.certificatePemMaxLength),
    privateKeyPem: pem('PRIVATE KEY', LIMITS.privateKeyPemMaxLength).or(pem('RSA PRIVATE KEY', LIMITS.privateKeyPemMaxLength)),
  }),
]);
export type CredentialInput = z.infer<typeof credentialInputSchema>;

export const addTenantSchema = z.strictObject({
  tenant: guidOrDomain,
  displayName: z.string().trim().min(1).max(LIMITS.displayNameMaxLength, `at most ${LIMITS.displayNameMaxLength} characters`).optional(),
  appId,
  credential: credentialInputSchema,
  pollIntervalSeconds: z.number().int().min(daemonContract.pollIntervalSeconds.min).max(daemonContract.pollIntervalSeconds.max).optional(),
});
export type AddTenantRequest = z.infer<typeof addTenantSchema>;

export const rotateCredentialsSchema = z.strictObject({ credential: credentialInputSchema });
export type RotateCredentialsRequest = z.infer<typeof rotateCredentialsSchema>;

// ---- app profiles, consent links, customer discovery, bulk add ----

/** An app profile in a path: the UUID the daemon gave it. */
export const appProfilePathSchema = z.strictObject({ profileId: recordIdSchema });
/** A consent request in a path: its profile, and the random `state` the daemon made for it. */
export const consentPathSchema = z.strictObject({
  profileId: recordIdSchema,
  state: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'the state of a consent link, as the daemon made it'),
});

const appProfileName = z
  .string()
  .trim()
  .min(1, 'a name for the app profile')
  .max(LIMITS.appProfileNameMaxLength, `at most ${LIMITS.appProfileNameMaxLength} characters`)
  .regex(/^[^\p{Cc},;]*$/u, 'printable text, without commas, semicolons or control characters');

export const addAppProfileSchema = z.strictObject({
  name: appProfileName,
  /** The partner tenant the multi-tenant app is registered in: its directory id or a verified domain. */
  partnerTenant: guidOrDomain,
  appId,
  credential: credentialInputSchema,
});
export type AddAppProfileRequest = z.infer<typeof addAppProfileSchema>;

export const requestConsentSchema = z.strictObject({
  /** The customer tenant whose admin is to consent: its directory id or a verified domain. */
  tenant: guidOrDomain,
  displayName: z.string().trim().min(1).max(LIMITS.displayNameMaxLength, `at most ${LIMITS.displayNameMaxLength} characters`).optional(),
  pollIntervalSeconds: z.number().int().min(daemonContract.pollIntervalSeconds.min).max(daemonContract.pollIntervalSeconds.max).optional(),
});
export type RequestConsentRequest = z.infer<typeof requestConsentSchema>;

/** One tenant of `POST /v1/tenants:batch`; checked entry by entry, so one bad line rejects only itself. */
export const tenantBatchEntrySchema = z.strictObject({
  tenant: guidOrDomain,
  displayName: z.string().trim().min(1).max(LIMITS.displayNameMaxLength, `at most ${LIMITS.displayNameMaxLength} characters`).optional(),
  /** The app profile it signs in with: its id or its name. */
  profile: z.string().trim().min(1, 'an app profile id or name').max(LIMITS.appProfileNameMaxLength, `at most ${LIMITS.appProfileNameMaxLength} characters`),
  pollIntervalSeconds: z.number().int().min(daemonContract.pollIntervalSeconds.min).max(daemonContract.pollIntervalSeconds.max).optional(),
});
export type TenantBatchEntry = z.infer<typeof tenantBatchEntrySchema>;

/** The JSON form: `{tenants: [...]}` (the CSV form has a header line `tenant,displayName,profile,pollIntervalSeconds`). */
export const tenantBatchSchema = z.strictObject({
  tenants: z
    .array(z.unknown())
    .min(1, 'at least one tenant')
    .max(LIMITS.tenantBatchMaxEntries, `at most ${LIMITS.tenantBatchMaxEntries} tenants at once`),
});

export const lockUserSchema = z.strictObject({
  /** Also revoke sign-in sessions (refresh tokens), so the user is signed out within minutes. */
  revokeSessions: z.boolean().optional(),
  /** Required for users synced from on-premises AD, whose state the next directory sync may restore. */
  overrideOnPremises: z.boolean().optional(),
});
export type LockUserRequest = z.infer<typeof lockUserSchema>;

export const unlockUserSchema = z.strictObject({ overrideOnPremises: z.boolean().optional() });
export type UnlockUserRequest = z.infer<typeof unlockUserSchema>;

export const userListQuerySchema = z.strictObject({
  state: z.enum(userStates).optional(),
  text: z.string().max(LIMITS.searchTextMaxLength, `at most ${LIMITS.searchTextMaxLength} characters`).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export type UserListQuery = z.infer<typeof userListQuerySchema>;

export const taskListQuerySchema = z.strictObject({
  automated: z.enum(['true', 'false']).optional(),
  tenantId: tenantIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const logListQuerySchema = z.strictObject({
  taskId: recordIdSchema.optional(),
  tenantId: tenantIdSchema.optional(),
  level: z.enum(['info', 'warn', 'error']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

// ---- answers ---------------------------------------------------------------------------------------

/** Every error answer. `details.field` names the offending field of a 400. */
export interface ApiError {
  error: { code: string; message: string; details?: { field?: string; [key: string]: unknown }; errorId: string };
}

export interface CredentialHealthView {
  checkedAt: number;
  canGetToken: boolean;
  failure: { code: string; message: string; remedy: string } | null;
  grantedRoles: string[];
  missingRoles: string[];
  missingOptionalRoles: string[];
  credentialExpiresAt: number | null;
}

export interface TenantView {
  id: string;
  tenant: string;
  displayName: string;
  appId: string;
  credentialKind: 'secret' | 'certificate';
  /** The app profile it signs in with (group credential health by it); null = its own app. */
  appProfileId: string | null;
  status: TenantStatusName;
  statusReason: string;
  /** The last successful sync: how current the users are. */
  asOf: number | null;
  lastAttemptAt: number | null;
  lastError: { at: number; category: string; code: string; message: string } | null;
  pollIntervalMs: number;
  lastManagementActivityAt: number;
  /** Disjoint: locked by the product, other disabled, enabled. */
  counts: { total: number; enabled: number; disabled: number; locked: number };
  credentialHealth: CredentialHealthView | null;
}

export interface UserView {
  id: string;
  userPrincipalName: string;
  displayName: string | null;
  accountEnabled: boolean;
  onPremisesSyncEnabled: boolean | null;
  state: UserState;
  lastChangedAt: number;
  lastVerifiedAt: number;
  lock: { by: string; at: number; revokedSessions: boolean } | null;
}

export interface UserPage {
  users: UserView[];
  total: number;
  offset: number;
  limit: number;
}

export type TaskStatusName = 'PENDING' | 'IN_PROGRESS' | 'COMPLETE' | 'ERROR';

export interface TaskView {
  id: string;
  tenantId: string | null;
  kind: string;
  name: string;
  description: string;
  status: TaskStatusName;
  automated: boolean;
  activityId: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: { code: string; message: string; errorId: string | null } | null;
}

export interface ActivityView {
  id: string;
  tenantId: string | null;
  kind: string;
  name: string;
  description: string;
  actor: string;
  at: number;
  userId: string | null;
  blockedByTaskId: string | null;
  /** The tasks this activity queued, always shown under it. */
  tasks: TaskView[];
}

/** `GET /v1/tasks`: activities with their tasks, and tasks of their own, newest first. */
export type TaskListEntry = { type: 'activity'; at: number; activity: ActivityView } | { type: 'task'; at: number; task: TaskView };

export interface SystemLogEntryView {
  id: string;
  at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  code: string | null;
  taskId: string | null;
  tenantId: string | null;
}

export type LockOutcome =
  | { outcome: 'locked' | 'unlocked'; user: UserView; activity: ActivityView }
  | { outcome: 'unchanged'; user: UserView; message: string };

export type RefreshOutcome =
  | { outcome: 'queued'; activity: ActivityView; tasks: TaskView[]; message: string }
  | { outcome: 'already-requested'; activity: ActivityView; earlierTask: TaskView; message: string };

export interface AppProfileView {
  id: string;
  name: string;
  partnerTenant: string;
  appId: string;
  credentialKind: 'secret' | 'certificate';
  createdAt: number;
  credentialsRotatedAt: number | null;
  /** The tenants signing in with this profile. */
  tenantIds: string[];
  /**
   * One summary for every tenant using the profile: one expiry countdown, and which tenants fail, so an
   * expired secret reads as one problem with its tenants listed.
   */
  credentialHealth: {
    credentialExpiresAt: number | null;
    /** Within the warning window of credential health, or past it. */
    expiresSoon: boolean;
    tenantCount: number;
    /** Tenants not checked since the last rotation. */
    uncheckedTenantIds: string[];
    failingTenants: Array<{
      id: string;
      displayName: string;
      failure: { code: string; message: string; remedy: string } | null;
      missingRoles: string[];
    }>;
  };
}

export type ConsentStatus = 'pending' | 'granted' | 'failed';

/** `POST /v1/app-profiles/{id}/consents`: the admin-consent link for one customer, and how to follow it. */
export interface ConsentLinkView {
  consentUrl: string;
  state: string;
  redirectUri: string;
  expiresAt: number;
}

/** `GET /v1/app-profiles/{id}/consents/{state}` and the `consent` event. */
export interface ConsentView {
  state: string;
  appProfileId: string;
  /** As asked for: a directory id or a domain. */
  tenant: string;
  status: ConsentStatus;
  expiresAt: number;
  /** Once granted: the tenant as registered (or as it already was). */
  tenantId: string | null;
  /** Once granted: the needed roles the consent did not grant. */
  missingRoles: string[];
  missingOptionalRoles: string[];
  /** Once failed: Microsoft's error and description, and what they mean in plain words. */
  error: { code: string; description: string; message: string } | null;
}

/** `GET /v1/app-profiles/{id}/customers`: the partner's GDAP customers and where each stands. */
export interface CustomerView {
  tenantId: string;
  displayName: string;
  /** Already a tenant here: its id as the daemon gave it. */
  addedAs: string | null;
  added: boolean;
  /** Whether the profile's app can get a token there; `unknown` when asking failed for another reason. */
  consent: 'consented' | 'notConsented' | 'unknown';
  /** With consent: the needed roles the token lacks. */
  missingRoles: string[];
  /** Without a clear answer: what the identity platform said. */
  error: string | null;
}

export interface CustomerListView {
  appProfileId: string;
  customers: CustomerView[];
}

export type TenantBatchResult =
  | { line: number; tenant: string; outcome: 'added'; tenantView: TenantView }
  | { line: number; tenant: string; outcome: 'alreadyPresent'; tenantId: string }
  | { line: number; tenant: string; outcome: 'invalid'; reason: string; field: string | null }
  | { line: number; tenant: string; outcome: 'needsConsent'; consent: ConsentLinkView };

/** `POST /v1/tenants:batch`: one answer per entry, in the order given. */
export interface TenantBatchView {
  results: TenantBatchResult[];
  counts: { added: number; alreadyPresent: number; invalid: number; needsConsent: number };
}

/**
 * What an engineer may do, each role including the one before: a reader sees everything, refreshes and
 * re-checks credential health; an operator also locks, unlocks and revokes sessions; an admin also adds,
 * rotates and removes tenants and manages engineers.
 */
export const engineerRoles = ['reader', 'operator', 'admin'] as const;
export type EngineerRole = (typeof engineerRoles)[number];

/**
 * Whether `role` may do what `needed` may: each role includes the ones before it. An unknown role (a
 * shared deployment's session not read yet) allows nothing. The daemon grants by it; the extension offers by it.
 */
export function roleAllows(role: EngineerRole | undefined, needed: EngineerRole): boolean {
  return role !== undefined && engineerRoles.indexOf(role) >= engineerRoles.indexOf(needed);
}

/** `GET /v1/session`: which kind of daemon this is and who the request was made as. */
export interface SessionView {
  /** `local`: one engineer's daemon on its own files; `shared`: a team's daemon on PostgreSQL. */
  mode: 'local' | 'shared';
  engineer: {
    /** The name activities record for this caller: the engineer's, or in local mode the operator's. */
    name: string;
    role: EngineerRole;
    /** The tenants this engineer is restricted to (as registered, or the daemon's ids); null for all. */
    tenants: string[] | null;
  };
}

export interface HealthView {
  ok: true;
  version: string;
}

// ---- events (`GET /v1/events`, Server-Sent Events) -------------------------------------------------

export type DaemonEvent =
  | { type: 'tenant'; tenant: TenantView }
  | { type: 'tenant-removed'; tenantId: string }
  | { type: 'users'; tenantId: string; users: UserView[]; removedUserIds: string[] }
  /**
   * Many of a tenant's users changed at once (a page of its first sync, or of a full resync): read its
   * users again instead of being sent each. A `tenant` event with the new counts follows.
   */
  | { type: 'users-reloaded'; tenantId: string }
  | { type: 'activity'; activity: ActivityView }
  | { type: 'task'; task: TaskView }
  | { type: 'log'; entry: SystemLogEntryView }
  /** An admin consent was answered (granted or failed). */
  | { type: 'consent'; consent: ConsentView };

/** What the daemon writes to `daemon.json` in its data directory (0600) for clients to find it. */
export interface DaemonEndpointFile {
  url: string;
  port: number;
  pid: number;
  token: string;
  version: string;
}

/**
 * `daemon.json` of a daemon of a shared deployment: where it listens and which process it is, for the
 * operator and process supervisors. No token: every request there carries an engineer's own, so a local
 * one would be a secret on disk that opens nothing. Clients find a shared deployment by its URL setting.
 */
export interface SharedDaemonEndpointFile {
  mode: 'shared';
  url: string;
  port: number;
  pid: number;
  version: string;
}
