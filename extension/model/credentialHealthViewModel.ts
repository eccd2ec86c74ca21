import { credentialRequirements } from '../../protocol/credentialRequirements';
import type { AppProfileView, CredentialHealthView, TenantView } from '../../protocol/daemonApi';
import type { AppProfileCard, CredentialCheck, CredentialHealthRow, CredentialHealthSnapshot, ExpiryLevel, RoleRow } from '../../webview/credentialHealthSnapshot';
import { expiryCountdown } from '../../webview/expiryCountdown';
import { clockTime, relativeTime } from '../../webview/relativeTime';

// One collator for every comparison: localeCompare with options builds one per call.
const byName = new Intl.Collator(undefined, { sensitivity: 'base' });

const { requiredRoles: REQUIRED_ROLES, optionalRoles: OPTIONAL_ROLES } = credentialRequirements;

const PURPOSE: Readonly<Record<string, string>> = {
  'User.Read.All': 'read users and their sign-in state',
  'User.EnableDisableAccount.All': 'lock and unlock users',
  'User.RevokeSessions.All': 'revoke sign-in sessions when locking',
  'AuditLog.Read.All': 'name who changed a user outside the product',
};

export function credentialHealthRow(tenant: TenantView, now: number): CredentialHealthRow {
  const health = tenant.credentialHealth;
  const credentialLabel = tenant.credentialKind === 'secret' ? 'Client secret' : 'Certificate';
  const expiresAt = health?.credentialExpiresAt ?? null;
  const expiry = expiryCountdown(expiresAt, now);
  const base = {
    tenantId: tenant.id,
    appProfileId: tenant.appProfileId ?? null,
    displayName: tenant.displayName,
    tenant: tenant.tenant,
    status: tenant.status,
    credentialKind: tenant.credentialKind,
    credentialLabel,
    expiresAt,
    expiry,
  };
  if (!health) {
    return {
      ...base,
      check: 'unchecked',
      result: 'Not checked yet',
      failure: null,
      roles: roleRows(null),
      extraRoles: [],
      checkedAt: null,
      checkedText: 'Never',
    };
  }
  const { check, result, failure } = judge(health, credentialLabel, expiry.level);
  return {
    ...base,
    check,
    result,
    failure,
    roles: roleRows(health),
    extraRoles: extraRoles(health),
    checkedAt: health.checkedAt,
    checkedText: `${relativeTime(health.checkedAt, now)} (${clockTime(health.checkedAt)})`,
  };
}

export function credentialHealthViewModel(tenants: readonly TenantView[], now: number, appProfiles: readonly AppProfileView[] = []): CredentialHealthSnapshot {
  const rows = tenants
    .map((tenant) => credentialHealthRow(tenant, now))
    .sort((a, b) => checkRank(a.check) - checkRank(b.check) || byName.compare(a.displayName, b.displayName));
  const failingRows = rows.filter((row) => row.check === 'failing');
  const names = failingRows.slice(0, 5).map((row) => row.displayName);
  const more = failingRows.length > names.length ? ` and ${failingRows.length - names.length} more` : '';
  const banner =
    failingRows.length === 0
      ? null
      : `${failingRows.length === 1 ? '1 credential is' : `${failingRows.length} credentials are`} failing: ${names.join(', ')}${more}. ` +
        'Until fixed, the daemon cannot keep these tenants current or lock and unlock their users.';
  const profiles = appProfiles
    .map((profile) => appProfileCard(profile, now))
    .sort((a, b) => checkRank(a.check) - checkRank(b.check) || byName.compare(a.name, b.name));
  return { rows, profiles, failing: failingRows.length, warnings: rows.filter((row) => row.check === 'warning').length, banner, generatedAt: now };
}

/**
 * A profile's card: the daemon's one summary of every tenant using it. An expired or failing credential
 * reads as one problem, with the tenants it hits listed under it.
 */
