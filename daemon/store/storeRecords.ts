import { randomUUID } from 'node:crypto';
import { AppError } from '../errors/AppError';
import type { CredentialKind, NewActivity, NewAppProfile, NewTenant, ObservedUser, StoredAppProfile, StoredTenant, StoredUser } from './storeTypes';

/**
 * What every store writes alike, whatever it keeps it in: new records as they start out, and the words
 * of the activities and refusals they record, so that the file store and the shared one read the same.
 */

export function newTenantRecord(input: NewTenant, at: number): StoredTenant {
  return {
    id: input.id ?? randomUUID(),
    tenantIdOrDomain: input.tenantIdOrDomain,
    displayName: input.displayName ?? input.tenantIdOrDomain,
    appId: input.appId,
    credentialKind: input.credentialKind,
    appProfileId: input.appProfileId ?? null,
    pollIntervalMs: input.pollIntervalMs ?? null,
    createdAt: at,
    lastSyncAt: null,
    lastAttemptAt: null,
    lastError: null,
    lastManagementActivityAt: at,
    status: 'ACTIVE',
    statusChangedAt: at,
    credentialHealth: input.credentialHealth ? structuredClone(input.credentialHealth) : null,
  };
}

export function tenantAddedActivity(tenant: StoredTenant, by: string): NewActivity {
  return {
    tenantId: tenant.id,
    kind: 'tenant-added',
    name: 'Registered tenant',
    description: `Registered ${tenant.tenantIdOrDomain} with app ${tenant.appId} (${tenant.credentialKind}).`,
    actor: by,
    management: true,
  };
}

export function newAppProfileRecord(input: NewAppProfile, at: number): StoredAppProfile {
  return {
    id: randomUUID(),
    name: input.name,
    partnerTenant: input.partnerTenant,
    appId: input.appId,
    credentialKind: input.credentialKind,
    credentialExpiresAt: input.credentialExpiresAt,
    createdAt: at,
    credentialsRotatedAt: null,
  };
}

export function appProfileAddedActivity(profile: StoredAppProfile, by: string): NewActivity {
  return {
    tenantId: null,
    kind: 'app-profile-added',
    name: 'Added app profile',
    description: `Added app profile "${profile.name}": app ${profile.appId} registered in ${profile.partnerTenant} (${profile.credentialKind}).`,
    actor: by,
    management: false,
  };
}

export function appProfileRemovedActivity(profile: StoredAppProfile, by: string): NewActivity {
  return {
    tenantId: null,
    kind: 'app-profile-removed',
    name: 'Removed app profile',
    description: `Removed app profile "${profile.name}" (app ${profile.appId}).`,
    actor: by,
    management: false,
  };
}

export function appProfileRotatedActivity(profile: StoredAppProfile, previous: CredentialKind, tenants: readonly StoredTenant[], by: string): NewActivity {
  const replaced = previous === profile.credentialKind ? `Replaced the ${profile.credentialKind}` : `Replaced the ${previous} with a ${profile.credentialKind}`;
  const used = `used by ${tenants.length} tenant${tenants.length === 1 ? '' : 's'}${tenants.length > 0 ? `: ${tenants.map((t) => t.displayName).join(', ')}` : ''}`;
  return {
    tenantId: null,
    kind: 'credentials-rotated',
    name: 'Rotated credentials',
    description: `${replaced} of app profile "${profile.name}", ${used}.`,
    actor: by,
    management: false,
  };
}

export function appProfileExists(name: string, profileId: string | null): AppError {
  return AppError.conflict('APP_PROFILE_EXISTS', `An app profile named "${name}" already exists.`, { appProfileId: profileId });
}

export function appProfileNotFound(profileId: string): AppError {
  return AppError.notFound('APP_PROFILE_NOT_FOUND', `No app profile with id ${profileId}.`, { appProfileId: profileId });
}

export function appProfileInUse(profile: StoredAppProfile, tenants: readonly StoredTenant[]): AppError {
  return AppError.conflict(
    'APP_PROFILE_IN_USE',
    `App profile "${profile.name}" is still used by ${tenants.length} tenant${tenants.length === 1 ? '' : 's'}: ${tenants.map((t) => t.displayName).join(', ')}. Remove them first.`,
    { appProfileId: profile.id, tenantIds: tenants.map((t) => t.id) },
  );
}

/** A tenant on a profile signs in with the profile's app, and no other. */
export function assertAppOfProfile(profile: StoredAppProfile, appId: string): void {
  if (profile.appId !== appId) {
    throw AppError.badRequest('VALIDATION_FAILED', `A tenant using app profile "${profile.name}" signs in with its app ${profile.appId}, not ${appId}.`, {
      field: 'appId',
    });
  }
}

/**
 * A user a Graph round saw for the first time, as the store keeps it. Field by field, not a spread of the
 * observed fields followed by the store's own: V8 made that an object of the observed fields' shape grown by
 * three more, about 420 bytes of heap against 120, slower to build, and the largest part of the CPU of
 * applying a first sync's page (test/daemon/store/syncedUserHeap.test.ts keeps it so).
 */
export function firstSeenUser(observed: ObservedUser, at: number): StoredUser {
  return {
    id: observed.id,
    userPrincipalName: observed.userPrincipalName,
    displayName: observed.displayName,
    accountEnabled: observed.accountEnabled,
    onPremisesSyncEnabled: observed.onPremisesSyncEnabled,
    lastChangedAt: at,
    lastVerifiedAt: at,
    lock: null,
  };
}

/**
 * A known user as a Graph round that began at `at` shows it: what Graph says, except an account state the
 * product set after the round began (the round's answer is older than the lock or unlock), and no lock once
 * the account is enabled. `lastChangedAt` stays the stored one: the caller moves it for a material change.
 */
export function seenAgainUser(before: StoredUser, observed: ObservedUser, at: number): StoredUser {
  const accountEnabled = before.lastChangedAt > at ? before.accountEnabled : observed.accountEnabled;
  return {
    id: observed.id,
    userPrincipalName: observed.userPrincipalName,
    displayName: observed.displayName,
    accountEnabled,
    onPremisesSyncEnabled: observed.onPremisesSyncEnabled,
    lastChangedAt: before.lastChangedAt,
    lastVerifiedAt: Math.max(before.lastVerifiedAt, at),
    lock: accountEnabled ? null : before.lock,
  };
}

/** A change the product shows: anything but the times it was seen. */
export function materiallyDifferent(a: StoredUser, b: StoredUser): boolean {
  return (
    a.userPrincipalName !== b.userPrincipalName ||
    a.displayName !== b.displayName ||
    a.accountEnabled !== b.accountEnabled ||
    a.onPremisesSyncEnabled !== b.onPremisesSyncEnabled ||
    (a.lock === null) !== (b.lock === null)
  );
}
