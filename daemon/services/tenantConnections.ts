import type { Client } from '@microsoft/microsoft-graph-client';
import type { Agent } from 'undici';
import { AppError } from '../errors/AppError';
import type { MicrosoftEndpoints } from '../microsoft/microsoftEndpoints';
import { createTenantGraphClient } from '../microsoft/tenantGraphClient';
import { TenantTokenSource, type TenantCredential } from '../microsoft/tenantTokenSource';
import type { StoredTenant } from '../store/storeTypes';
import type { CredentialVault } from '../vault/credentialVault';
import { vaultKeys } from '../vault/vaultKeys';

export interface TenantConnection {
  tokens: TenantTokenSource;
  graph: Client;
  credential: TenantCredential;
}

/**
 * One token source and Graph client per tenant, built from its credential in the vault and kept, so its
 * token serves every call until the token is near expiry. Rotation or removal drops it, here or on
 * another daemon sharing the vault.
 */
export class TenantConnections {
  private readonly connections = new Map<string, TenantConnection>();

  constructor(
    private readonly vault: CredentialVault,
    private readonly endpoints: MicrosoftEndpoints,
    private readonly dispatcher: Agent,
    private readonly graphMaxRetries: number,
  ) {
    // Another daemon on the shared vault rotated or removed a credential: the connection built from the
    // old one must go, or it would sign in with a secret that may already be revoked.
    vault.onCredentialChanged((tenantId) => this.forget(tenantId));
  }

  get(tenant: Readonly<StoredTenant>): TenantConnection {
    const existing = this.connections.get(tenant.id);
    if (existing) return existing;
    // A tenant on an app profile signs in with the profile's app (its appId) and the profile's credential.
    const key = vaultKeys.ofTenant(tenant);
    if (!this.vault.has(key)) {
      throw new AppError({
        status: 409,
        code: 'CREDENTIALS_MISSING',
        message: tenant.appProfileId
          ? `No credentials are stored for the app profile of ${tenant.displayName}: rotate the profile's credentials to add them.`
          : `No credentials are stored for ${tenant.displayName}: rotate its credentials to add them.`,
      });
    }
    return this.connect(tenant, this.vault.get(key));
  }

  /**
   * Builds and keeps the connection of a tenant from a credential given here, not read from the vault:
   * registering checks the credential while the vault is still writing it.
   */
  connect(tenant: Pick<StoredTenant, 'id' | 'tenantIdOrDomain' | 'appId'>, credential: TenantCredential): TenantConnection {
    const tokens = new TenantTokenSource(
      { tenant: tenant.tenantIdOrDomain, clientId: tenant.appId, credential },
      this.endpoints,
      this.dispatcher,
    );
    // The poller keeps its own backoff across rounds; inside one call, Graph's Retry-After is honoured.
    const graph = createTenantGraphClient(tokens, this.endpoints, this.dispatcher, { maxRetries: this.graphMaxRetries, delaySeconds: 1 });
    const connection = { tokens, graph, credential };
    this.connections.set(tenant.id, connection);
    return connection;
  }

  /**
   * Asks for the tenants' tokens ahead of their first rounds, `concurrency` at a time and in the order
   * given, until `until` settles: after a restart, while the users are still loading, so that the
   * identity platform answers during the load rather than after it. A tenant without credentials is
   * left to its round, which reports it.
   */
  async prefetchTokens(tenants: readonly StoredTenant[], concurrency: number, until: Promise<unknown>): Promise<void> {
    let done = false;
    void until.then(
      () => (done = true),
      () => (done = true),
    );
    const queue = [...tenants];
    const worker = async (): Promise<void> => {
      for (let tenant = queue.shift(); tenant !== undefined && !done; tenant = queue.shift()) {
        let connection: TenantConnection;
        try {
          connection = this.get(tenant);
        } catch {
          continue;
        }
        await connection.tokens.prefetch();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
  }

  forget(tenantId: string): void {
    this.connections.delete(tenantId);
  }
}
