import {
  appProfileAddedActivity,
  appProfileExists,
  appProfileInUse,
  appProfileNotFound,
  appProfileRemovedActivity,
  appProfileRotatedActivity,
  assertAppOfProfile,
  newAppProfileRecord,
} from '../storeRecords';
import type { CredentialKind, NewAppProfile, StoredActivity, StoredAppProfile, StoredTenant, StoreEvent } from '../storeTypes';
import type { PostgresContext } from './postgresContext';
import type { PostgresTasks } from './postgresTasks';
import { TENANT_COLUMNS, tenantFromRow, type TenantRow, writeTenantRecord } from './postgresTenantRow';
import { isUniqueViolation, type PostgresTransaction } from './postgresTransaction';

interface ProfileRow {
  id: string;
  record: Omit<StoredAppProfile, 'id'>;
}

/**
 * App profiles, one row each. A tenant names its profile in its record; adding such a tenant holds the
 * profile's row (FOR SHARE) and removing a profile locks it (FOR UPDATE), so a profile cannot be removed
 * under a tenant being added with it by another daemon.
 */
export class PostgresAppProfiles {
  readonly #context: PostgresContext;
  readonly #tasks: PostgresTasks;

  constructor(context: PostgresContext, tasks: PostgresTasks) {
    this.#context = context;
    this.#tasks = tasks;
  }

  async addAppProfile(input: NewAppProfile): Promise<StoredAppProfile> {
    const profile = newAppProfileRecord(input, this.#context.clock.now());
    try {
      return await this.#context.transaction(async (tx) => {
        const { id, ...record } = profile;
        await tx.query('INSERT INTO app_profiles (id, name_key, record) VALUES ($1, $2, $3)', [id, nameKey(input.name), JSON.stringify(record)]);
        await this.#tasks.insertActivity(tx, appProfileAddedActivity(profile, input.by));
        return structuredClone(profile);
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const { rows } = await this.#context.pool.query<ProfileRow>('SELECT id, record FROM app_profiles WHERE name_key = $1', [nameKey(input.name)]);
      const duplicate = rows[0];
      throw appProfileExists(duplicate?.record.name ?? input.name, duplicate?.id ?? null);
    }
  }

  async getAppProfile(profileId: string): Promise<StoredAppProfile | undefined> {
    const { rows } = await this.#context.pool.query<ProfileRow>('SELECT id, record FROM app_profiles WHERE id = $1', [profileId]);
    return rows[0] ? profileFromRow(rows[0]) : undefined;
  }

  async requireAppProfile(profileId: string): Promise<StoredAppProfile> {
    const profile = await this.getAppProfile(profileId);
    if (!profile) throw appProfileNotFound(profileId);
    return profile;
  }

  async listAppProfiles(): Promise<StoredAppProfile[]> {
    const { rows } = await this.#context.pool.query<ProfileRow>('SELECT id, record FROM app_profiles ORDER BY seq');
    return rows.map(profileFromRow);
  }

  removeAppProfile(profileId: string, by: string): Promise<StoredActivity> {
    return this.#context.transaction(async (tx) => {
      const profile = await lockProfileRow(tx, profileId, 'UPDATE');
      const users = await tenantsUsing(tx, profileId, false);
      if (users.length > 0) throw appProfileInUse(profile, users);
      await tx.query('DELETE FROM app_profiles WHERE id = $1', [profileId]);
      return this.#tasks.insertActivity(tx, appProfileRemovedActivity(profile, by));
    });
  }

  recordAppProfileCredentialsRotated(profileId: string, credential: { kind: CredentialKind; expiresAt: number | null }, by: string): Promise<StoredActivity> {
    return this.#context.transaction(async (tx) => {
      const profile = await lockProfileRow(tx, profileId, 'UPDATE');
      const at = this.#context.clock.now();
      const previous = profile.credentialKind;
      profile.credentialKind = credential.kind;
      profile.credentialExpiresAt = credential.expiresAt;
      profile.credentialsRotatedAt = at;
      const { id, ...record } = profile;
      await tx.query('UPDATE app_profiles SET record = $2 WHERE id = $1', [id, JSON.stringify(record)]);
      const tenants = await tenantsUsing(tx, profileId, true);
      for (const tenant of tenants) {
        tenant.credentialKind = credential.kind;
        // Health describes the old credential; the checks after the rotation fill it in for the new one.
        tenant.credentialHealth = null;
        tenant.lastManagementActivityAt = at;
        tx.publish({ type: 'tenant', tenant: await writeTenantRecord(tx, tenant) } satisfies StoreEvent);
      }
      return this.#tasks.insertActivity(tx, appProfileRotatedActivity(profile, previous, tenants, by));
    });
  }

  /** For adding a tenant in `tx`: the profile it names must exist and be the app it signs in with. */
  async assertUsable(tx: PostgresTransaction, profileId: string, appId: string): Promise<void> {
    assertAppOfProfile(await lockProfileRow(tx, profileId, 'SHARE'), appId);
  }
}

function nameKey(name: string): string {
  return name.toLowerCase();
}

function profileFromRow(row: ProfileRow): StoredAppProfile {
  return { ...row.record, id: row.id };
}

async function lockProfileRow(tx: PostgresTransaction, profileId: string, mode: 'UPDATE' | 'SHARE'): Promise<StoredAppProfile> {
  const { rows } = await tx.query<ProfileRow>(`SELECT id, record FROM app_profiles WHERE id = $1 FOR ${mode}`, [profileId]);
  const row = rows[0];
  if (!row) throw appProfileNotFound(profileId);
  return profileFromRow(row);
}

async function tenantsUsing(tx: PostgresTransaction, profileId: string, lock: boolean): Promise<StoredTenant[]> {
  const { rows } = await tx.query<TenantRow>(
    `SELECT ${TENANT_COLUMNS} FROM tenants WHERE record->>'appProfileId' = $1 ORDER BY seq${lock ? ' FOR UPDATE' : ''}`,
    [profileId],
  );
  return rows.map(tenantFromRow);
}
