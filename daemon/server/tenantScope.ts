import type { ApiCaller } from './apiCaller';

/** A tenant as far as a restriction needs it: the daemon's id and the id or domain it was registered by. */
export interface ScopedTenant {
  id: string;
  tenantIdOrDomain: string;
}

/**
 * Whether a caller restricted to some tenants may see and act on this one. The restriction names
 * tenants as an admin knows them (the directory id or domain given when registering) or by the
 * daemon's id; both are compared without regard to case.
 */
export function mayReachTenant(caller: ApiCaller, tenant: ScopedTenant): boolean {
  if (caller.tenants === null) return true;
  return caller.tenants.includes(tenant.id.toLowerCase()) || caller.tenants.includes(tenant.tenantIdOrDomain.toLowerCase());
}

/** The daemon ids of the tenants the caller may reach, or null when unrestricted. */
export function reachableTenantIds(caller: ApiCaller, tenants: readonly ScopedTenant[]): Set<string> | null {
  if (caller.tenants === null) return null;
  return new Set(tenants.filter((tenant) => mayReachTenant(caller, tenant)).map((tenant) => tenant.id));
}
