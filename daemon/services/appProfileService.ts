import type { AddAppProfileRequest, AppProfileView, CredentialInput } from '../../protocol/daemonApi';
import { appProfileView } from '../api/appProfileView';
import type { Clock } from '../clock';
import type { Logger } from '../logging/logger';
import type { Store } from '../store/store';
import { appProfileNotFound } from '../store/storeRecords';
import type { StoredActivity, StoredAppProfile } from '../store/storeTypes';
import type { CredentialVault } from '../vault/credentialVault';
import { replaceCredentialOf } from '../vault/replaceCredential';
import { vaultKeys } from '../vault/vaultKeys';
import type { CredentialHealthService } from './credentialHealthService';
import { credentialFromInput } from './credentialFromInput';
import { forEachBounded } from './forEachBounded';
import type { Poller } from './poller';
import type { TenantConnections } from './tenantConnections';

/** Credential checks at once after a profile rotation: a few, so 80 tenants do not hit the identity platform together. */
const rotationCheckConcurrency = 4;

/**
 * App profiles: one multi-tenant app and its credential, which many tenants sign in with. The credential
 * goes to the vault and nowhere else; rotating it rotates it for every tenant using the profile.
 */
export class AppProfileService {
  constructor(
    private readonly store: Store,
    private readonly vault: CredentialVault,
    private readonly connections: TenantConnections,
    private readonly health: CredentialHealthService,
    private readonly poller: Poller,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async add(request: AddAppProfileRequest, by: string): Promise<StoredAppProfile> {
    const { credential, expiresAt } = credentialFromInput(request.credential);
    const profile = await this.store.addAppProfile({
      name: request.name,
      partnerTenant: request.partnerTenant,
      appId: request.appId,
      credentialKind: credential.kind,
      credentialExpiresAt: expiresAt,
      by,
    });
    try {
      await this.vault.put(vaultKeys.appProfile(profile.id), credential);
    } catch (error) {
      await this.store.removeAppProfile(profile.id, by);
      throw error;
    }
    return profile;
  }

  list(): Promise<StoredAppProfile[]> {
    return this.store.listAppProfiles();
  }

  get(profileId: string): Promise<StoredAppProfile> {
    return this.store.requireAppProfile(profileId);
  }

  /** By id, or by name whatever the case (a bulk-add line names its profile either way). */
  async find(idOrName: string): Promise<StoredAppProfile | undefined> {
    const profiles = await this.store.listAppProfiles();
    return profiles.find((p) => p.id === idOrName) ?? profiles.find((p) => p.name.toLowerCase() === idOrName.toLowerCase());
  }

  /** Refused while tenants use it (409 naming them). */
  async remove(profileId: string, by: string): Promise<StoredActivity> {
    const activity = await this.store.removeAppProfile(profileId, by);
    await this.vault.remove(vaultKeys.appProfile(profileId));
    return activity;
  }

  /**
   * One action for every tenant using the profile: the vault entry replaced, one activity, then one
   * credential-health check per tenant (a few at a time), and a sync of each that can sign in.
   */
  async rotate(profileId: string, input: CredentialInput, by: string): Promise<StoredAppProfile> {
    const profile = await this.store.requireAppProfile(profileId);
    const { credential, expiresAt } = credentialFromInput(input);
    const stillThere = async () => (await this.store.getAppProfile(profile.id)) !== undefined;
    if (!(await replaceCredentialOf(this.vault, vaultKeys.appProfile(profile.id), credential, stillThere))) throw appProfileNotFound(profile.id);
    const tenants = (await this.store.listTenants()).filter((t) => t.appProfileId === profile.id);
    for (const tenant of tenants) this.connections.forget(tenant.id);
    await this.store.recordAppProfileCredentialsRotated(profile.id, { kind: credential.kind, expiresAt }, by);
    await forEachBounded(tenants, rotationCheckConcurrency, async (tenant) => {
      // Removed while the others were checked: nothing to check.
      if (!(await this.store.getTenant(tenant.id))) return;
      try {
        const health = await this.health.check(tenant.id);
        if (health.canGetToken) this.poller.syncSoon(tenant.id);
      } catch (error) {
        this.logger.warn('could not check a tenant after its app profile was rotated', { tenantId: tenant.id, appProfileId: profile.id, error });
      }
    });
    return this.store.requireAppProfile(profile.id);
  }

  /** How the API shows profiles: each with the credential-health summary of the tenants using it. */
  async views(profiles: readonly StoredAppProfile[]): Promise<AppProfileView[]> {
    const tenants = await this.store.listTenants();
    return profiles.map((profile) => appProfileView(profile, tenants, this.clock.now()));
  }

  async view(profile: StoredAppProfile): Promise<AppProfileView> {
    const [view] = await this.views([profile]);
    return view as AppProfileView;
  }
}
