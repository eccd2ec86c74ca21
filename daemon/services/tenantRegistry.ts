import { randomUUID } from 'node:crypto';
import type { CredentialInput } from '../../protocol/daemonApi';
import { AppError } from '../errors/AppError';
import type { Logger } from '../logging/logger';
import type { Store } from '../store/store';
import type { CredentialHealth, StoredTenant } from '../store/storeTypes';
import type { CredentialVault } from '../vault/credentialVault';
import { vaultKeys } from '../vault/vaultKeys';
import { credentialFromInput } from './credentialFromInput';
import type { CredentialHealthService } from './credentialHealthService';
import type { Poller } from './poller';
import type { RegisteredTenantLookup } from './registeredTenantLookup';
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

export interface RegisterTenantOnProfile {
  tenant: string;
  displayName?: string | undefined;
  appProfileId: string;
  pollIntervalMs?: number | undefined;
  by: string;
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
    private readonly registered: RegisteredTenantLookup,
  ) {}

  /**
   * Registers a tenant with its own app. The credential is checked while the vault writes it, and the
   * tenant is written once, with the check's result, after the credential is durable: a crash in between
   * leaves only a credential of no tenant, which `reconcile` drops at the next start. Anything failing
   * before the tenant is written leaves nothing behind. The first sync starts once the tenant is stored.
   */
  async register(request: RegisterTenant): Promise<StoredTenant> {
    const { credential } = credentialFromInput(request.credential);
    await this.refuseIfRegistered(request.tenant);
    const tenantId = randomUUID();
    const identity = { id: tenantId, tenantIdOrDomain: request.tenant, appId: request.appId };
    let tenant: StoredTenant;
    let health: CredentialHealth;
    try {
      const durable = this.vault.put(tenantId, credential);
      // Settled before the check can end, so a failed write is never left unhandled while it runs.
      durable.catch(() => undefined);
      health = await this.health.probe(identity, () => this.connections.connect(identity, credential));
      await durable;
      tenant = await this.store.addTenant({
        id: tenantId,
        tenantIdOrDomain: request.tenant,
        appId: request.appId,
        credentialKind: credential.kind,
        credentialHealth: health,
        ...(request.displayName ? { displayName: request.displayName } : {}),
        ...(request.pollIntervalMs ? { pollIntervalMs: request.pollIntervalMs } : {}),
        by: request.by,
      });
    } catch (error) {
      this.connections.forget(tenantId);
      await this.vault.remove(tenantId).catch((removal: unknown) => {
        // Dropped at the next start by reconcile, as a credential of no tenant.
        this.logger.error('could not take back the credential of a tenant whose registration failed', { tenantId, error: removal });
      });
      throw error;
    }
    await this.health.record(tenant, health);
    this.poller.syncSoon(tenant.id);
    return this.store.requireTenant(tenant.id);
  }

  /**
   * A tenant is registered once, whether given by domain or by directory id: the text as registered is
   * compared first, then directory ids (a domain resolved through Microsoft).
   */
  private async refuseIfRegistered(tenantIdOrDomain: string): Promise<void> {
    const present = await this.registered.find(tenantIdOrDomain);
    if (!present) return;
    const as = present.tenantIdOrDomain.toLowerCase() === tenantIdOrDomain.trim().toLowerCase() ? '' : ` (registered as ${present.tenantIdOrDomain})`;
    throw AppError.conflict('TENANT_EXISTS', `${tenantIdOrDomain} is already registered as "${present.displayName}"${as}.`, { tenantId: present.id });
  }

  /**
   * A tenant that signs in with an app profile's app and credential: nothing goes to the vault. Anything
   * failing after the tenant is recorded removes it again, so no half-added tenant is left behind.
   */
  async registerOnProfile(request: RegisterTenantOnProfile): Promise<StoredTenant> {
    const profile = await this.store.requireAppProfile(request.appProfileId);
    const tenant = await this.store.addTenant({
      tenantIdOrDomain: request.tenant,
      appId: profile.appId,
      credentialKind: profile.credentialKind,
      appProfileId: profile.id,
      ...(request.displayName ? { displayName: request.displayName } : {}),
      ...(request.pollIntervalMs ? { pollIntervalMs: request.pollIntervalMs } : {}),
      by: request.by,
    });
    try {
      await this.health.check(tenant.id);
      this.poller.syncSoon(tenant.id);
      return await this.store.requireTenant(tenant.id);
    } catch (error) {
      this.connections.forget(tenant.id);
      await this.store.removeTenant(tenant.id, request.by).catch((removal: unknown) => {
        this.logger.error('could not take back a tenant whose registration failed', { tenantId: tenant.id, error: removal });
      });
      throw error;
    }
  }

  async rotate(tenantId: string, input: CredentialInput, by: string): Promise<StoredTenant> {
    const tenant = await this.store.requireTenant(tenantId);
    if (tenant.appProfileId) {
      throw AppError.conflict(
        'TENANT_ON_APP_PROFILE',
        `${tenant.displayName} signs in with an app profile: rotate the profile's credentials (POST /v1/app-profiles/${tenant.appProfileId}/credentials), which rotates them for every tenant using it.`,
        { field: 'credential', appProfileId: tenant.appProfileId },
      );
    }
    const { credential } = credentialFromInput(input);
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
    // The profile's credential stays: other tenants use it, and the profile outlives them.
    if (tenant.appProfileId) return;
    const removed = await this.vault.remove(tenant.id);
    if (!removed) this.logger.warn('no credentials were stored for a removed tenant', { tenantId });
  }

  /** At start: credentials of tenants the store no longer knows (a crash between the two writes). */
  async reconcile(): Promise<void> {
    const keep = [
      ...(await this.store.listTenants()).map((t) => t.id),
      ...(await this.store.listAppProfiles()).map((p) => vaultKeys.appProfile(p.id)),
    ];
    const dropped = await this.vault.retainOnly(keep);
    if (dropped.length > 0) this.logger.info('dropped credentials of removed tenants', { count: dropped.length });
  }
}