export function appProfileCard(profile: AppProfileView, now: number): AppProfileCard {
  const health = profile.credentialHealth;
  const credentialLabel = profile.credentialKind === 'secret' ? 'Client secret' : 'Certificate';
  const expiry = expiryCountdown(health.credentialExpiresAt, now);
  const failingTenants = health.failingTenants.map((tenant) => ({
    tenantId: tenant.id,
    displayName: tenant.displayName,
    problem: tenant.failure?.message ?? `Missing ${tenant.missingRoles.join(', ')}: grant admin consent for ${tenant.missingRoles.length === 1 ? 'it' : 'them'} in this tenant.`,
    remedy: tenant.failure?.remedy ?? null,
  }));
  const count = health.tenantCount;
  const tenants = `${count} ${count === 1 ? 'tenant' : 'tenants'}`;
  let check: CredentialCheck;
  let result: string;
  if (expiry.level === 'expired') {
    check = 'failing';
    result = `The ${credentialLabel.toLowerCase()} has expired: every one of its ${tenants} will fail`;
  } else if (failingTenants.length > 0) {
    check = 'failing';
    result = `${failingTenants.length} of ${tenants} failing`;
  } else if (expiry.level === 'warning' || health.expiresSoon) {
    check = 'warning';
    result = `${tenants} passing; the ${credentialLabel.toLowerCase()} expires soon`;
  } else if (count > 0 && health.uncheckedTenantIds.length === count) {
    check = 'unchecked';
    result = `${tenants}, not checked since the last rotation`;
  } else {
    check = 'passing';
    result = count === 0 ? 'No tenant uses it yet' : `${tenants}, all passing`;
  }
  return {
    profileId: profile.id,
    name: profile.name,
    appId: profile.appId,
    partnerTenant: profile.partnerTenant,
    credentialLabel,
    tenantCount: count,
    check,
    result,
    expiresAt: health.credentialExpiresAt,
    expiry,
    failingTenants,
    uncheckedCount: health.uncheckedTenantIds.length,
  };
}

function checkRank(check: CredentialCheck): number {
  return { failing: 0, warning: 1, unchecked: 2, passing: 3 }[check];
}

function judge(
  health: CredentialHealthView,
  credentialLabel: string,
  expiry: ExpiryLevel,
): { check: CredentialCheck; result: string; failure: CredentialHealthRow['failure'] } {
  if (!health.canGetToken) {
    return {
      check: 'failing',
      result: 'Cannot get a token',
      failure: health.failure ?? {
        code: 'NO_TOKEN',
        message: 'Microsoft refused to issue a token for this app.',
        remedy: 'Open the system log for the reason, check the tenant and application ids, and rotate the credentials.',
      },
    };
  }
  if (health.missingRoles.length > 0) {
    const missing = health.missingRoles;
    const cannot = missing.map((role) => PURPOSE[role] ?? `use ${role}`).join(', ');
    return {
      check: 'failing',
      result: `Token obtained, but ${missing.length === 1 ? 'a required role is' : 'required roles are'} missing`,
      failure: health.failure ?? {
        code: 'MISSING_ROLES',
        message: `The app lacks ${missing.join(', ')}, so the daemon cannot ${cannot}.`,
        remedy: `In the app registration, under API permissions, add the Microsoft Graph application permission${missing.length === 1 ? '' : 's'} ${missing.join(', ')} and grant admin consent for this tenant.`,
      },
    };
  }
  if (expiry === 'expired') {
    return {
      check: 'failing',
      result: `The ${credentialLabel.toLowerCase()} has expired`,
      failure: {
        code: 'CREDENTIAL_EXPIRED',
        message: `The ${credentialLabel.toLowerCase()} has expired; Microsoft will refuse it at the next sign-in.`,
        remedy: `Create a new ${credentialLabel.toLowerCase()} in the app registration and rotate the credentials here.`,
      },
    };
  }
  if (expiry === 'warning') {
    return { check: 'warning', result: `Token obtained; the ${credentialLabel.toLowerCase()} expires soon`, failure: null };
  }
  const optional = health.missingOptionalRoles.length > 0 ? ` (without ${health.missingOptionalRoles.join(', ')}, outside changes show no actor)` : '';
  return { check: 'passing', result: `Token obtained; every required role granted${optional}`, failure: null };
}

function roleRows(health: CredentialHealthView | null): RoleRow[] {
  const missing = new Set(health?.missingRoles ?? []);
  const missingOptional = new Set(health?.missingOptionalRoles ?? []);
  const granted = new Set(health?.grantedRoles ?? []);
  const required = [...new Set<string>([...REQUIRED_ROLES, ...missing])];
  const optional = [...new Set<string>([...OPTIONAL_ROLES, ...missingOptional])].filter((role) => !required.includes(role));
  // A role is granted when the daemon says so, or when it is not listed missing (a broader role covers it).
  const isGranted = (role: string, missingSet: Set<string>): boolean => health !== null && (granted.has(role) || !missingSet.has(role));
  return [
    ...required.map((name) => ({ name, required: true, granted: isGranted(name, missing), purpose: PURPOSE[name] ?? '' })),
    ...optional.map((name) => ({ name, required: false, granted: isGranted(name, missingOptional), purpose: PURPOSE[name] ?? '' })),
  ];
}

function extraRoles(health: CredentialHealthView): string[] {
  const needed = new Set<string>([...REQUIRED_ROLES, ...OPTIONAL_ROLES]);
  return health.grantedRoles.filter((role) => !needed.has(role)).sort();
}
