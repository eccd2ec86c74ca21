import type { Clock } from '../clock';
import type { TenantStatusPolicy } from '../status/tenantStatus';
import { tenantStatus, type TenantStatusResult } from '../status/tenantStatus';
import type { Store } from '../store/store';
import { tenantNotFound } from '../errors/tenantNotFound';

/**
 * Keeps each tenant's recorded status equal to its derived one; every change is recorded as an
 * activity by the store. Called after anything that can move it, and on a timer for the changes that
 * come with time alone (STALE, INACTIVE, DORMANT).
 */
export class TenantStatusService {
  constructor(
    private readonly store: Store,
    private readonly policy: TenantStatusPolicy,
    private readonly clock: Clock,
  ) {}

  // Both read the tenant without a copy: they run several times in every poll round.
  async current(tenantId: string): Promise<TenantStatusResult> {
    const tenant = await this.store.readTenant(tenantId);
    if (!tenant) throw tenantNotFound(tenantId);
    return tenantStatus(tenant, this.policy, this.clock.now());
  }

  async update(tenantId: string): Promise<TenantStatusResult | undefined> {
    const tenant = await this.store.readTenant(tenantId);
    if (!tenant) return undefined;
    const derived = tenantStatus(tenant, this.policy, this.clock.now());
    if (derived.status !== tenant.status) await this.store.recordTenantStatus(tenantId, derived.status, derived.reason);
    return derived;
  }

  /** Every tenant, or those `only` answers true for (with a shared store: the tenants this daemon holds). */
  async updateAll(only?: (tenantId: string) => boolean): Promise<void> {
    for (const tenant of await this.store.readTenants()) if (!only || only(tenant.id)) await this.update(tenant.id);
  }
}
