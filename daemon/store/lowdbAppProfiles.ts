import type { LowdbContext } from './lowdbContext';
import type { LowdbTasks } from './lowdbTasks';
import {
  appProfileAddedActivity,
  appProfileInUse,
  appProfileExists,
  appProfileNotFound,
  appProfileRemovedActivity,
  appProfileRotatedActivity,
  assertAppOfProfile,
  newAppProfileRecord,
} from './storeRecords';
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
    if (duplicate) throw appProfileExists(duplicate.name, duplicate.id);
    const profile = newAppProfileRecord(input, clock.now());
    main.data.appProfiles.push(profile);
    const activity = this.#tasks.pushActivity(appProfileAddedActivity(profile, input.by));
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
    if (users.length > 0) throw appProfileInUse(profile, users);
    main.data.appProfiles = main.data.appProfiles.filter((p) => p.id !== profileId);
    const activity = this.#tasks.pushActivity(appProfileRemovedActivity(profile, by));
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
    const activity = this.#tasks.pushActivity(appProfileRotatedActivity(profile, previous, tenants, by));
    await main.save();
    this.#context.events.emit(
      ...tenants.map((tenant): StoreEvent => ({ type: 'tenant', tenant: structuredClone(tenant) })),
      { type: 'activity', activity: structuredClone(activity) },
    );
    return structuredClone(activity);
  }

  /** For adding a tenant: the profile it names must exist and be the app it signs in with. */
  assertUsable(profileId: string, appId: string): void {
    assertAppOfProfile(this.require(profileId), appId);
  }

  find(profileId: string): StoredAppProfile | undefined {
    return this.#context.main.data.appProfiles.find((p) => p.id === profileId);
  }

  require(profileId: string): StoredAppProfile {
    const profile = this.find(profileId);
    if (!profile) throw appProfileNotFound(profileId);
    return profile;
  }

  #tenantsUsing(profileId: string): StoredTenant[] {
    return this.#context.main.data.tenants.filter((t) => t.appProfileId === profileId);
  }
}
