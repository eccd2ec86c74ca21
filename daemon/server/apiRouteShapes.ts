import * as z from 'zod';
import {
  appProfilePathSchema,
  consentPathSchema,
  logListQuerySchema,
  taskListQuerySchema,
  tenantPathSchema,
  userListQuerySchema,
  userPathSchema,
} from '../../protocol/daemonApi';

/**
 * What each route takes besides its body's fields: its path parameters, its query, and whether it takes
 * a body at all. `requestShape` holds every request to this before a route sees it, so a route cannot
 * quietly run with defaults on input it did not read.
 */
export interface ApiRouteShape {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Express-style, `:name` for a parameter. */
  path: string;
  params?: z.ZodType;
  query?: z.ZodType;
  /** `json`: a JSON body is needed; `optional-json`: a JSON body or none; `json-or-csv`: a JSON or CSV body; `none`: no body. */
  body: 'json' | 'optional-json' | 'json-or-csv' | 'none';
}

const noQuery = z.strictObject({});

export const API_ROUTE_SHAPES: readonly ApiRouteShape[] = [
  { method: 'GET', path: '/v1/health', body: 'none' },
  { method: 'GET', path: '/v1/session', body: 'none' },
  { method: 'GET', path: '/v1/tenants', body: 'none' },
  { method: 'POST', path: '/v1/tenants', body: 'json' },
  { method: 'GET', path: '/v1/tenants/:id', params: tenantPathSchema, body: 'none' },
  { method: 'DELETE', path: '/v1/tenants/:id', params: tenantPathSchema, body: 'none' },
  { method: 'PUT', path: '/v1/tenants/:id/credentials', params: tenantPathSchema, body: 'json' },
  { method: 'POST', path: '/v1/tenants/:id/credential-health', params: tenantPathSchema, body: 'none' },
  { method: 'POST', path: '/v1/tenants/:id/refresh', params: tenantPathSchema, body: 'none' },
  { method: 'GET', path: '/v1/tenants/:id/users', params: tenantPathSchema, query: userListQuerySchema, body: 'none' },
  { method: 'POST', path: '/v1/tenants/:id/users/:userId/lock', params: userPathSchema, body: 'optional-json' },
  { method: 'POST', path: '/v1/tenants/:id/users/:userId/unlock', params: userPathSchema, body: 'optional-json' },
  { method: 'GET', path: '/v1/app-profiles', body: 'none' },
  { method: 'POST', path: '/v1/app-profiles', body: 'json' },
  { method: 'GET', path: '/v1/app-profiles/:profileId', params: appProfilePathSchema, body: 'none' },
  { method: 'DELETE', path: '/v1/app-profiles/:profileId', params: appProfilePathSchema, body: 'none' },
  { method: 'POST', path: '/v1/app-profiles/:profileId/credentials', params: appProfilePathSchema, body: 'json' },
  { method: 'POST', path: '/v1/app-profiles/:profileId/consents', params: appProfilePathSchema, body: 'json' },
  { method: 'GET', path: '/v1/app-profiles/:profileId/consents/:state', params: consentPathSchema, body: 'none' },
  { method: 'GET', path: '/v1/app-profiles/:profileId/customers', params: appProfilePathSchema, body: 'none' },
  { method: 'POST', path: '/v1/tenants\\:batch', body: 'json-or-csv' },
  { method: 'GET', path: '/v1/tasks', query: taskListQuerySchema, body: 'none' },
  { method: 'GET', path: '/v1/logs', query: logListQuerySchema, body: 'none' },
  { method: 'GET', path: '/v1/events', body: 'none' },
].map((shape) => ({ query: noQuery, ...shape }) as ApiRouteShape);

export interface MatchedRoute {
  shape: ApiRouteShape;
  /** Decoded; undefined when a parameter is not valid percent-encoding. */
  params: Record<string, string> | undefined;
}

const compiled = API_ROUTE_SHAPES.map((shape) => {
  const names: string[] = [];
  // A backslash makes the colon after it literal (`tenants:batch`), as Express reads it.
  const source = shape.path.replace(/\\:|:([A-Za-z]+)/g, (_match, name: string | undefined) => {
    if (name === undefined) return ':';
    names.push(name);
    return '([^/]+)';
  });
  // As Express matches: case-insensitive, a trailing slash allowed.
  return { shape, names, pattern: new RegExp(`^${source}/?$`, 'i') };
});

/** The route a method and path reach, or undefined (Express answers 404). */
export function matchApiRoute(method: string, path: string): MatchedRoute | undefined {
  for (const { shape, names, pattern } of compiled) {
    if (shape.method !== (method === 'HEAD' ? 'GET' : method)) continue;
    const match = pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    try {
      names.forEach((name, index) => {
        params[name] = decodeURIComponent(match[index + 1] ?? '');
      });
    } catch {
      return { shape, params: undefined };
    }
    return { shape, params };
  }
  return undefined;
}
