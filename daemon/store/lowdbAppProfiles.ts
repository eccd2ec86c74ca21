import { randomUUID } from 'node:crypto';
import { AppError } from '../errors/AppError';
import type { LowdbContext } from './lowdbContext';
import type { LowdbTasks } from './lowdbTasks';
import type { CredentialKind, NewAppProfile, StoredActivity, StoredAppProfile, StoredTenant, StoreEvent } from './storeTypes';

/** App profiles, kept in the main file beside the tenants that use them. */
export class LowdbAppProfiles {
  readonly #context: LowdbContext;
  readonly #tasks: LowdbTasks;

  constructor(context: LowdbContext, tasks: LowdbTasks) {
    this.#context = context;
    this.#tasks = tasks;
  }

  async addAppProfile(input: NewAppProfile): Promise<StoredAppProfile> {
    const { main, clock } = this.#context;
    this.#context.assertOpen();
    const duplicate = main.data.appProfiles.find((p) => p.name.toLowerCase() === input.name.toLowerCase());
    if (duplicate) {
      throw AppError.conflict('APP_PROFILE_EXISTS', `An app profile named "${duplicate.name}" already exists.`, { appProfileId: duplicate.id });
    }
    const profile: StoredAppProfile = {
      id: randomUUID(),
      name: input.name,
      partnerTenant: input.partnerTenant,
      appId: input.appId,
      credentialKind: input.credentialKind,
      credentialExpiresAt: input.credentialExpiresAt,
      createdAt: clock.now(),
      credentialsRotatedAt: null,
    };
    main.data.appProfiles.push(profile);
    const activity = this.#tasks.pushActivity({
      tenantId: null,
      kind: 'app-profile-added',
      name: 'Added app profile',
      description: `Added app profile "${profile.name}": app ${profile.appId} registered in ${profile.partnerTenant} (${profile.credentialKind}).`,
      actor: input.by,
      management: false,
    });
    await main.save();
    this.#context.events.emit({ type: 'activity', activity: structuredClone(activity) });
    return structuredClone(profile);
  }

  async getAppProfile(profileId: string): Promise<StoredAppProfile | undefined> {
    const profile = this.find(profileId);
    return profile ? structuredClone(profile) : undefined;
  }

  async requireAppProfile(profileId: string): Promise<StoredAppProfile> {
    return structuredClone(this.require(profileId));
  }

  async listAppProfiles(): Promise<StoredAppProfile[]> {
    return structuredClone(this.#context.main.data.appProfiles);
  }

  async removeAppProfile(profileId: string, by: string): Promise<StoredActivity> {
    const { main } = this.#context;
    this.#context.assertOpen();
    const profile = this.require(profileId);
    const users = this.#tenantsUsing(profileId);
    if (users.length > 0) {
      throw AppError.conflict(
        'APP_PROFILE_IN_USE',
        `App profile "${profile.name}" is still used by ${users.length} tenant${users.length === 1 ? '' : 's'}: ${users.map((t) => t.displayName).join(', ')}. Remove them first.`,
        { appProfileId: profileId, tenantIds: users.map((t) => t.id) },
      );
    }
    main.data.appProfiles = main.data.appProfiles.filter((p) => p.id !== profileId);
    const activity = this.#tasks.pushActivity({
      tenantId: null,
      kind: 'app-profile-removed',
      name: 'Removed app profile',
      description: `Removed app profile "${profile.name}" (app ${profile.appId}).`,
      actor: by,
      management: false,
    });
    await main.save();
    this.#context.events.emit({ type: 'activity', activity: structuredClone(activity) });
    return structuredClone(activity);
  }

  async recordAppProfileCredentialsRotated(
    profileId: string,
    credential: { kind: CredentialKind; expiresAt: number | null },
    by: string,
  ): Promise<StoredActivity> {
    const { main, clock } = this.#context;
    this.#context.assertOpen();
    const profile = this.require(profileId);
    const previous = profile.credentialKind;
    profile.credentialKind = credential.kind;
    profile.credentialExpiresAt = credential.expiresAt;
    profile.credentialsRotatedAt = clock.now();
    const tenants = this.#tenantsUsing(profileId);
    for (const tenant of tenants) {
      tenant.credentialKind = credential.kind;
      // Health describes the old credential; the checks after the rotation fill it in for the new one.
      tenant.credentialHealth = null;
      tenant.lastManagementActivityAt = clock.now();
    }
    const activity = this.#tasks.pushActivity({
      tenantId: null,
      kind: 'credentials-rotated',
      name: 'Rotated credentials',
      description:
        `${previous === credential.kind ? `Replaced the ${credential.kind}` : `Replaced the ${previous} with a ${credential.kind}`} of app profile ` +
        `"${profile.name}", used by ${tenants.length} tenant${tenants.length === 1 ? '' : 's'}${tenants.length > 0 ? `: ${tenants.map((t) => t.displayName).join(', ')}` : ''}.`,
      actor: by,
      management: false,
    });
    await main.save();
    this.#context.events.emit(
      ...tenants.map((tenant): StoreEvent => ({ type: 'tenant', tenant: structuredClone(tenant) })),
      { type: 'activity', activity: structuredClone(activity) },
    );
    return structuredClone(activity);
  }

  /** For adding a tenant: the profile it names must exist and be the app it signs in with. */
  assertUsable(profileId: string, appId: string): void {
    const profile = this.require(profileId);
    if (profile.appId !== appId) {
      throw AppError.badRequest('VALIDATION_FAILED', `A tenant using app profile "${profile.name}" signs in with its app ${profile.appId}, not ${appId}.`, {
        field: 'appId',
      });
    }
  }

  find(profileId: string): StoredAppProfile | undefined {
    return this.#context.main.data.appProfiles.find((p) => p.id === profileId);
  }

  require(profileId: string): StoredAppProfile {
    const profile = this.find(profileId);
    if (!profile) throw AppError.notFound('APP_PROFILE_NOT_FOUND', `No app profile with id ${profileId}.`, { appProfileId: profileId });
    return profile;
  }

  #tenantsUsing(profileId: string): StoredTenant[] {
    return this.#context.main.data.tenants.filter((t) => t.appProfileId === profileId);
  }
}
