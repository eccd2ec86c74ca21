import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors/AppError';
import { syncDirectory } from '../files/writeFileAtomic';
import type { LowdbContext } from './lowdbContext';
import type { LowdbTasks } from './lowdbTasks';
import { DurableJsonFile } from './durableJsonFile';
import { loadStoreFile } from './loadStoreFile';
import type { UsersFile } from './storeSchema';
import { STORE_SCHEMA_VERSION, usersFileSchema } from './storeSchema';
import type {
  ObservedUser,
  StoredActivity,
  StoredUser,
  UserChangeBatch,
  UserChangeSummary,
  UserCounts,
  UserLock,
  UserPage,
  UserQuery,
} from './storeTypes';

/**
 * One tenant's users in memory. A Map, not an object: user ids come from outside (a URL path), and
 * `constructor` or `__proto__` must be a user that is not there, not something inherited.
 */
interface TenantUsers {
  tenantId: string;
  file: DurableJsonFile<UsersFile>;
  users: Map<string, StoredUser>;
  deltaLink: string | null;
  lazy: boolean;
}

/** Users, one file per tenant (`users/<tenant id>.json`) with the tenant's delta link. */
export class LowdbUsers {
  readonly #context: LowdbContext;
  readonly #tasks: LowdbTasks;
  readonly #usersDir: string;
  readonly #tenants = new Map<string, TenantUsers>();

  constructor(context: LowdbContext, tasks: LowdbTasks, usersDir: string) {
    this.#context = context;
    this.#tasks = tasks;
    this.#usersDir = usersDir;
  }

