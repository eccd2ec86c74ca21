import type { SimUser, UserProperty } from '../directory/simTenant';
import { json, type SimRequest, type SimResponse } from '../http/simExchange';
import { readUserRoles, requireAnyRole, type GraphCaller } from './graphCaller';
import type { GraphContext } from './graphContext';
import { GraphFailure, unsupportedQuery } from './graphFailure';
import { contextUrl, defaultUserProperties, parseSelect, projectUser } from './userProjection';

/** Graph caps directory-object delta pages at 200, whatever `odata.maxpagesize` asks. */
const maxDeltaPageSize = 200;
const tokenLifetimeMs = 7 * 24 * 60 * 60 * 1000;
const maxIdFilter = 50;

interface DeltaQuery {
  tenant: string;
  generation: number;
  select: string | null;
  ids: string[] | null;
  issuedAt: number;
}

/** A page of the initial round, or of a round of changes, or the delta token between rounds. */
type DeltaState =
  | (DeltaQuery & { kind: 'initial'; snapshot: number; offset: number })
  | (DeltaQuery & { kind: 'changes'; since: number; until: number; offset: number })
  | (DeltaQuery & { kind: 'delta'; since: number });

function pageSize(request: SimRequest): number {
  const match = request.headers.prefer?.match(/odata\.maxpagesize=(\d+)/i);
  const asked = match ? Number(match[1]) : maxDeltaPageSize;
  return Math.max(1, Math.min(maxDeltaPageSize, asked));
}

function prefersMinimal(request: SimRequest): boolean {
  return /return=minimal/i.test(request.headers.prefer ?? '');
}

function parseIdFilter(filter: string | null): string[] | null {
  if (filter === null || filter.trim() === '') return null;
  const clauses = filter.trim().split(/\s+or\s+/i);
  const ids = clauses.map((clause) => {
    const match = clause.trim().match(/^id eq '([^']+)'$/i);
    if (!match?.[1]) throw unsupportedQuery(`Unsupported query filter for delta: ${clause.trim()}`);
    return match[1];
  });
  if (ids.length > maxIdFilter) throw unsupportedQuery(`A delta filter may name at most ${maxIdFilter} ids.`);
  return ids;
}

const syncStateNotFound = () =>
  new GraphFailure(
    400,
    'syncStateNotFound',
    'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
  );

/**
 * `GET /users/delta`: an initial round over every user in pages, ending in a delta link; then each delta
 * link answers the users changed since, with `@removed` for deleted ones. Tokens carry the query, so a
 * replayed link answers again; an expired or dropped one asks the client to start over.
 */
