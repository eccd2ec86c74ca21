import type { Store } from '../store/store';
import type { StoredTenant, StoredUser } from '../store/storeTypes';

export interface UsersPageQuery {
  state?: 'locked' | 'disabled' | 'enabled' | undefined;
  /** Case-insensitive, in the user principal name or display name. */
  text?: string | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
}

export interface UsersPage {
  users: StoredUser[];
  total: number;
  offset: number;
  limit: number;
}

const defaultPageSize = 100;

/** Tenants and their users as the daemon knows them now; reading never calls Microsoft. */
export class TenantQueries {
  constructor(private readonly store: Store) {}

  /** Read-only: the tenant list is asked for often, and a copy of every tenant each time was most of its cost. */
  async list(): Promise<ReadonlyArray<Readonly<StoredTenant>>> {
    return this.store.readTenants();
  }

  /** The tenant, or TENANT_NOT_FOUND. */
  async get(tenantId: string): Promise<StoredTenant> {
    return this.store.requireTenant(tenantId);
  }

  /** Locked users first, then disabled ones, then the rest. */
  async usersPage(tenantId: string, query: UsersPageQuery): Promise<UsersPage> {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? defaultPageSize;
    const { users, total } = await this.store.listUsers(tenantId, {
      ...(query.state ? { state: query.state } : {}),
      ...(query.text !== undefined ? { text: query.text } : {}),
      offset,
      limit,
    });
    return { users, total, offset, limit };
  }
}
