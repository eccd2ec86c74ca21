import type { SimUser, UserProperty } from '../directory/simTenant';
import { json, parseJsonBody, type SimRequest, type SimResponse } from '../http/simExchange';
import type { GraphCaller } from './graphCaller';
import { hasAnyRole, readUserRoles, requireAnyRole, writeUserRoles } from './graphCaller';
import type { GraphContext } from './graphContext';
import { badRequest, insufficientPrivileges, notFound, unsupportedQuery } from './graphFailure';
import { contextUrl, parseSelect, projectUser } from './userProjection';
import { parseUserFilter, parseUserSearch, type UserPredicate } from './userFilter';

const defaultPageSize = 100;
const maxPageSize = 999;

interface ListState {
  tenant: string;
  offset: number;
  top: number;
  select: string | null;
  filter: string | null;
  search: string | null;
  advanced: boolean;
}

function isEventual(request: SimRequest): boolean {
  return request.headers.consistencylevel?.toLowerCase() === 'eventual';
}

function parseTop(raw: string | null): number {
  if (raw === null) return defaultPageSize;
  const top = Number(raw);
  if (!Number.isInteger(top) || top < 1 || top > maxPageSize) {
    throw badRequest(`Invalid page size specified: '${raw}'. Must be between 1 and ${maxPageSize} inclusive.`);
  }
  return top;
}

/** `GET /users`: `$select`, `$top`, `$filter`, `$count`/`$search` with `ConsistencyLevel`, `$skiptoken` paging. */
export function listUsers(context: GraphContext, caller: GraphCaller, request: SimRequest): SimResponse {
  requireAnyRole(caller, readUserRoles);
  const skiptoken = request.query.get('$skiptoken');
  let state: ListState;
  if (skiptoken !== null) {
    state = context.linkTokens.openFor<ListState>(skiptoken, caller.tenant.id);
  } else {
    if (request.query.has('$skip')) throw badRequest("'$skip' is not supported by the service.");
    const count = request.query.get('$count')?.toLowerCase() === 'true';
    const advanced = isEventual(request) && count;
    const search = request.query.get('$search');
    if ((count || search !== null) && !isEventual(request)) {
      throw unsupportedQuery(
        `${count ? '$count' : '$search'} is only supported with the ConsistencyLevel:eventual header.`,
      );
    }
    state = {
      tenant: caller.tenant.id,
      offset: 0,
      top: parseTop(request.query.get('$top')),
      select: request.query.get('$select'),
      filter: request.query.get('$filter'),
      search,
      advanced,
    };
  }
  const selected = parseSelect(state.select);
  const filter = parseUserFilter(state.filter, state.advanced);
  const search = parseUserSearch(state.search);
  const matches: UserPredicate = (user) => !user.deleted && (!filter || filter(user)) && (!search || search(user));
  const users = caller.tenant.users;
  const page: Record<string, unknown>[] = [];
  let index = state.offset;
  for (; index < users.length && page.length < state.top; index++) {
    const user = users[index];
    if (user && matches(user)) page.push(projectUser(user, selected));
  }
  while (index < users.length && !matches(users[index] as SimUser)) index++;
  const body: Record<string, unknown> = { '@odata.context': contextUrl(request.origin, 'users', selected) };
  if (state.advanced && state.offset === 0) body['@odata.count'] = users.filter(matches).length;
  if (index < users.length) {
    // Graph's next links repeat the `$select` (which sets the page's cost); the token alone decides what comes.
    const select = state.select === null ? '' : `&$select=${encodeURIComponent(state.select)}`;
    body['@odata.nextLink'] = `${request.origin}/v1.0/users?$skiptoken=${context.linkTokens.seal({ ...state, offset: index })}${select}`;
  }
  body.value = page;
  return json(200, body);
}

/** `GET /users/$count`: plain text, eventual consistency only. */
export function countUsers(caller: GraphCaller, request: SimRequest): SimResponse {
  requireAnyRole(caller, readUserRoles);
  if (!isEventual(request)) {
    throw unsupportedQuery('Count is only supported with the ConsistencyLevel:eventual header.');
  }
  const filter = parseUserFilter(request.query.get('$filter'), true);
  const count = caller.tenant.users.filter((u) => !u.deleted && (!filter || filter(u))).length;
  return { status: 200, headers: { 'content-type': 'text/plain' }, body: String(count) };
}