export function usersDelta(context: GraphContext, caller: GraphCaller, request: SimRequest): SimResponse {
  requireAnyRole(caller, readUserRoles);
  const tenant = caller.tenant;
  const now = context.clock.now();
  const token = request.query.get('$skiptoken') ?? request.query.get('$deltatoken');
  let state: DeltaState;
  if (token === null || token === 'latest') {
    for (const unsupported of ['$orderby', '$expand', '$search', '$count']) {
      if (request.query.has(unsupported)) throw unsupportedQuery(`${unsupported} is not supported on delta queries.`);
    }
    const query: DeltaQuery = {
      tenant: tenant.id,
      generation: tenant.deltaGeneration,
      select: request.query.get('$select'),
      ids: parseIdFilter(request.query.get('$filter')),
      issuedAt: now,
    };
    parseSelect(query.select);
    // `$deltatoken=latest`: no data, a delta link from now on.
    state = token === 'latest' ? { ...query, kind: 'delta', since: tenant.version - 1 } : { ...query, kind: 'initial', snapshot: tenant.version - 1, offset: 0 };
    if (state.kind === 'delta') return deltaLinkPage(context, request, state, []);
  } else {
    const opened = context.linkTokens.openFor<DeltaState>(token, tenant.id);
    if (opened.generation !== tenant.deltaGeneration) throw dropped(tenant.deltaInvalidation, request, opened);
    if (now - opened.issuedAt > tokenLifetimeMs) throw syncStateNotFound();
    state = opened;
  }
  const selected = parseSelect(state.select);
  const size = pageSize(request);

  if (state.kind === 'initial') {
    const page: Record<string, unknown>[] = [];
    let index = state.offset;
    const users = tenant.users;
    for (; index < users.length && page.length < size; index++) {
      const user = users[index];
      if (user && !user.deleted && (!state.ids || state.ids.includes(user.id))) page.push(projectUser(user, selected));
    }
    if (index < users.length) return nextLinkPage(context, request, { ...state, offset: index }, page, selected);
    // Changes made while the client paged are picked up by the next round, from the snapshot on.
    return deltaLinkPage(context, request, { ...state, kind: 'delta', since: state.snapshot, issuedAt: now }, page);
  }

  const round =
    state.kind === 'delta'
      ? { ...state, kind: 'changes' as const, until: tenant.version - 1, offset: 0 }
      : state;
  const changed = tenant
    .changedUsers(round.since, round.until)
    .filter((user) => (!round.ids || round.ids.includes(user.id)) && touchesSelection(user, selected, round.since));
  const slice = changed.slice(round.offset, round.offset + size);
  const minimal = prefersMinimal(request);
  const page = slice.map((user) => deltaEntry(user, selected, round.since, minimal));
  if (round.offset + size < changed.length) {
    return nextLinkPage(context, request, { ...round, offset: round.offset + size }, page, selected);
  }
  return deltaLinkPage(context, request, { ...round, kind: 'delta', since: round.until, issuedAt: now }, page);
}

/** Only a change to a selected property makes a user appear in delta, as in Graph. */
function touchesSelection(user: SimUser, selected: readonly UserProperty[] | null, since: number): boolean {
  if (user.createdVersion > since || user.deleted) return true;
  return (selected ?? defaultUserProperties).some((property) => (user.propertyVersions[property] ?? 0) > since);
}

function deltaEntry(
  user: SimUser,
  selected: readonly UserProperty[] | null,
  since: number,
  minimal: boolean,
): Record<string, unknown> {
  if (user.deleted) return { id: user.id, '@removed': { reason: user.deleted.reason } };
  if (!minimal || user.createdVersion > since) return projectUser(user, selected);
  const changed = (selected ?? defaultUserProperties).filter(
    (property) => property !== 'id' && (user.propertyVersions[property] ?? 0) > since,
  );
  return projectUser(user, ['id', ...changed]);
}

function dropped(kind: 'syncStateNotFound' | 'resyncRequired', request: SimRequest, state: DeltaQuery): GraphFailure {
  if (kind === 'syncStateNotFound') return syncStateNotFound();
  const select = state.select ? `?$select=${encodeURIComponent(state.select)}` : '';
  return new GraphFailure(
    410,
    'resyncRequired',
    'Resync required. Replace any local cached data with the data returned by the new delta token.',
    { location: `${request.origin}/v1.0/users/delta${select}` },
  );
}

function nextLinkPage(
  context: GraphContext,
  request: SimRequest,
  state: DeltaState,
  page: Record<string, unknown>[],
  selected: readonly UserProperty[] | null,
): SimResponse {
  return json(200, {
    '@odata.context': contextUrl(request.origin, 'users', selected),
    '@odata.nextLink': `${request.origin}/v1.0/users/delta?$skiptoken=${context.linkTokens.seal(state)}`,
    value: page,
  });
}

function deltaLinkPage(
  context: GraphContext,
  request: SimRequest,
  state: DeltaState,
  page: Record<string, unknown>[],
): SimResponse {
  const selected = parseSelect(state.select);
  return json(200, {
    '@odata.context': contextUrl(request.origin, 'users', selected),
    '@odata.deltaLink': `${request.origin}/v1.0/users/delta?$deltatoken=${context.linkTokens.seal(state)}`,
    value: page,
  });
}
