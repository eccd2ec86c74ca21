import type pg from 'pg';
import { AppError } from '../../errors/AppError';
import { seal } from '../../vault/sharedVaultCipher';
import { VAULT_CHANNEL } from '../../vault/postgresVault';
import type { VaultKey } from '../../vault/vaultKey';
import type { LocalStoreSnapshot } from '../localStoreSnapshot';
import type { StoredActivity, StoredTask, StoredUser } from '../storeTypes';
import { CHANGE_CHANNEL, changeNotice } from './postgresChangeFeed';
import { PostgresTransaction } from './postgresTransaction';
import { upsertUsers } from './postgresUsers';

/** What was moved, for the summary the operator is shown. */
export interface ImportedCounts {
  tenants: number;
  users: number;
  lockedUsers: number;
  appProfiles: number;
  tasks: number;
  interruptedTasks: number;
  activities: number;
  systemLogEntries: number;
  credentials: number;
}

/** Said of a task the local store still had IN_PROGRESS: no daemon runs it now, so none will finish it. */
export const INTERRUPTED_BY_MIGRATION = 'Interrupted: the local daemon stopped while it ran, before its store was moved to the shared database.';

/** Rows per statement when users are written: well inside PostgreSQL's 65,535 parameters. */
const USERS_PER_STATEMENT = 2_000;

/** The notices of this import name it as their sender, so no daemon takes them for its own. */
const NOTICE_SENDER = 'm365-status migrate';

/**
 * Writes a local store into a shared database, in one transaction: all of it or, on any failure,
 * nothing. Ids are kept (so tasks, activities, the system log and vault entries still name each other),
 * and order too: tasks and activities take new sequence numbers in their local order, after anything the
 * database already holds. Delta links are kept, so the shared daemons continue each tenant's delta sync
 * where the local daemon left it (Graph answers a full round if one has expired).
 *
 * Refused, changing nothing, when the database already holds tenants or app profiles (a second move, or a
 * deployment in use: merging two pictures of one customer is not something to guess at), or when its
 * vault was written under another key than `key` (the daemons could not read the credentials).
 */
export async function importLocalStore(pool: pg.Pool, snapshot: LocalStoreSnapshot, key: VaultKey, now: number): Promise<ImportedCounts> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Held to the end: a daemon adding a tenant, or a second import, waits instead of slipping in
    // between the check that the database is empty and the import.
    await client.query('LOCK TABLE tenants, app_profiles IN EXCLUSIVE MODE');
    await refuseUnlessEmpty(client);
    await useVaultKey(client, key);

    for (const profile of snapshot.appProfiles) {
      const { id, ...record } = profile;
      await client.query('INSERT INTO app_profiles (id, name_key, record) VALUES ($1, $2, $3)', [id, profile.name.toLowerCase(), JSON.stringify(record)]);
    }
    let users = 0;
    let lockedUsers = 0;
    for (const { tenant, deltaLink, users: tenantUsers } of snapshot.tenants) {
      const { id, ...record } = tenant;
      const counts = countUsers(tenantUsers);
      await client.query(
        `INSERT INTO tenants (id, lookup_key, record, delta_link, users_total, users_enabled, users_disabled, users_locked)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [id, tenant.tenantIdOrDomain.toLowerCase(), JSON.stringify(record), deltaLink, counts.total, counts.enabled, counts.disabled, counts.locked],
      );
      for (let i = 0; i < tenantUsers.length; i += USERS_PER_STATEMENT) await upsertUsers(new PostgresTransaction(client), id, tenantUsers.slice(i, i + USERS_PER_STATEMENT));
      users += counts.total;
      lockedUsers += counts.locked;
    }

    let interruptedTasks = 0;
    for (const item of inLocalOrder(snapshot.tasks, snapshot.activities)) {
      if ('taskIds' in item) {
        await insertActivity(client, item);
        continue;
      }
      const task: StoredTask =
        item.status === 'IN_PROGRESS'
          ? { ...item, status: 'ERROR', finishedAt: now, error: { code: 'INTERRUPTED', message: INTERRUPTED_BY_MIGRATION, errorId: null } }
          : item;
      if (task !== item) interruptedTasks++;
      await insertTask(client, task);
    }
    for (const entry of snapshot.systemLog) {
      // Already redacted when the local store kept it.
      await client.query(
        `INSERT INTO system_log (id, at, level, message, code, error_id, source, task_id, tenant_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [entry.id, entry.at, entry.level, entry.message, entry.code, entry.errorId, entry.source, entry.taskId, entry.tenantId, entry.details === null ? null : JSON.stringify(entry.details)],
      );
    }

    for (const [credentialId, credential] of snapshot.credentials) {
      const sealed = seal(key.bytes, credentialId, credential);
      await client.query(
        `INSERT INTO vault_credentials (credential_id, key_id, iv, tag, ciphertext, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (credential_id) DO UPDATE SET key_id = EXCLUDED.key_id, iv = EXCLUDED.iv, tag = EXCLUDED.tag,
           ciphertext = EXCLUDED.ciphertext, updated_at = EXCLUDED.updated_at, version = nextval('vault_credential_versions')`,
        [credentialId, key.id, sealed.iv, sealed.tag, sealed.ciphertext, new Date(now)],
      );
    }

    // Daemons already running on the database learn of the tenants and credentials as the import commits,
    // as they would of ones registered through another daemon.
    await client.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS p(payload)', [VAULT_CHANNEL, [...snapshot.credentials.keys()]]);
    await client.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS p(payload)', [
      CHANGE_CHANNEL,
      snapshot.tenants.map(({ tenant }) => changeNotice(NOTICE_SENDER, { type: 'tenant', id: tenant.id })),
    ]);
    await client.query('COMMIT');
    return {
      tenants: snapshot.tenants.length,
      users,
      lockedUsers,
      appProfiles: snapshot.appProfiles.length,
      tasks: snapshot.tasks.length,
      interruptedTasks,
      activities: snapshot.activities.length,
      systemLogEntries: snapshot.systemLog.length,
      credentials: snapshot.credentials.size,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function refuseUnlessEmpty(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ tenants: number; app_profiles: number }>(
    'SELECT (SELECT count(*) FROM tenants)::int AS tenants, (SELECT count(*) FROM app_profiles)::int AS app_profiles',
  );
  const held = rows[0] ?? { tenants: 0, app_profiles: 0 };
  if (held.tenants === 0 && held.app_profiles === 0) return;
  throw new AppError({
    status: 409,
    code: 'TENANT_EXISTS',
    message:
      `The shared database already holds ${held.tenants} tenant${held.tenants === 1 ? '' : 's'} and ${held.app_profiles} app profile${held.app_profiles === 1 ? '' : 's'}: ` +
      'a local store is moved only into a database that has none. Nothing was changed. Register the tenants on the shared deployment instead (Add tenants), or move into a new database.',
    details: { tenants: held.tenants, appProfiles: held.app_profiles },
  });
}

