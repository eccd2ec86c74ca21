import { setTimeout as sleep } from 'node:timers/promises';
import { jwtVerify } from 'jose';
import type { SimTenant } from '../directory/simTenant';
import { json, type SimRequest, type SimResponse } from '../http/simExchange';
import { graphAudience, type AccessTokenClaims } from '../identity/identityPlatform';
import type { SigningKeys } from '../identity/signingKeys';
import type { SeededRandom } from '../seededRandom';
import { listDirectoryAudits } from './auditLogsApi';
import { listDelegatedAdminCustomers } from './delegatedAdminCustomersApi';
import type { GraphCaller } from './graphCaller';
import type { GraphContext } from './graphContext';
import { badRequest, GraphFailure, graphErrorResponse } from './graphFailure';
import { getApplicationByAppId, getOrganization } from './directoryApi';
import { ResourceUnitThrottle, type RequestCost } from './resourceUnitThrottle';
import { countUsers, getUser, listUsers, revokeSignInSessions, updateUser } from './usersApi';
import { usersDelta } from './usersDelta';

const maxBatchRequests = 20;

/** Bearer tokens whose signature was checked, kept for their later requests (oldest dropped first). */
const maxVerifiedTokens = 10_000;

type VerifiedClaims = AccessTokenClaims & { exp?: number; nbf?: number };

/** Whether a token verified before is still in its lifetime, as jose would judge it (no clock skew). */
function inLifetime(claims: VerifiedClaims, now: Date): boolean {
  const seconds = Math.floor(now.getTime() / 1000);
  return (claims.exp === undefined || claims.exp > seconds) && (claims.nbf === undefined || claims.nbf <= seconds);
}

interface Route {
  method: string;
  pattern: RegExp;
  operation: string;
  run: (caller: GraphCaller, request: SimRequest, match: RegExpMatchArray) => SimResponse | Promise<SimResponse>;
}

const unauthorized = (message: string) =>
  new GraphFailure(401, 'InvalidAuthenticationToken', message, {
    'www-authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
  });

/** What the server needs back besides the response: whom to count the bytes against. */
export interface GraphOutcome {
  response: SimResponse;
  tenant: SimTenant | undefined;
}

/**
 * Microsoft Graph v1.0: validates the bearer token, applies the tenant's faults and throttling, and
 * dispatches to the resource handlers. `$batch` runs its requests through the same dispatch.
 */
export class GraphService {
  private readonly throttle: ResourceUnitThrottle;
  private readonly routes: Route[];

