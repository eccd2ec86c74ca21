import { z } from 'zod';
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

const guidOrDomain = z
  .string()
  .trim()
  .regex(
    /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i,
    'a directory (tenant) id such as 72f988bf-86f1-41af-91ab-2d7cd011db47, or a verified domain such as contoso.onmicrosoft.com',
  );
const appId = z.uuid('an application (client) id: a GUID');
const pem = (label: string) => z.string().includes(`-----BEGIN ${label}`, { message: `a PEM ${label.toLowerCase()} block` });

export const credentialInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('secret'),
    clientSecret: z.string().min(1, 'the client secret value').max(512),
    /** When the secret expires, as shown in the app registration; used when the daemon cannot read it. */
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  }),
  z.strictObject({
    kind: z.literal('certificate'),
    certificatePem: pem('CERTIFICATE'),
    privateKeyPem: pem('PRIVATE KEY').or(pem('RSA PRIVATE KEY')),
  }),
]);
export type CredentialInput = z.infer<typeof credentialInputSchema>;

export const addTenantSchema = z.strictObject({
  tenant: guidOrDomain,
  displayName: z.string().trim().min(1).max(120).optional(),
  appId,
  credential: credentialInputSchema,
  pollIntervalSeconds: z.number().int().min(daemonContract.pollIntervalSeconds.min).max(daemonContract.pollIntervalSeconds.max).optional(),
});
export type AddTenantRequest = z.infer<typeof addTenantSchema>;

export const rotateCredentialsSchema = z.strictObject({ credential: credentialInputSchema });
export type RotateCredentialsRequest = z.infer<typeof rotateCredentialsSchema>;

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
  text: z.string().max(200).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export type UserListQuery = z.infer<typeof userListQuerySchema>;

export const taskListQuerySchema = z.strictObject({
  automated: z.enum(['true', 'false']).optional(),
  tenantId: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const logListQuerySchema = z.strictObject({
  taskId: z.string().max(64).optional(),
  tenantId: z.string().max(64).optional(),
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

export interface HealthView {
  ok: true;
  version: string;
}

// ---- events (`GET /v1/events`, Server-Sent Events) -------------------------------------------------

export type DaemonEvent =
  | { type: 'tenant'; tenant: TenantView }
  | { type: 'tenant-removed'; tenantId: string }
  | { type: 'users'; tenantId: string; users: UserView[]; removedUserIds: string[] }
  | { type: 'activity'; activity: ActivityView }
  | { type: 'task'; task: TaskView }
  | { type: 'log'; entry: SystemLogEntryView };

/** What the daemon writes to `daemon.json` in its data directory (0600) for clients to find it. */
export interface DaemonEndpointFile {
  url: string;
  port: number;
  pid: number;
  token: string;
  version: string;
}
