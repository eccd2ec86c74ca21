import type { AppProfileView } from '../../protocol/daemonApi';
import { credentialRequirements } from '../../protocol/credentialRequirements';
import type { StoredAppProfile, StoredTenant } from '../store/storeTypes';

/**
 * An app profile as the API shows it, with one credential-health summary for the tenants using it: the
 * profile's one expiry, and the tenants whose last check failed or lacks a needed role.
 */
export function appProfileView(profile: StoredAppProfile, tenants: readonly StoredTenant[], now: number): AppProfileView {
  const using = tenants.filter((t) => t.appProfileId === profile.id);
  // Where a check read the expiry from the app registration, it beats what the operator declared.
  const reported = using.map((t) => t.credentialHealth?.credentialExpiresAt ?? null).filter((at): at is number => at !== null);
  const credentialExpiresAt = reported.length > 0 ? Math.min(...reported) : profile.credentialExpiresAt;
  return {
    id: profile.id,
    name: profile.name,
    partnerTenant: profile.partnerTenant,
    appId: profile.appId,
    credentialKind: profile.credentialKind,
    createdAt: profile.createdAt,
    credentialsRotatedAt: profile.credentialsRotatedAt,
    tenantIds: using.map((t) => t.id),
    credentialHealth: {
      credentialExpiresAt,
      expiresSoon: credentialExpiresAt !== null && credentialExpiresAt - now < credentialRequirements.expiryWarningMs,
      tenantCount: using.length,
      uncheckedTenantIds: using.filter((t) => t.credentialHealth === null).map((t) => t.id),
      failingTenants: using
        .filter((t) => t.credentialHealth !== null && (!t.credentialHealth.canGetToken || t.credentialHealth.failure !== null || t.credentialHealth.missingRoles.length > 0))
        .map((t) => ({
          id: t.id,
          displayName: t.displayName,
          failure: t.credentialHealth?.failure ?? null,
          missingRoles: t.credentialHealth?.missingRoles ?? [],
        })),
    },
  };
}
