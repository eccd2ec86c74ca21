import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors/AppError';
import type { TenantCredential } from '../microsoft/tenantTokenSource';
import { Vault, VAULT_FILE_NAME } from '../vault/vault';
import { VAULT_JOURNAL_FILE_NAME } from '../vault/vaultJournal';
import { vaultKeys } from '../vault/vaultKeys';
import { LowdbStore, MAIN_FILE_NAME } from './lowdbStore';
import type { StoredActivity, StoredAppProfile, StoredTask, StoredTenant, StoredUser, SystemLogEntry } from './storeTypes';

/** One tenant of a local store as it moves: its record, its users and where its delta sync stands. */
export interface LocalTenantSnapshot {
  tenant: StoredTenant;
  deltaLink: string | null;
  users: StoredUser[];
}

/**
 * Everything a local user's store holds, read at one moment under the data directory's lock. The
 * credentials are decrypted: the snapshot lives in memory only, for as long as it takes to encrypt them
 * again under the shared vault's key.
 */
export interface LocalStoreSnapshot {
  dataDir: string;
  tenants: LocalTenantSnapshot[];
  appProfiles: StoredAppProfile[];
  /** Oldest first. */
  tasks: StoredTask[];
  /** Oldest first. */
  activities: StoredActivity[];
  /** Oldest first. */
  systemLog: SystemLogEntry[];
  /** By vault entry (`vaultKeys`): a tenant's own, or an app profile's one for all its tenants. */
  credentials: Map<string, TenantCredential>;
}

const EVERYTHING = Number.MAX_SAFE_INTEGER;

/**
 * Reads the local store of `dataDir` whole, through the store's own code (sync state, users logs and
 * all) and its vault. Taking the data directory's lock refuses while a daemon runs on it, since its
 * picture would move under the copy; nothing is changed, and the lock is let go before answering.
 */
export async function readLocalStore(dataDir: string): Promise<LocalStoreSnapshot> {
  if (!(await exists(join(dataDir, MAIN_FILE_NAME)))) {
    throw new AppError({
      status: 400,
      code: 'STORE_UNREADABLE',
      message: `${dataDir} holds no local store (${MAIN_FILE_NAME} is missing): give the data directory the local daemon uses with --data-dir.`,
      details: { dataDir },
    });
  }
  const store = await LowdbStore.open({ dataDir });
  try {
    const tenants: LocalTenantSnapshot[] = [];
    for (const tenant of await store.listTenants()) {
      const { users } = await store.listUsers(tenant.id, { limit: EVERYTHING });
      tenants.push({ tenant, deltaLink: await store.getDeltaLink(tenant.id), users });
    }
    const appProfiles = await store.listAppProfiles();
    const tasks = (await store.listTasks({ includeAutomated: true, limit: EVERYTHING })).sort((a, b) => a.seq - b.seq);
    const activities = (await store.listActivities({ limit: EVERYTHING })).sort((a, b) => a.seq - b.seq);
    const systemLog = (await store.querySystemLog({ limit: EVERYTHING })).sort((a, b) => a.seq - b.seq);
    const needed = [...appProfiles.map((profile) => vaultKeys.appProfile(profile.id)), ...tenants.filter((t) => t.tenant.appProfileId === null).map((t) => t.tenant.id)];
    return { dataDir, tenants, appProfiles, tasks, activities, systemLog, credentials: await readCredentials(dataDir, needed) };
  } finally {
    await store.close();
  }
}

/**
 * The credentials the tenants and profiles sign in with. One that is missing does not stop the move
 * (the local daemon could not use it either: the operator enters it again); one that cannot be
 * decrypted does, since moving the rest would hide that the vault is damaged.
 */
async function readCredentials(dataDir: string, entries: readonly string[]): Promise<Map<string, TenantCredential>> {
  const credentials = new Map<string, TenantCredential>();
  // Opening a vault that does not exist would create its key file: a store without one has no credentials.
  const stored = (await exists(join(dataDir, VAULT_FILE_NAME))) || (await exists(join(dataDir, VAULT_JOURNAL_FILE_NAME)));
  if (entries.length === 0 || !stored) return credentials;
  const vault = await Vault.open(dataDir);
  try {
    for (const entry of entries) if (vault.has(entry)) credentials.set(entry, vault.get(entry));
  } finally {
    await vault.close();
  }
  return credentials;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