function findUserOrFail(caller: GraphCaller, idOrPrincipalName: string): SimUser {
  const user = caller.tenant.findUser(idOrPrincipalName);
  if (!user) throw notFound(idOrPrincipalName);
  return user;
}

export function getUser(caller: GraphCaller, request: SimRequest, idOrPrincipalName: string): SimResponse {
  requireAnyRole(caller, readUserRoles);
  const selected = parseSelect(request.query.get('$select'));
  const user = findUserOrFail(caller, idOrPrincipalName);
  return json(200, {
    '@odata.context': `${contextUrl(request.origin, 'users', selected)}/$entity`,
    ...projectUser(user, selected),
  });
}

/** `@odata.type`, `@odata.context`, `displayName@odata.type`: annotations, not properties. */
function isAnnotation(key: string): boolean {
  return key.includes('@');
}

// A Map, so a body property named like a built-in (`constructor`, `__proto__`) is simply not patchable.
const patchableProperties = new Map<string, 'boolean' | 'string'>([
  ['accountEnabled', 'boolean'],
  ['displayName', 'string'],
  ['jobTitle', 'string'],
  ['department', 'string'],
]);

/**
 * `PATCH /users/{id}`: `accountEnabled` needs `User.EnableDisableAccount.All` with a read role (or a
 * write role); other properties need a write role; a privileged admin can only be changed by an app that
 * holds a higher admin role.
 */
export function updateUser(
  context: GraphContext,
  caller: GraphCaller,
  request: SimRequest,
  idOrPrincipalName: string,
): SimResponse {
  let body: unknown;
  try {
    body = parseJsonBody(request);
  } catch {
    throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('Empty Payload. JSON content expected.');
  }
  const changes: Partial<Record<UserProperty, unknown>> = {};
  for (const [key, value] of Object.entries(body)) {
    // Graph ignores instance and property annotations on writes; Microsoft's SDKs send
    // `"@odata.type": "#microsoft.graph.user"` on every update.
    if (isAnnotation(key)) continue;
    const type = patchableProperties.get(key);
    if (!type) throw badRequest(`Property '${key}' cannot be updated by this request.`);
    if (typeof value !== type) {
      throw badRequest(`Invalid value specified for property '${key}' of resource 'User'.`);
    }
    changes[key as UserProperty] = value;
  }
  const onlyAccountEnabled = Object.keys(changes).every((key) => key === 'accountEnabled');
  const canToggle =
    caller.roles.has('User.EnableDisableAccount.All') && hasAnyRole(caller, readUserRoles);
  if (!hasAnyRole(caller, writeUserRoles) && !(onlyAccountEnabled && canToggle)) throw insufficientPrivileges();
  const user = findUserOrFail(caller, idOrPrincipalName);
  if (user.privilegedRole && 'accountEnabled' in changes && !caller.app.privilegedAdmin) {
    throw insufficientPrivileges();
  }
  const { accountEnabled, ...others } = changes;
  if (typeof accountEnabled === 'boolean') {
    context.directory.setAccountEnabled(caller.tenant, user, accountEnabled, { kind: 'app', app: caller.app });
  }
  caller.tenant.updateUser(user, others);
  return { status: 204 };
}

/** `POST /users/{id}/revokeSignInSessions`. */
export function revokeSignInSessions(
  context: GraphContext,
  caller: GraphCaller,
  request: SimRequest,
  idOrPrincipalName: string,
): SimResponse {
  requireAnyRole(caller, ['User.RevokeSessions.All', ...writeUserRoles]);
  const user = findUserOrFail(caller, idOrPrincipalName);
  context.directory.revokeSignInSessions(caller.tenant, user);
  return json(200, { '@odata.context': `${request.origin}/v1.0/$metadata#Edm.Boolean`, value: true });
}