/** The vault's key check value, as the first daemon records it; another key is refused, as a daemon is. */
async function useVaultKey(client: pg.PoolClient, key: VaultKey): Promise<void> {
  const { rows } = await client.query<{ key_id: string }>('SELECT key_id FROM vault_key FOR UPDATE');
  const stored = rows[0]?.key_id;
  if (stored === undefined) {
    await client.query('INSERT INTO vault_key (key_id) VALUES ($1)', [key.id]);
    return;
  }
  if (stored === key.id) return;
  throw new AppError({
    status: 400,
    code: 'VAULT_KEY_MISMATCH',
    message:
      `The vault key from ${key.source} (key id ${key.id}) is not the key the shared vault was written with (key id ${stored}): ` +
      'give the key the shared daemons use, so they can read the credentials moved. Nothing was changed.',
    details: { keyId: key.id, vaultKeyId: stored },
  });
}

function countUsers(users: readonly StoredUser[]): { total: number; enabled: number; disabled: number; locked: number } {
  const counts = { total: users.length, enabled: 0, disabled: 0, locked: 0 };
  for (const user of users) {
    if (user.lock) counts.locked++;
    else if (user.accountEnabled) counts.enabled++;
    else counts.disabled++;
  }
  return counts;
}

/** Tasks and activities share the local store's sequence: merged back into the order they happened. */
function inLocalOrder(tasks: readonly StoredTask[], activities: readonly StoredActivity[]): Array<StoredTask | StoredActivity> {
  return [...tasks, ...activities].sort((a, b) => a.seq - b.seq);
}


async function insertTask(client: pg.PoolClient, task: StoredTask): Promise<void> {
  await client.query(
    `INSERT INTO tasks (id, seq, tenant_id, kind, name, description, status, origin, automated, activity_id, created_at, started_at, finished_at, error)
     VALUES ($1, nextval('store_seq'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      task.id,
      task.tenantId,
      task.kind,
      task.name,
      task.description,
      task.status,
      task.origin,
      task.automated,
      task.activityId,
      task.createdAt,
      task.startedAt,
      task.finishedAt,
      task.error === null ? null : JSON.stringify(task.error),
    ],
  );
}

async function insertActivity(client: pg.PoolClient, activity: StoredActivity): Promise<void> {
  await client.query(
    `INSERT INTO activities (id, seq, tenant_id, kind, name, description, actor, management, at, user_id, task_ids, blocked_by_task_id)
     VALUES ($1, nextval('store_seq'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      activity.id,
      activity.tenantId,
      activity.kind,
      activity.name,
      activity.description,
      activity.actor,
      activity.management,
      activity.at,
      activity.userId,
      activity.taskIds,
      activity.blockedByTaskId,
    ],
  );
}
