import type { TenantCredential } from '../microsoft/tenantTokenSource';

/**
 * Where the daemon keeps tenant credentials, encrypted: `vault.json` in the data directory for the local
 * store (`Vault`), a table of the shared database for a team's daemons (`PostgresVault`). Reads are
 * synchronous because a credential is needed wherever a tenant's connection is built; both keep what
 * they read in memory and answer from there.
 */
export interface CredentialVault {
  has(tenantId: string): boolean;
  tenantIds(): string[];
  /** The credential, decrypted; a tenant without one is an error the operator can fix. */
  get(tenantId: string): TenantCredential;
  /** Stores a tenant's credential, replacing any earlier one; resolves once it is durable. */
  put(tenantId: string, credential: TenantCredential): Promise<void>;
  /** Replaces the credential of a tenant that has one. */
  rotate(tenantId: string, credential: TenantCredential): Promise<void>;
  /** Removes a tenant's credential; false if there was none. */
  remove(tenantId: string): Promise<boolean>;
  /** Drops credentials of tenants the store no longer knows; answers the tenant ids dropped. */
  retainOnly(tenantIds: Iterable<string>): Promise<string[]>;
  /**
   * Calls `listener` when a tenant's credential was added, changed or removed by someone else (another
   * daemon on the same database), so connections built from the old one are dropped. Answers the
   * unsubscribe.
   */
  onCredentialChanged(listener: (tenantId: string) => void): () => void;
  /** Waits for the last write and lets go of what the vault holds open. */
  close(): Promise<void>;
}
