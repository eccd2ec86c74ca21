import type { TenantStatusName } from '../protocol/daemonApi';

export type CredentialCheck = 'passing' | 'warning' | 'failing' | 'unchecked';
export type ExpiryLevel = 'ok' | 'warning' | 'expired' | 'unknown';

export interface RoleRow {
  name: string;
  granted: boolean;
  /** Required for lock/unlock/read; false for the optional ones. */
  required: boolean;
  /** What the product does with it, for the tooltip and the page. */
  purpose: string;
}

export interface CredentialHealthRow {
  tenantId: string;
  /** The app profile it signs in with: its card stands for it (and lists it while it fails); null = its own app. */
  appProfileId: string | null;
  displayName: string;
  tenant: string;
  status: TenantStatusName;
  credentialKind: 'secret' | 'certificate';
  credentialLabel: string;
  check: CredentialCheck;
  /** One line: what the check found. */
  result: string;
  /** What went wrong in plain words, and what to do about it; null when nothing is wrong. */
  failure: { code: string; message: string; remedy: string } | null;
  roles: RoleRow[];
  /** Granted but not needed: worth removing (least privilege). */
  extraRoles: string[];
  expiresAt: number | null;
  expiry: { level: ExpiryLevel; text: string };
  checkedAt: number | null;
  checkedText: string;
}

/** One app profile: one credential for many tenants, so one countdown, with its failing tenants listed. */
export interface AppProfileCard {
  profileId: string;
  name: string;
  appId: string;
  partnerTenant: string;
  credentialLabel: string;
  tenantCount: number;
  check: CredentialCheck;
  /** One line: what the checks of its tenants found. */
  result: string;
  expiresAt: number | null;
  expiry: { level: ExpiryLevel; text: string };
  failingTenants: Array<{ tenantId: string; displayName: string; problem: string; remedy: string | null }>;
  uncheckedCount: number;
}

/**
 * What the credential-health page draws: one row per tenant, computed by the extension host and posted
 * to the page. The page owns this shape (with its message protocol); the host imports it.
 */
export interface CredentialHealthSnapshot {
  rows: CredentialHealthRow[];
  /** App profiles first, then the tenants with their own app (`rows` whose `appProfileId` is null). */
  profiles: AppProfileCard[];
  failing: number;
  warnings: number;
  /** The red banner's words while any credential fails; null otherwise. */
  banner: string | null;
  generatedAt: number;
}
