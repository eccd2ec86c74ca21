import type { AppProfileView, ConsentView, CustomerView } from '../../protocol/daemonApi';
import { addAppProfileSchema } from '../../protocol/daemonApi';
import { noIcons } from './tenantPickItem';

/** The app profile name box, checked with the daemon's own schema so a name it accepts is one the daemon takes. */
export function validateAppProfileName(value: string): string | undefined {
  if (value.trim() === '') return 'A name for the app profile is needed, such as "Contoso MSP app".';
  const result = addAppProfileSchema.shape.name.safeParse(value);
  return result.success ? undefined : (result.error.issues[0]?.message ?? 'not valid');
}

/** An app profile in a quick pick: its name, its app and partner, how many tenants use it. */
export function appProfilePickItem(profile: AppProfileView): { label: string; description: string; detail: string } {
  const count = profile.credentialHealth.tenantCount;
  const failing = profile.credentialHealth.failingTenants.length;
  return {
    label: `$(key) ${noIcons(profile.name)}`,
    description: `${count} ${count === 1 ? 'tenant' : 'tenants'}${failing > 0 ? `, ${failing} failing` : ''}`,
    detail: noIcons(`app ${profile.appId} in ${profile.partnerTenant}`),
  };
}

/** Finds a profile the caller named by id or by name (names are unique whatever their case). */
export function findAppProfile(profiles: readonly AppProfileView[], idOrName: string): AppProfileView | undefined {
  const wanted = idOrName.trim().toLowerCase();
  return profiles.find((profile) => profile.id === idOrName.trim()) ?? profiles.find((profile) => profile.name.toLowerCase() === wanted);
}

/** A GDAP customer in the multi-select: where it stands, and what adding it does. */
export function customerPickItem(customer: CustomerView): { label: string; description: string; detail: string } {
  const detail =
    customer.consent === 'consented'
      ? customer.missingRoles.length > 0
        ? `consented, but without ${customer.missingRoles.join(', ')}: added, its credential health says what to grant`
        : 'consented: added and synced at once'
      : customer.consent === 'notConsented'
        ? 'not consented yet: you get an admin-consent link to send'
        : `consent unknown (${customer.error ?? 'Microsoft did not say'}): added if the app can sign in there, otherwise a consent link`;
  return {
    label: `${customer.consent === 'consented' ? '$(pass)' : customer.consent === 'notConsented' ? '$(circle-large-outline)' : '$(question)'} ${noIcons(customer.displayName)}`,
    description: customer.tenantId,
    detail: noIcons(detail),
  };
}

export interface ConsentOutcomeMessage {
  severity: 'info' | 'warning' | 'error';
  message: string;
}

/** What the operator is told once a consent is answered or its link runs out. */
export function consentOutcomeMessage(consent: ConsentView, tenantName: string | undefined, now: number): ConsentOutcomeMessage {
  const who = tenantName ?? consent.tenant;
  if (consent.status === 'granted') {
    if (consent.missingRoles.length > 0) {
      return {
        severity: 'warning',
        message: `The admin of ${who} consented, but did not grant ${consent.missingRoles.join(', ')}. The tenant is added; locks and unlocks need those roles granted (credential health shows the fix).`,
      };
    }
    const optional = consent.missingOptionalRoles.length > 0 ? ` Without ${consent.missingOptionalRoles.join(', ')}, it cannot say who changed a user outside the product.` : '';
    return { severity: 'info', message: `The admin of ${who} consented: the tenant is added and syncing.${optional}` };
  }
  if (consent.status === 'failed') {
    const error = consent.error;
    const microsoft = error ? ` (Microsoft said ${error.code}: ${error.description})` : '';
    return { severity: 'error', message: `Consent for ${who} failed: ${error?.message ?? 'no reason given'}${microsoft}. Nothing was added.` };
  }
  return consent.expiresAt <= now
    ? { severity: 'error', message: `The consent link for ${who} expired before its admin answered. Get a new one.` }
    : { severity: 'info', message: `Still waiting for the admin of ${who} to answer.` };
}
