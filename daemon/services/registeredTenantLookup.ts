import type { DirectoryIdResolver } from '../microsoft/directoryIdResolver';
import type { Store } from '../store/store';
import type { StoredTenant } from '../store/storeTypes';

/**
 * Whether a tenant is registered already, however it was given: a tenant registered by its domain is the
 * one discovery lists by directory id, and the reverse. The text as registered is tried first; only when
 * it does not match are directory ids compared (domains resolved through Microsoft, once each).
 */
export class RegisteredTenantLookup {
  constructor(
    private readonly store: Store,
    private readonly directoryIds: DirectoryIdResolver,
  ) {}

  /** The registered tenant that is `tenantIdOrDomain`; `tenants` saves a read when the caller has them. */
  async find(tenantIdOrDomain: string, tenants?: readonly StoredTenant[]): Promise<StoredTenant | undefined> {
    const registered = tenants ?? (await this.store.listTenants());
    const given = tenantIdOrDomain.trim().toLowerCase();
    const same = registered.find((tenant) => tenant.tenantIdOrDomain.toLowerCase() === given);
    if (same || registered.length === 0) return same;
    const id = await this.directoryIds.resolve(given);
    if (id === null) return undefined;
    const ids = await Promise.all(registered.map((tenant) => this.directoryIds.resolve(tenant.tenantIdOrDomain)));
    return registered.find((_tenant, i) => ids[i] === id);
  }
}
