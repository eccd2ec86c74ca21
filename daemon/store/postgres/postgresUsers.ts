import type {
  StoredActivity,
  StoredUser,
  StoreEvent,
  UserChangeBatch,
  UserChangeSummary,
  UserCounts,
  UserLock,
  UserPage,
  UserQuery,
} from '../storeTypes';
import { AppError } from '../../errors/AppError';
import type { PostgresContext } from './postgresContext';
import type { PostgresTasks } from './postgresTasks';
import { countsFromRow, lockTenantRow, TENANT_COLUMNS, type TenantRow } from './postgresTenantRow';
import type { PostgresTransaction } from './postgresTransaction';
import { firstSeenUser, materiallyDifferent, seenAgainUser } from '../storeRecords';
import { tenantNotFound } from '../../errors/tenantNotFound';

interface UserRow {
  user_id: string;
  user_principal_name: string;
  display_name: string | null;
  account_enabled: boolean;
  on_premises_sync_enabled: boolean | null;
  last_changed_at: string;
  last_verified_at: string;
  lock_by: string | null;
  lock_at: string | null;
  lock_revoked_sessions: boolean | null;
}

const USER_COLUMNS =
  'user_id, user_principal_name, display_name, account_enabled, on_premises_sync_enabled, last_changed_at, last_verified_at, lock_by, lock_at, lock_revoked_sessions';

/** Rows per statement when a round writes many users: large enough to be few, small enough to bind. */
const ROWS_PER_STATEMENT = 5_000;

const PAGE_RANK: Readonly<Record<'locked' | 'disabled' | 'enabled', number>> = { locked: 0, disabled: 1, enabled: 2 };

function userFromRow(row: UserRow, verifiedAsOf: number): StoredUser {
  return {
    id: row.user_id,
    userPrincipalName: row.user_principal_name,
    displayName: row.display_name,
    accountEnabled: row.account_enabled,
    onPremisesSyncEnabled: row.on_premises_sync_enabled,
    lastChangedAt: Number(row.last_changed_at),
    lastVerifiedAt: Math.max(Number(row.last_verified_at), verifiedAsOf),
    lock: row.lock_by === null ? null : { by: row.lock_by, at: Number(row.lock_at), revokedSessions: row.lock_revoked_sessions === true },
  };
}

/** The tenant's last successful sync: a user a delta round did not mention was verified by it. */
function verifiedAsOf(row: TenantRow): number {
  return row.record.lastSyncAt ?? 0;
}

type UserState = keyof Omit<UserCounts, 'total'>;

function stateOf(user: Pick<StoredUser, 'lock' | 'accountEnabled'>): UserState {
  return user.lock ? 'locked' : user.accountEnabled ? 'enabled' : 'disabled';
}

/** How a transaction moves the tenant's counts, applied to its row in one statement. */
class CountChange {
  total = 0;
  enabled = 0;
  disabled = 0;
  locked = 0;

  add(user: Pick<StoredUser, 'lock' | 'accountEnabled'>, delta: 1 | -1): void {
    this.total += delta;
    this[stateOf(user)] += delta;
  }

  get empty(): boolean {
    return this.total === 0 && this.enabled === 0 && this.disabled === 0 && this.locked === 0;
  }
}

/**
 * Users, one row each, keyed by tenant and user. A Graph round is written in a few statements whatever
 * its size (arrays unnested into one upsert, one delete), and the tenant's counts move in the same
 * transaction, under the tenant's row lock.
 */
export class PostgresUsers {
  readonly #context: PostgresContext;
  readonly #tasks: PostgresTasks;

  constructor(context: PostgresContext, tasks: PostgresTasks) {
    this.#context = context;
    this.#tasks = tasks;
  }

  async getDeltaLink(tenantId: string): Promise<string | null> {
    const { rows } = await this.#context.pool.query<{ delta_link: string | null }>('SELECT delta_link FROM tenants WHERE id = $1', [tenantId]);
    if (!rows[0]) throw tenantNotFound(tenantId);
    return rows[0].delta_link;
  }

