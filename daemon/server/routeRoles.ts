import type { EngineerRole } from '../../protocol/daemonApi';
import type { ApiRouteShape } from './apiRouteShapes';

/** `open`: no token at all (the health check). */
export type RouteAccess = EngineerRole | 'open';

/**
 * The role each route needs, one line per route of `API_ROUTE_SHAPES` (a test holds the two to each
 * other, so a new route cannot go unguarded). Reading, refreshing and re-checking credential health are
 * safe for anyone; lock and unlock change a customer's users; tenants' credentials are admin business.
 */
export const ROUTE_ROLES: Readonly<Record<string, RouteAccess>> = {
  'GET /v1/health': 'open',
  'GET /v1/session': 'reader',
  'GET /v1/tenants': 'reader',
  'POST /v1/tenants': 'admin',
  'GET /v1/tenants/:id': 'reader',
  'DELETE /v1/tenants/:id': 'admin',
  'PUT /v1/tenants/:id/credentials': 'admin',
  'POST /v1/tenants/:id/credential-health': 'reader',
  'POST /v1/tenants/:id/refresh': 'reader',
  'GET /v1/tenants/:id/users': 'reader',
  'POST /v1/tenants/:id/users/:userId/lock': 'operator',
  'POST /v1/tenants/:id/users/:userId/unlock': 'operator',
  // App profiles and onboarding concern every customer of the deployment, and register tenants: admin.
  'GET /v1/app-profiles': 'admin',
  'POST /v1/app-profiles': 'admin',
  'GET /v1/app-profiles/:profileId': 'admin',
  'DELETE /v1/app-profiles/:profileId': 'admin',
  'POST /v1/app-profiles/:profileId/credentials': 'admin',
  'POST /v1/app-profiles/:profileId/consents': 'admin',
  'GET /v1/app-profiles/:profileId/consents/:state': 'admin',
  'GET /v1/app-profiles/:profileId/customers': 'admin',
  'POST /v1/tenants\\:batch': 'admin',
  'GET /v1/tasks': 'reader',
  'GET /v1/logs': 'reader',
  'GET /v1/events': 'reader',
};

/**
 * Routes about every customer of the deployment rather than one tenant: an app profile lists the tenants
 * signing in with it and its credential serves them all, and onboarding (consent links, file imports, GDAP
 * customers) registers tenants of any name and says which are present. An engineer restricted to some
 * tenants is refused them whatever their role; such an admin registers their own tenants one by one.
 */
export const ROUTES_ACROSS_TENANTS: ReadonlySet<string> = new Set([
  'GET /v1/app-profiles',
  'POST /v1/app-profiles',
  'GET /v1/app-profiles/:profileId',
  'DELETE /v1/app-profiles/:profileId',
  'POST /v1/app-profiles/:profileId/credentials',
  'POST /v1/app-profiles/:profileId/consents',
  'GET /v1/app-profiles/:profileId/consents/:state',
  'GET /v1/app-profiles/:profileId/customers',
  'POST /v1/tenants\\:batch',
]);

export function routeKey(shape: Pick<ApiRouteShape, 'method' | 'path'>): string {
  return `${shape.method} ${shape.path}`;
}

/** The role a route needs; a route missing from the table needs admin, so a slip fails closed. */
export function routeAccess(shape: Pick<ApiRouteShape, 'method' | 'path'>): RouteAccess {
  return ROUTE_ROLES[routeKey(shape)] ?? 'admin';
}
