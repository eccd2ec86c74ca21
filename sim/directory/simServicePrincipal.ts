import type { GraphRole } from './simApp';

/**
 * A multi-tenant app's service principal in a tenant that consented to it: the application roles that
 * tenant granted, which may be fewer than the app asks for.
 */
export interface SimServicePrincipal {
  id: string;
  appId: string;
  roles: GraphRole[];
  createdDateTime: string;
}

/** How the tenant's admin consent endpoint treats the one who signs in to it. */
export interface ConsentPolicy {
  /** When false the signed-in user is not an admin, and admin consent fails (AADSTS90094). */
  signedInUserIsAdmin: boolean;
  /** The roles this tenant grants at most; `null` grants whatever the app asks for. */
  grantableRoles: GraphRole[] | null;
}