  constructor(
    private readonly context: GraphContext,
    private readonly keys: SigningKeys,
    private readonly random: SeededRandom,
  ) {
    this.throttle = new ResourceUnitThrottle(context.clock);
    const c = context;
    this.routes = [
      { method: 'GET', pattern: /^\/users\/?$/, operation: 'users.list', run: (caller, r) => listUsers(c, caller, r) },
      { method: 'GET', pattern: /^\/users\/\$count$/, operation: 'users.count', run: (caller, r) => countUsers(caller, r) },
      {
        method: 'GET',
        pattern: /^\/users\/(?:microsoft\.graph\.)?delta(?:\(\))?$/,
        operation: 'users.delta',
        run: (caller, r) => usersDelta(c, caller, r),
      },
      {
        method: 'POST',
        pattern: /^\/users\/([^/]+)\/(?:microsoft\.graph\.)?revokeSignInSessions$/,
        operation: 'users.revokeSignInSessions',
        run: (caller, r, m) => revokeSignInSessions(c, caller, r, m[1] ?? ''),
      },
      { method: 'GET', pattern: /^\/users\/([^/]+)$/, operation: 'users.get', run: (caller, r, m) => getUser(caller, r, m[1] ?? '') },
      {
        method: 'PATCH',
        pattern: /^\/users\/([^/]+)$/,
        operation: 'users.update',
        run: (caller, r, m) => updateUser(c, caller, r, m[1] ?? ''),
      },
      {
        method: 'GET',
        pattern: /^\/auditLogs\/directoryAudits$/,
        operation: 'auditLogs.directoryAudits',
        run: (caller, r) => listDirectoryAudits(c, caller, r),
      },
      { method: 'GET', pattern: /^\/organization$/, operation: 'organization', run: (caller, r) => getOrganization(caller, r) },
      {
        method: 'GET',
        pattern: /^\/applications\(appId='\{?([^'}]+)\}?'\)$/,
        operation: 'applications.get',
        run: (caller, r, m) => getApplicationByAppId(caller, r, m[1] ?? ''),
      },
      {
        method: 'GET',
        pattern: /^\/tenantRelationships\/delegatedAdminCustomers\/?$/,
        operation: 'tenantRelationships.delegatedAdminCustomers',
        run: (caller, r) => listDelegatedAdminCustomers(c, caller, r),
      },
      { method: 'POST', pattern: /^\/\$batch$/, operation: 'batch', run: (caller, r) => this.batch(caller, r) },
    ];
  }

  /**
   * Tokens whose signature and audience were checked, by their text: as Graph's front end does, a
   * token's signature is checked once, not on each of its hundreds of requests (an RSA verification on
   * a thread of the pool, then a turn of the event loop, for each page of a sync). Its lifetime is
   * checked on every request against the simulator's clock; one past it goes through the full check again,
   * which answers why it is refused.
   */
  readonly #verified = new Map<string, VerifiedClaims>();

  async handle(request: SimRequest): Promise<GraphOutcome> {
    let tenant: SimTenant | undefined;
    try {
      const caller = await this.authenticate(request);
      tenant = caller.tenant;
      const faulted = await this.injectFaults(caller.tenant);
      if (faulted) return { response: faulted, tenant };
      const response = await this.dispatch(caller, request, true);
      if (response.status < 400 && this.roll(caller.tenant.faults.malformedRate, caller.tenant)) {
        return { response: { ...response, status: 200, fault: 'malformed' }, tenant };
      }
      return { response, tenant };
    } catch (error) {
      if (error instanceof GraphFailure) return { response: graphErrorResponse(error, request, this.context.clock.date()), tenant };
      throw error;
    }
  }

  private async authenticate(request: SimRequest): Promise<GraphCaller> {
    const header = request.headers.authorization ?? '';
    const token = header.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw unauthorized('Access token is empty.');
    const claims = await this.verifiedClaims(token);
    const tenant = this.context.directory.find(claims.tid);
    const app = tenant && (tenant.findApp(claims.appid) ?? this.context.directory.consentedApp(tenant, claims.appid));
    if (!tenant || !app) throw unauthorized('Access token validation failure. Invalid issuer or signature.');
    return { tenant, app, appId: app.appId, roles: new Set(claims.roles ?? []) };
  }

  private async verifiedClaims(token: string): Promise<VerifiedClaims> {
    const now = this.context.clock.date();
    const known = this.#verified.get(token);
    if (known && inLifetime(known, now)) return known;
    let claims: VerifiedClaims;
    try {
      const { payload } = await jwtVerify(token, this.keys.publicKey, {
        algorithms: ['RS256'],
        audience: [graphAudience, '00000003-0000-0000-c000-000000000000'],
        currentDate: now,
      });
      claims = payload as unknown as VerifiedClaims;
    } catch (error) {
      this.#verified.delete(token);
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw unauthorized('Access token has expired or is not yet valid.');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw unauthorized('Access token validation failure. Invalid audience.');
      throw unauthorized('Access token validation failure.');
    }
    if (this.#verified.size >= maxVerifiedTokens) this.#verified.delete(this.#verified.keys().next().value as string);
    this.#verified.set(token, claims);
    return claims;
  }

  private roll(rate: number, tenant: SimTenant): boolean {
    if (rate <= 0 || this.random.next() >= rate) return false;
    tenant.counters.faultsInjected++;
    return true;
  }

  private async injectFaults(tenant: SimTenant): Promise<SimResponse | undefined> {
    const faults = tenant.faults;
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (this.roll(faults.resetRate, tenant)) return { status: 0, fault: 'reset' };
    if (this.roll(faults.errorRate, tenant)) {
      const codes = { 500: 'generalException', 502: 'badGateway', 503: 'serviceNotAvailable', 504: 'gatewayTimeout' } as const;
      throw new GraphFailure(faults.errorStatus, codes[faults.errorStatus], 'The service is temporarily unavailable. Please try again later.');
    }
    return undefined;
  }

  private async dispatch(caller: GraphCaller, request: SimRequest, topLevel: boolean): Promise<SimResponse> {
    const path = request.path.replace(/^\/v1\.0/, '');
    const candidates = this.routes.filter((route) => route.pattern.test(path));
    const route = candidates.find((r) => r.method === request.method);
    if (!route) {
      if (candidates.length > 0) throw new GraphFailure(405, 'Request_BadRequest', `The HTTP method '${request.method}' is not allowed for this resource.`);
      throw badRequest(`Resource not found for the segment '${path.split('/')[1] ?? path}'.`);
    }
    if (route.operation === 'batch' && !topLevel) throw badRequest('A batch request cannot contain another batch.');
    const tenant = caller.tenant;
    tenant.counters.graphRequests++;
    tenant.counters.byOperation[route.operation] = (tenant.counters.byOperation[route.operation] ?? 0) + 1;
    let throttleHeaders: Record<string, string> = {};
    if (route.operation !== 'batch') {
      try {
        throttleHeaders = this.throttle.charge(tenant, caller.appId, this.cost(route.operation, request));
      } catch (error) {
        if (error instanceof GraphFailure && error.status === 429) tenant.counters.throttled++;
        throw error;
      }
    }
    const response = await route.run(caller, request, path.match(route.pattern) as RegExpMatchArray);
    return { ...response, headers: { ...throttleHeaders, ...response.headers } };
  }

  /**
   * Graph's published cost table for the directory: `GET users` (the list) costs 2, any other read 1,
   * any write 1 plus a write; `$select` takes 1 off, `$top` under 20 takes 1 off, never below 1.
   */
  private cost(operation: string, request: SimRequest): RequestCost {
    if (request.method !== 'GET') return { resourceUnits: 1, writes: 1 };
    if (operation !== 'users.list') return { resourceUnits: 1, writes: 0 };
    let units = request.query.has('$select') ? 1 : 2;
    const top = Number(request.query.get('$top'));
    if (Number.isInteger(top) && top > 0 && top < 20) units -= 1;
    return { resourceUnits: Math.max(1, units), writes: 0 };
  }

  /** JSON batching: up to 20 requests, each answered (and throttled) on its own, `dependsOn` honoured. */
  private async batch(caller: GraphCaller, request: SimRequest): Promise<SimResponse> {
    const body = parseBatch(request);
    const byId = new Map<string, SimResponse>();
    const responses: Array<{ id: string; status: number; headers: Record<string, string>; body?: unknown }> = [];
    for (const item of body.requests) {
      const failedDependency = (item.dependsOn ?? []).find((id) => (byId.get(id)?.status ?? 424) >= 400);
      let response: SimResponse;
      if (failedDependency !== undefined) {
        response = graphErrorResponse(
          new GraphFailure(424, 'FailedDependency', `The request depends on request '${failedDependency}', which failed.`),
          request,
          this.context.clock.date(),
        );
      } else {
        response = await this.runBatchItem(caller, request, item);
      }
      byId.set(item.id, response);
      const headers: Record<string, string> = { ...response.headers };
      if (response.body !== undefined) headers['content-type'] = 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';
      responses.push({ id: item.id, status: response.status, headers, ...(response.body !== undefined ? { body: response.body } : {}) });
    }
    return json(200, { responses });
  }

  private async runBatchItem(caller: GraphCaller, outer: SimRequest, item: BatchItem): Promise<SimResponse> {
    const url = new URL(item.url.startsWith('/') ? item.url : `/${item.url}`, 'https://batch.invalid');
    const inner: SimRequest = {
      method: item.method.toUpperCase(),
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: { ...outer.headers, ...lowerCaseKeys(item.headers ?? {}) },
      body: item.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(item.body)),
      origin: outer.origin,
    };
    try {
      if (/^\/?v1\.0\//.test(item.url) || /^https?:/i.test(item.url)) {
        throw badRequest('Batch request urls must be relative and must not include the version.');
      }
      return await this.dispatch(caller, inner, false);
    } catch (error) {
      if (error instanceof GraphFailure) return graphErrorResponse(error, inner, this.context.clock.date());
      throw error;
    }
  }
}

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function parseBatch(request: SimRequest): { requests: BatchItem[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw badRequest('Invalid batch payload format.');
  }
  const requests = (parsed as { requests?: unknown }).requests;
  if (!Array.isArray(requests) || requests.length === 0) throw badRequest('Invalid batch payload format.');
  if (requests.length > maxBatchRequests) {
    throw badRequest(`The number of requests in the batch exceeds the maximum of ${maxBatchRequests}.`);
  }
  const ids = new Set<string>();
  for (const item of requests as BatchItem[]) {
    if (typeof item !== 'object' || item === null || typeof item.id !== 'string' || typeof item.method !== 'string' || typeof item.url !== 'string') {
      throw badRequest('Invalid batch payload format: each request needs an id, a method and a url.');
    }
    if (ids.has(item.id)) throw badRequest(`Batch request ids must be unique: '${item.id}' appears twice.`);
    ids.add(item.id);
  }
  return { requests: requests as BatchItem[] };
}
