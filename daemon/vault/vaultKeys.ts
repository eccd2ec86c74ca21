import type { StoredTenant } from '../store/storeTypes';

const appProfilePrefix = 'app-profile:';

/**
 * Where a credential sits in the vault: a tenant with its own app under its id, every tenant on an app
 * profile under the profile's one entry, so rotating the profile rotates it for all of them.
 */
export const vaultKeys = {
  appProfile: (profileId: string): string => `${appProfilePrefix}${profileId}`,
  ofTenant: (tenant: Pick<StoredTenant, 'id' | 'appProfileId'>): string =>
    tenant.appProfileId ? `${appProfilePrefix}${tenant.appProfileId}` : tenant.id,
} as const;
