import type { ActivityView, CredentialHealthView, TaskView, TenantView, UserView } from '../../../protocol/daemonApi';

export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

/** A tenant as the daemon answers it, healthy unless told otherwise. */
export function tenantView(overrides: Partial<TenantView> = {}): TenantView {
  return {
    id: 'tenant-1',
    tenant: 'contoso.onmicrosoft.com',
    displayName: 'Contoso',
    appId: '0f3c2a8e-6a4b-4c1d-9e2f-3b5a7c9d1e2f',
    credentialKind: 'secret',
    appProfileId: null,
    status: 'ACTIVE',
    statusReason: 'synced recently and managed recently',
    asOf: NOW - 2 * MINUTE,
    lastAttemptAt: NOW - 2 * MINUTE,
    lastError: null,
    pollIntervalMs: 60_000,
    lastManagementActivityAt: NOW - DAY,
    counts: { total: 100, enabled: 90, disabled: 8, locked: 2 },
    credentialHealth: healthView(),
    ...overrides,
  };
}

export function healthView(overrides: Partial<CredentialHealthView> = {}): CredentialHealthView {
  return {
    checkedAt: NOW - 10 * MINUTE,
    canGetToken: true,
    failure: null,
    grantedRoles: ['User.Read.All', 'User.EnableDisableAccount.All', 'User.RevokeSessions.All', 'AuditLog.Read.All'],
    missingRoles: [],
    missingOptionalRoles: [],
    credentialExpiresAt: NOW + 200 * DAY,
    ...overrides,
  };
}

export function userView(overrides: Partial<UserView> & { id: string }): UserView {
  return {
    userPrincipalName: `${overrides.id}@contoso.onmicrosoft.com`,
    displayName: overrides.id,
    accountEnabled: true,
    onPremisesSyncEnabled: false,
    state: 'enabled',
    lastChangedAt: NOW - DAY,
    lastVerifiedAt: NOW - MINUTE,
    lock: null,
    ...overrides,
  };
}

export function taskView(overrides: Partial<TaskView> & { id: string }): TaskView {
  return {
    tenantId: 'tenant-1',
    kind: 'update-ad-cache',
    name: 'Update AD cache',
    description: 'A full resync of the users',
    status: 'PENDING',
    automated: false,
    activityId: null,
    createdAt: NOW - MINUTE,
    startedAt: null,
    finishedAt: null,
    error: null,
    ...overrides,
  };
}

export function activityView(overrides: Partial<ActivityView> & { id: string }): ActivityView {
  return {
    tenantId: 'tenant-1',
    kind: 'refresh',
    name: 'Updating account status',
    description: 'Refresh requested',
    actor: 'alice',
    at: NOW - MINUTE,
    userId: null,
    blockedByTaskId: null,
    tasks: [],
    ...overrides,
  };
}
