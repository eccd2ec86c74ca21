import type { CredentialInput } from '../../protocol/daemonApi';
import type { Logger } from '../logging/logger';
import type { TenantCredential } from '../microsoft/tenantTokenSource';
import type { Store } from '../store/store';
import type { StoredTenant } from '../store/storeTypes';
import type { CredentialVault } from '../vault/credentialVault';
import type { CredentialHealthService } from './credentialHealthService';
import type { Poller } from './poller';
import type { TenantConnections } from './tenantConnections';
import type { TenantSync } from './tenantSync';

export interface RegisterTenant {
  tenant: string;
  displayName?: string | undefined;
  appId: string;
  credential: CredentialInput;
  pollIntervalMs?: number | undefined;
  by: string;
}

function toCredential(input: CredentialInput): TenantCredential {
  if (input.kind === 'certificate') {
    return { kind: 'certificate', certificatePem: input.certificatePem, privateKeyPem: input.privateKeyPem };
  }
  const expiresAt = input.expiresAt ? Date.parse(input.expiresAt) : undefined;
  return { kind: 'secret', clientSecret: input.clientSecret, ...(expiresAt ? { expiresAt } : {}) };
}

/**
 * Registering, re-keying and removing tenants. The secret goes to the vault and nowhere else; the new
 * credential is checked at once and the tenant synced, so the operator sees the result in seconds.
 */
export class TenantRegistry {
  constructor(
    private readonly store: Store,
    private readonly vault: CredentialVault,
    private readonly connections: TenantConnections,
    private readonly health: CredentialHealthService,
    private readonly poller: Poller,
    private readonly sync: TenantSync,
    private readonly logger: Logger,
  ) {}

  async register(request: RegisterTenant): Promise<StoredTenant> {
    const credential = toCredential(request.credential);
    const tenant = await this.store.addTenant({
      tenantIdOrDomain: request.tenant,
      appId: request.appId,
      credentialKind: credential.kind,
      ...(request.displayName ? { displayName: request.displayName } : {}),
      ...(request.pollIntervalMs ? { pollIntervalMs: request.pollIntervalMs } : {}),
      by: request.by,
    });
    try {
      await this.vault.put(tenant.id, credential);
    } catch (error) {
      await this.store.removeTenant(tenant.id, request.by);
      throw error;
    }
    await this.health.check(tenant.id);
    this.poller.syncSoon(tenant.id);
    return this.store.requireTenant(tenant.id);
  }

  async rotate(tenantId: string, input: CredentialInput, by: string): Promise<StoredTenant> {
    const tenant = await this.store.requireTenant(tenantId);
    const credential = toCredential(input);
    await this.vault.put(tenant.id, credential);
    this.connections.forget(tenant.id);
    await this.store.recordCredentialsRotated(tenant.id, credential.kind, by);
    const health = await this.health.check(tenant.id);
    // New credentials that work: sync now, so the answer already says whether the tenant is back.
    if (health.canGetToken) await this.sync.sync(tenant.id, { source: 'task' });
    else this.poller.syncSoon(tenant.id);
    return this.store.requireTenant(tenant.id);
  }

  async remove(tenantId: string, by: string): Promise<void> {
    const tenant = await this.store.requireTenant(tenantId);
    await this.store.removeTenant(tenant.id, by);
    this.connections.forget(tenant.id);
    const removed = await this.vault.remove(tenant.id);
    if (!removed) this.logger.warn('no credentials were stored for a removed tenant', { tenantId });
  }

  /** At start: credentials of tenants the store no longer knows (a crash between the two writes). */
  async reconcile(): Promise<void> {
    const dropped = await this.vault.retainOnly((await this.store.listTenants()).map((t) => t.id));
    if (dropped.length > 0) this.logger.info('dropped credentials of removed tenants', { count: dropped.length });
  }
}
