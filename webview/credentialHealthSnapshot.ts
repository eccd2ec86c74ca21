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

/**
 * What the credential-health page draws: one row per tenant, computed by the extension host and posted
 * to the page. The page owns this shape (with its message protocol); the host imports it.
 */
export interface CredentialHealthSnapshot {
  rows: CredentialHealthRow[];
  failing: number;
  warnings: number;
  /** The red banner's words while any credential fails; null otherwise. */
  banner: string | null;
  generatedAt: number;
}