  applyUserChanges(tenantId: string, batch: UserChangeBatch): Promise<UserChangeSummary> {
    return this.#context.transaction(async (tx) => {
      const tenant = await lockTenantRow(tx, tenantId);
      const summary: UserChangeSummary = { added: [], changed: [], removed: [], locksCleared: [], written: false };
      const observedIds = batch.users.map((user) => user.id);
      const existing = new Map<string, StoredUser>();
      for (const ids of chunks(observedIds)) {
        const { rows } = await tx.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = $1 AND user_id = ANY($2)`, [tenantId, ids]);
        for (const row of rows) existing.set(row.user_id, userFromRow(row, 0));
      }

      const counts = new CountChange();
      const writes = new Map<string, StoredUser>();
      const verified: string[] = [];
      for (const observed of batch.users) {
        const before = writes.get(observed.id) ?? existing.get(observed.id);
        if (!before) {
          const user = firstSeenUser(observed, batch.observedAt);
          writes.set(user.id, user);
          counts.add(user, 1);
          summary.added.push({ ...user });
          continue;
        }
        const next = seenAgainUser(before, observed, batch.observedAt);
        if (materiallyDifferent(before, next)) {
          next.lastChangedAt = Math.max(before.lastChangedAt, batch.observedAt);
          writes.set(next.id, next);
          counts.add(before, -1);
          counts.add(next, 1);
          summary.changed.push({ before, after: { ...next } });
          if (before.lock && !next.lock) summary.locksCleared.push({ ...next });
        } else if (next.lastVerifiedAt > before.lastVerifiedAt) {
          verified.push(observed.id);
        }
      }

      for (const users of chunks([...writes.values()])) await upsertUsers(tx, tenantId, users);
      for (const ids of chunks(verified)) {
        await tx.query('UPDATE users SET last_verified_at = $3 WHERE tenant_id = $1 AND user_id = ANY($2) AND last_verified_at < $3', [tenantId, ids, batch.observedAt]);
      }

      const removedIds: string[] = [];
      const removal = await this.#removeUsers(tx, tenantId, batch, observedIds);
      for (const user of removal) {
        counts.add(user, -1);
        removedIds.push(user.id);
        summary.removed.push(user);
      }

      // A page with more of its round to come leaves the link as it was.
      const deltaLink = batch.deltaLink === undefined ? tenant.delta_link : batch.deltaLink;
      const deltaLinkChanged = tenant.delta_link !== deltaLink;
      if (deltaLinkChanged || !counts.empty) {
        await tx.query(
          `UPDATE tenants SET delta_link = $2, users_total = users_total + $3, users_enabled = users_enabled + $4,
                  users_disabled = users_disabled + $5, users_locked = users_locked + $6 WHERE id = $1`,
          [tenantId, deltaLink, counts.total, counts.enabled, counts.disabled, counts.locked],
        );
      }
      if (writes.size > 0 || removedIds.length > 0) {
        summary.written = true;
        const asOf = verifiedAsOf(tenant);
        const gone = new Set(removedIds);
        if (batch.fullRound) tx.publish({ type: 'users-reloaded', tenantId });
        else {
          const users = [...writes.values()].filter((user) => !gone.has(user.id)).map((user) => ({ ...user, lastVerifiedAt: Math.max(user.lastVerifiedAt, asOf) }));
          tx.publish({ type: 'users', tenantId, userIds: [...writes.keys(), ...removedIds], users });
        }
      }
      return summary;
    });
  }

  recordUserLocked(tenantId: string, userId: string, lock: { by: string; revokedSessions: boolean }): Promise<{ user: StoredUser; activity: StoredActivity }> {
    return this.#context.transaction(async (tx) => {
      const at = this.#context.clock.now();
      const userLock: UserLock = { by: lock.by, at, revokedSessions: lock.revokedSessions };
      const user = await this.#updateUser(tx, tenantId, userId, { accountEnabled: false, lock: userLock }, at);
      const activity = await this.#tasks.insertActivity(tx, {
        tenantId,
        kind: 'lock',
        name: 'Locked user',
        description: `Disabled sign-in for ${user.userPrincipalName}${lock.revokedSessions ? ' and revoked its sign-in sessions' : ''}.`,
        actor: lock.by,
        management: true,
        userId,
      });
      return { user, activity };
    });
  }

  recordUserUnlocked(tenantId: string, userId: string, by: string): Promise<{ user: StoredUser; activity: StoredActivity }> {
    return this.#context.transaction(async (tx) => {
      const at = this.#context.clock.now();
      const user = await this.#updateUser(tx, tenantId, userId, { accountEnabled: true, lock: null }, at);
      const activity = await this.#tasks.insertActivity(tx, {
        tenantId,
        kind: 'unlock',
        name: 'Unlocked user',
        description: `Enabled sign-in for ${user.userPrincipalName}.`,
        actor: by,
        management: true,
        userId,
      });
      return { user, activity };
    });
  }

  async getUser(tenantId: string, userId: string): Promise<StoredUser | undefined> {
    const { rows } = await this.#context.pool.query<Partial<UserRow> & { synced_at: string | null; tenant_id: string }>(
      `SELECT t.id AS tenant_id, (t.record->>'lastSyncAt')::bigint AS synced_at, ${USER_COLUMNS.split(', ').map((c) => `u.${c}`).join(', ')}
         FROM tenants t LEFT JOIN users u ON u.tenant_id = t.id AND u.user_id = $2 WHERE t.id = $1`,
      [tenantId, userId],
    );
    const row = rows[0];
    if (!row) throw tenantNotFound(tenantId);
    return row.user_id ? userFromRow(row as UserRow, Number(row.synced_at ?? 0)) : undefined;
  }

  /** The page's order is the index `users_page`; a state is one rank, so a state's page is one range of it. */
  async listUsers(tenantId: string, query: UserQuery = {}): Promise<UserPage> {
    const tenant = await this.#tenantRow(tenantId);
    const offset = Math.max(0, query.offset ?? 0);
    const limit = Math.max(0, query.limit ?? 100);
    const text = query.text?.trim().toLowerCase() || null;
    const rank = query.state === undefined ? null : PAGE_RANK[query.state];
    const where = `tenant_id = $1 AND ($2::smallint IS NULL OR page_rank = $2)
      AND ($3::text IS NULL OR strpos(lower(user_principal_name), $3) > 0 OR strpos(lower(coalesce(display_name, '')), $3) > 0)`;
    const { rows } = await this.#context.pool.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE ${where} ORDER BY page_rank, page_name COLLATE "und-x-icu", user_principal_name COLLATE "und-x-icu", user_id OFFSET $4 LIMIT $5`,
      [tenantId, rank, text, offset, limit],
    );
    let total: number;
    if (text !== null) {
      const { rows: counted } = await this.#context.pool.query<{ total: number }>(`SELECT count(*)::integer AS total FROM users WHERE ${where}`, [tenantId, rank, text]);
      total = counted[0]?.total ?? 0;
    } else {
      const counts = countsFromRow(tenant);
      total = query.state === undefined ? counts.total : counts[query.state];
    }
    return { users: rows.map((row) => userFromRow(row, verifiedAsOf(tenant))), total };
  }

