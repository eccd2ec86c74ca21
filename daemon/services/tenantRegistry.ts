import { randomUUID } from 'node:crypto';
import type { CredentialInput } from '../../protocol/daemonApi';
import { AppError } from '../errors/AppError';
import { tenantNotFound } from '../errors/tenantNotFound';
import type { ForegroundRequests } from '../foregroundRequests';
import type { Logger } from '../logging/logger';
import type { Store } from '../store/store';
import type { CredentialHealth, CredentialKind, StoredTenant } from '../store/storeTypes';
import type { CredentialVault } from '../vault/credentialVault';
import type { TenantCredential } from '../microsoft/tenantTokenSource';
import { KeyedMutex } from '../tasks/keyedMutex';
import { replaceCredentialOf } from '../vault/replaceCredential';
import { vaultKeys } from '../vault/vaultKeys';
import { credentialFromInput } from './credentialFromInput';
import type { CredentialHealthService } from './credentialHealthService';
import type { Poller } from './poller';
import type { RegisteredTenantLookup } from './registeredTenantLookup';
import type { TenantConnection, TenantConnections } from './tenantConnections';
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
  /** Registrations under way, by directory id (or text, for a domain that cannot be resolved). */
  readonly #registering = new KeyedMutex();

  constructor(
    private readonly store: Store,
    private readonly vault: CredentialVault,
    private readonly connections: TenantConnections,
    private readonly health: CredentialHealthService,
    private readonly poller: Poller,
    private readonly sync: TenantSync,
    private readonly foregroundRequests: ForegroundRequests,
    private readonly logger: Logger,
    private readonly registered: RegisteredTenantLookup,
  ) {}

  /**
   * Registers a tenant with its own app. The credential goes to the vault while it is checked; a failure
   * before the tenant is written takes the credential back (and a crash in between leaves only a
   * credential of no tenant, which `reconcile` drops at the next start).
   */
  async register(request: RegisterTenant): Promise<StoredTenant> {
    const { credential } = credentialFromInput(request.credential);
    return this.oneAtATime(request.tenant, (directoryId) => this.registerChecked(request, credential, directoryId));
  }

  private async registerChecked(request: RegisterTenant, credential: TenantCredential, directoryId: string | null): Promise<StoredTenant> {
    await this.refuseIfRegistered(request.tenant);
    const tenantId = randomUUID();
    const identity = { id: tenantId, tenantIdOrDomain: request.tenant, appId: request.appId };
    const durable = this.vault.put(tenantId, credential);
    return this.addChecked(
      { ...identity, credentialKind: credential.kind, directoryId, request },
      () => this.connections.connect(identity, credential),
      durable,
      () =>
        this.vault.remove(tenantId).then(
          () => undefined,
          (removal: unknown) => {
            // Dropped at the next start by reconcile, as a credential of no tenant.
            this.logger.error('could not take back the credential of a tenant whose registration failed', { tenantId, error: removal });
          },
        ),
    );
  }

  /**
   * Registrations of one directory run one after another, however each names it: two at once (one by
   * domain, one by id, or the two lines of a file naming it both ways) would otherwise both find it
   * unregistered while the other's credential check runs, and add it twice. The later one then finds the
   * earlier one's tenant and is refused as registered, naming it. `work` is given the directory id (null
   * when it cannot be resolved), which the store keeps so that daemons sharing it refuse the same race.
   */
  private async oneAtATime<T>(tenantIdOrDomain: string, work: (directoryId: string | null) => Promise<T>): Promise<T> {
    const directoryId = await this.registered.directoryIdOf(tenantIdOrDomain).catch(() => null);
    return this.#registering.run(directoryId ?? tenantIdOrDomain.trim().toLowerCase(), () => work(directoryId));
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
   * A tenant that signs in with an app profile's app and credential: nothing goes to the vault, and
   * nothing is written before its check, so a failure leaves nothing to take back.
   */
  registerOnProfile(request: RegisterTenantOnProfile): Promise<StoredTenant> {
    return this.oneAtATime(request.tenant, (directoryId) => this.registerOnProfileChecked(request, directoryId));
  }

  private async registerOnProfileChecked(request: RegisterTenantOnProfile, directoryId: string | null): Promise<StoredTenant> {
    await this.refuseIfRegistered(request.tenant);
    const profile = await this.store.requireAppProfile(request.appProfileId);
    const identity = { id: randomUUID(), tenantIdOrDomain: request.tenant, appId: profile.appId };
    return this.addChecked(
      { ...identity, credentialKind: profile.credentialKind, appProfileId: profile.id, directoryId, request },
      () => this.connections.connect(identity, this.vault.get(vaultKeys.appProfile(profile.id))),
      Promise.resolve(),
      () => Promise.resolve(),
    );
  }

  /**
   * Every registration's path: the credential checked while `durable` (its own write, if any) lands,
   * then the tenant written once, with the check's result, only after that write is durable; the first
   * sync starts once the tenant is stored. Anything failing before the tenant is written runs `undo`
   * and leaves no tenant.
   */
  private async addChecked(
    tenant: {
      id: string;
      tenantIdOrDomain: string;
      appId: string;
      credentialKind: CredentialKind;
      appProfileId?: string;
      directoryId: string | null;
      request: Omit<RegisterTenantOnProfile, 'appProfileId'>;
    },
    connect: () => TenantConnection,
    durable: Promise<void>,
    undo: () => Promise<void>,
  ): Promise<StoredTenant> {
    const { request } = tenant;
    // Settled before the check can end, so a failed write is never left unhandled while it runs.
    durable.catch(() => undefined);
    let stored: StoredTenant;
    let health: CredentialHealth;
    try {
      health = await this.health.probe(tenant, connect);
      await durable;
      stored = await this.store.addTenant({
        id: tenant.id,
        tenantIdOrDomain: tenant.tenantIdOrDomain,
        appId: tenant.appId,
        credentialKind: tenant.credentialKind,
        credentialHealth: health,
        directoryId: tenant.directoryId,
        ...(tenant.appProfileId ? { appProfileId: tenant.appProfileId } : {}),
        ...(request.displayName ? { displayName: request.displayName } : {}),
        ...(request.pollIntervalMs ? { pollIntervalMs: request.pollIntervalMs } : {}),
        by: request.by,
      });
    } catch (error) {
      this.connections.forget(tenant.id);
      // A store write that failed may still have left the tenant in memory, to reach the disk with the next.
      if (await this.store.getTenant(tenant.id)) {
        await this.store.removeTenant(tenant.id, request.by).catch((removal: unknown) => {
          this.logger.error('could not take back a tenant whose registration failed', { tenantId: tenant.id, error: removal });
        });
      }
      await undo();
      throw error;
    }
    await this.health.record(stored, health);
    this.poller.syncSoon(stored.id);
    return this.store.requireTenant(stored.id);
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
    const stillRegistered = async () => (await this.store.getTenant(tenant.id)) !== undefined;
    if (!(await replaceCredentialOf(this.vault, tenant.id, credential, stillRegistered))) throw tenantNotFound(tenant.id);
    this.connections.forget(tenant.id);
    await this.store.recordCredentialsRotated(tenant.id, credential.kind, by);
    const health = await this.health.check(tenant.id);
    // New credentials that work: sync now, so the answer already says whether the tenant is back.
    if (health.canGetToken) await this.foregroundRequests.whileWaitingOn(this.sync.sync(tenant.id, { source: 'task' }));
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