  /** Loads the users of every known tenant and drops files that belong to no tenant. */
  async load(tenantIds: ReadonlySet<string>): Promise<void> {
    for (const tenantId of tenantIds) await this.addTenant(tenantId);
    // A tenant removed just before a crash can leave its users behind: they belong to no one now.
    for (const name of await readdir(this.#usersDir)) {
      const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : null;
      if (id !== null && !tenantIds.has(id)) await unlink(join(this.#usersDir, name)).catch(() => undefined);
    }
  }

  /** Starts keeping a tenant's users (none yet, or what its file holds). */
  async addTenant(tenantId: string): Promise<void> {
    const file = new DurableJsonFile<UsersFile>(join(this.#usersDir, `${tenantId}.json`));
    const { data } = await loadStoreFile(file, usersFileSchema, () => emptyUsers(tenantId));
    this.#tenants.set(tenantId, { tenantId, file, users: new Map(Object.entries(data.users)), deltaLink: data.deltaLink, lazy: false });
  }

  /** Forgets a tenant's users and deletes their file. */
  async removeTenant(tenantId: string): Promise<void> {
    const slot = this.#tenants.get(tenantId);
    this.#tenants.delete(tenantId);
    if (!slot) return;
    await slot.file.idle();
    await unlink(slot.file.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await syncDirectory(this.#usersDir);
  }

  /** Writes every tenant's held-back bookkeeping. */
  checkpoint(): Array<Promise<void>> {
    return [...this.#tenants.values()].filter((slot) => slot.lazy).map((slot) => this.#save(slot));
  }

  idle(): Array<Promise<void>> {
    return [...this.#tenants.values()].map((slot) => slot.file.idle());
  }

  async getDeltaLink(tenantId: string): Promise<string | null> {
    return this.#require(tenantId).deltaLink;
  }

  async applyUserChanges(tenantId: string, batch: UserChangeBatch): Promise<UserChangeSummary> {
    this.#context.assertOpen();
    this.#context.main.requireTenant(tenantId);
    const slot = this.#require(tenantId);
    const users = slot.users;
    const summary: UserChangeSummary = { added: [], changed: [], removed: [], locksCleared: [], written: false };
    const seen = new Set<string>();
    let bookkeeping = false;

    for (const observed of batch.users) {
      seen.add(observed.id);
      const existing = users.get(observed.id);
      if (!existing) {
        const user: StoredUser = {
          ...pickObserved(observed),
          lastChangedAt: batch.observedAt,
          lastVerifiedAt: batch.observedAt,
          lock: null,
        };
        users.set(observed.id, user);
        summary.added.push(structuredClone(user));
        continue;
      }
      const olderThanOurChange = existing.lastChangedAt > batch.observedAt;
      const next: StoredUser = {
        ...existing,
        ...pickObserved(observed),
        accountEnabled: olderThanOurChange ? existing.accountEnabled : observed.accountEnabled,
        lastVerifiedAt: Math.max(existing.lastVerifiedAt, batch.observedAt),
      };
      if (next.accountEnabled && next.lock) next.lock = null;
      if (materiallyDifferent(existing, next)) {
        next.lastChangedAt = Math.max(existing.lastChangedAt, batch.observedAt);
        summary.changed.push({ before: structuredClone(existing), after: structuredClone(next) });
        if (existing.lock && !next.lock) summary.locksCleared.push(structuredClone(next));
      } else if (next.lastVerifiedAt !== existing.lastVerifiedAt) {
        bookkeeping = true;
      }
      users.set(observed.id, next);
    }

    const removedIds = new Set(batch.removedUserIds ?? []);
    if (batch.fullRound) {
      for (const id of users.keys()) if (!seen.has(id)) removedIds.add(id);
    }
    for (const id of removedIds) {
      const user = users.get(id);
      if (!user) continue;
      summary.removed.push(structuredClone(user));
      users.delete(id);
    }

    if (slot.deltaLink !== batch.deltaLink) {
      slot.deltaLink = batch.deltaLink;
      bookkeeping = true;
    }

    const changedIds = [
      ...summary.added.map((u) => u.id),
      ...summary.changed.map((c) => c.after.id),
      ...summary.removed.map((u) => u.id),
    ];
    if (changedIds.length > 0) {
      await this.#save(slot);
      summary.written = true;
      this.#context.events.emit({ type: 'users', tenantId, userIds: changedIds });
    } else if (bookkeeping) {
      slot.lazy = true;
      this.#context.scheduleCheckpoint();
    }
    return summary;
  }

  async recordUserLocked(
    tenantId: string,
    userId: string,
    lock: { by: string; revokedSessions: boolean },
  ): Promise<{ user: StoredUser; activity: StoredActivity }> {
    this.#context.assertOpen();
    const at = this.#context.clock.now();
    const userLock: UserLock = { by: lock.by, at, revokedSessions: lock.revokedSessions };
    const user = this.#updateUser(tenantId, userId, { accountEnabled: false, lock: userLock }, at);
    const activity = this.#tasks.pushActivity({
      tenantId,
      kind: 'lock',
      name: 'Locked user',
      description: `Disabled sign-in for ${user.userPrincipalName}${lock.revokedSessions ? ' and revoked its sign-in sessions' : ''}.`,
      actor: lock.by,
      management: true,
      userId,
    });
    return this.#saveUserAction(tenantId, user, activity);
  }

  async recordUserUnlocked(tenantId: string, userId: string, by: string): Promise<{ user: StoredUser; activity: StoredActivity }> {
    this.#context.assertOpen();
    const at = this.#context.clock.now();
    const user = this.#updateUser(tenantId, userId, { accountEnabled: true, lock: null }, at);
    const activity = this.#tasks.pushActivity({
      tenantId,
      kind: 'unlock',
      name: 'Unlocked user',
      description: `Enabled sign-in for ${user.userPrincipalName}.`,
      actor: by,
      management: true,
      userId,
    });
    return this.#saveUserAction(tenantId, user, activity);
  }

  async getUser(tenantId: string, userId: string): Promise<StoredUser | undefined> {
    const user = this.#require(tenantId).users.get(userId);
    return user ? this.#withVerification(tenantId, user) : undefined;
  }

  async listUsers(tenantId: string, query: UserQuery = {}): Promise<UserPage> {
    const text = query.text?.trim().toLowerCase();
    const matching = [...this.#require(tenantId).users.values()].filter((user) => {
      if (query.state === 'locked' && !user.lock) return false;
      // As UserView.state has it: a user the product locked is "locked", not "disabled".
      if (query.state === 'disabled' && (user.accountEnabled || user.lock)) return false;
      if (query.state === 'enabled' && !user.accountEnabled) return false;
      if (text && !user.userPrincipalName.toLowerCase().includes(text) && !(user.displayName ?? '').toLowerCase().includes(text)) {
        return false;
      }
      return true;
    });
    // What needs the operator's eye first: users the product locked, then other disabled ones.
    const rank = (user: StoredUser): number => (user.lock ? 0 : user.accountEnabled ? 2 : 1);
    matching.sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (a.displayName ?? a.userPrincipalName).localeCompare(b.displayName ?? b.userPrincipalName) ||
        a.userPrincipalName.localeCompare(b.userPrincipalName),
    );
    const offset = Math.max(0, query.offset ?? 0);
    const limit = Math.max(0, query.limit ?? 100);
    return {
      users: matching.slice(offset, offset + limit).map((user) => this.#withVerification(tenantId, user)),
      total: matching.length,
    };
  }

  async countUsers(tenantId: string): Promise<UserCounts> {
    const counts: UserCounts = { total: 0, enabled: 0, disabled: 0, locked: 0 };
    for (const user of this.#require(tenantId).users.values()) {
      counts.total++;
      if (user.lock) counts.locked++;
      else if (user.accountEnabled) counts.enabled++;
      else counts.disabled++;
    }
    return counts;
  }

  #require(tenantId: string): TenantUsers {
    const slot = this.#tenants.get(tenantId);
    if (!slot) throw AppError.notFound('TENANT_NOT_FOUND', `No tenant with id ${tenantId}.`, { tenantId });
    return slot;
  }

  #updateUser(tenantId: string, userId: string, change: Pick<StoredUser, 'accountEnabled' | 'lock'>, at: number): StoredUser {
    this.#context.main.requireTenant(tenantId);
    const users = this.#require(tenantId).users;
    const existing = users.get(userId);
    if (!existing) throw AppError.notFound('USER_NOT_FOUND', `No user with id ${userId} in this tenant.`, { userId });
    const user: StoredUser = { ...existing, ...change, lastChangedAt: at, lastVerifiedAt: at };
    users.set(userId, user);
    return user;
  }

  async #saveUserAction(tenantId: string, user: StoredUser, activity: StoredActivity): Promise<{ user: StoredUser; activity: StoredActivity }> {
    await Promise.all([this.#save(this.#require(tenantId)), this.#context.main.save()]);
    const tenant = this.#context.main.findTenant(tenantId);
    this.#context.events.emit(
      { type: 'users', tenantId, userIds: [user.id] },
      ...(tenant ? [{ type: 'tenant', tenant: structuredClone(tenant) } as const] : []),
      { type: 'activity', activity: structuredClone(activity) },
    );
    return { user: structuredClone(user), activity: structuredClone(activity) };
  }

  #withVerification(tenantId: string, user: StoredUser): StoredUser {
    const asOf = this.#context.main.findTenant(tenantId)?.lastSyncAt ?? 0;
    return { ...structuredClone(user), lastVerifiedAt: Math.max(user.lastVerifiedAt, asOf) };
  }

  async #save(slot: TenantUsers): Promise<void> {
    slot.lazy = false;
    await slot.file.write({ schemaVersion: STORE_SCHEMA_VERSION, tenantId: slot.tenantId, deltaLink: slot.deltaLink, users: Object.fromEntries(slot.users) });
  }
}

function emptyUsers(tenantId: string): UsersFile {
  return { schemaVersion: STORE_SCHEMA_VERSION, tenantId, deltaLink: null, users: {} };
}

function pickObserved(observed: ObservedUser): Pick<
  StoredUser,
  'id' | 'userPrincipalName' | 'displayName' | 'accountEnabled' | 'onPremisesSyncEnabled'
> {
  return {
    id: observed.id,
    userPrincipalName: observed.userPrincipalName,
    displayName: observed.displayName,
    accountEnabled: observed.accountEnabled,
    onPremisesSyncEnabled: observed.onPremisesSyncEnabled,
  };
}

function materiallyDifferent(a: StoredUser, b: StoredUser): boolean {
  return (
    a.userPrincipalName !== b.userPrincipalName ||
    a.displayName !== b.displayName ||
    a.accountEnabled !== b.accountEnabled ||
    a.onPremisesSyncEnabled !== b.onPremisesSyncEnabled ||
    (a.lock === null) !== (b.lock === null)
  );
}