  /** The users of `userIds` still there, as a read answers them; undefined once the tenant is gone. */
  async getUsers(tenantId: string, userIds: readonly string[]): Promise<StoredUser[] | undefined> {
    const { rows: tenants } = await this.#context.pool.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1`, [tenantId]);
    const tenant = tenants[0];
    if (!tenant) return undefined;
    const { rows } = await this.#context.pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = $1 AND user_id = ANY($2)`, [tenantId, userIds]);
    return rows.map((row) => userFromRow(row, verifiedAsOf(tenant)));
  }

  async countUsers(tenantId: string): Promise<UserCounts> {
    return countsFromRow(await this.#tenantRow(tenantId));
  }

  async #tenantRow(tenantId: string): Promise<TenantRow> {
    const { rows } = await this.#context.pool.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1`, [tenantId]);
    if (!rows[0]) throw tenantNotFound(tenantId);
    return rows[0];
  }

  /** Users Graph reported removed and, after a full round, every user it did not list; in one statement. */
  async #removeUsers(tx: PostgresTransaction, tenantId: string, batch: UserChangeBatch, observedIds: readonly string[]): Promise<StoredUser[]> {
    const removedIds = batch.removedUserIds ?? [];
    // Only the last page of a full round knows every user the round listed.
    const endsFullRound = batch.fullRound === true && batch.deltaLink !== undefined;
    if (removedIds.length === 0 && !endsFullRound) return [];
    const listed = endsFullRound ? [...observedIds, ...(batch.earlierUserIds ?? [])] : [];
    const { rows } = await tx.query<UserRow>(
      `DELETE FROM users WHERE tenant_id = $1 AND (user_id = ANY($2) OR ($3 AND user_id <> ALL($4))) RETURNING ${USER_COLUMNS}`,
      [tenantId, removedIds, endsFullRound, listed],
    );
    return rows.map((row) => userFromRow(row, 0));
  }

  async #updateUser(tx: PostgresTransaction, tenantId: string, userId: string, change: Pick<StoredUser, 'accountEnabled' | 'lock'>, at: number): Promise<StoredUser> {
    const tenant = await lockTenantRow(tx, tenantId);
    const { rows } = await tx.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = $1 AND user_id = $2`, [tenantId, userId]);
    if (!rows[0]) throw AppError.notFound('USER_NOT_FOUND', `No user with id ${userId} in this tenant.`, { userId });
    const before = userFromRow(rows[0], 0);
    const user: StoredUser = { ...before, ...change, lastChangedAt: at, lastVerifiedAt: at };
    await upsertUsers(tx, tenantId, [user]);
    const counts = new CountChange();
    counts.add(before, -1);
    counts.add(user, 1);
    await tx.query(
      `UPDATE tenants SET users_enabled = users_enabled + $2, users_disabled = users_disabled + $3, users_locked = users_locked + $4 WHERE id = $1`,
      [tenantId, counts.enabled, counts.disabled, counts.locked],
    );
    const shown = { ...user, lastVerifiedAt: Math.max(user.lastVerifiedAt, verifiedAsOf(tenant)) };
    tx.publish({ type: 'users', tenantId, userIds: [userId], users: [shown] } satisfies StoreEvent);
    return structuredClone(shown);
  }
}

/** Writes whole user rows, as many as given, in one statement. */
export async function upsertUsers(tx: PostgresTransaction, tenantId: string, users: readonly StoredUser[]): Promise<void> {
  await tx.query(
    `INSERT INTO users (tenant_id, user_id, user_principal_name, display_name, account_enabled, on_premises_sync_enabled,
                        last_changed_at, last_verified_at, lock_by, lock_at, lock_revoked_sessions)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $6::boolean[], $7::bigint[], $8::bigint[], $9::text[], $10::bigint[], $11::boolean[])
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET
       user_principal_name = excluded.user_principal_name, display_name = excluded.display_name,
       account_enabled = excluded.account_enabled, on_premises_sync_enabled = excluded.on_premises_sync_enabled,
       last_changed_at = excluded.last_changed_at, last_verified_at = excluded.last_verified_at,
       lock_by = excluded.lock_by, lock_at = excluded.lock_at, lock_revoked_sessions = excluded.lock_revoked_sessions`,
    [
      tenantId,
      users.map((u) => u.id),
      users.map((u) => u.userPrincipalName),
      users.map((u) => u.displayName),
      users.map((u) => u.accountEnabled),
      users.map((u) => u.onPremisesSyncEnabled),
      users.map((u) => u.lastChangedAt),
      users.map((u) => u.lastVerifiedAt),
      users.map((u) => u.lock?.by ?? null),
      users.map((u) => u.lock?.at ?? null),
      users.map((u) => u.lock?.revokedSessions ?? null),
    ],
  );
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += ROWS_PER_STATEMENT) out.push(items.slice(i, i + ROWS_PER_STATEMENT));
  return out;
}
