/**
 * A stand-in for a shared deployment's API, for the extension's tests only: the shared daemon (PostgreSQL
 * store, engineers, tokens, roles, HTTPS) is being built in the daemon separately, so until it is here
 * this small real HTTPS server answers the documented shapes of `protocol/daemonApi.ts` for the routes
 * the extension reads: `/v1/health`, `/v1/session`, `/v1/tenants`, a tenant's users (one enabled user,
 * adele), `/v1/tasks`, `/v1/events`, and a user's lock (to prove a reader's 403, and an operator's lock
 * reaching the event stream). Tokens are per engineer; an unknown or revoked one gets 401, a
 * role too low 403 with `details.requiredRole`. It records every request so tests can see what was sent.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { DaemonEvent, EngineerRole, SessionView, TenantView, UserView } from '../../../protocol/daemonApi';
import { engineerRoles } from '../../../protocol/daemonApi';
import type { ServerCredentials } from '../../../sim/tls/certificateAuthority';

export interface StandInEngineer {
  name: string;
  role: EngineerRole;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  operatorHeader: string | undefined;
}

export interface StandInOptions {
  /** HTTPS with this certificate; plain HTTP on loopback without. */
  tls?: ServerCredentials;
  /** What `/v1/session` says the deployment is. */
  mode?: SessionView['mode'];
  tenants?: TenantView[];
}

export class SharedDeploymentStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #engineers = new Map<string, StandInEngineer>();
  readonly #streams = new Set<{ token: string; response: ServerResponse }>();
  readonly #mode: SessionView['mode'];
  readonly #protocol: 'http' | 'https';
  readonly #tenants: TenantView[];
  readonly #runId = randomUUID().replace(/-/g, '').slice(0, 16);
  #seq = 0;

  private constructor(server: Server, options: StandInOptions) {
    this.#server = server;
    this.#mode = options.mode ?? 'shared';
    this.#protocol = options.tls ? 'https' : 'http';
    this.#tenants = options.tenants ?? [];
  }

  static async start(options: StandInOptions = {}): Promise<SharedDeploymentStandIn> {
    const server = options.tls ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }) : createHttpServer();
    const standIn = new SharedDeploymentStandIn(server, options);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => standIn.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `${this.#protocol}://127.0.0.1:${port}`;
  }

  /** Issues a token as `m365-status users add` would, shown once. */
  addEngineer(engineer: StandInEngineer): string {
    const token = `m365s_${randomUUID().replace(/-/g, '')}`;
    this.#engineers.set(token, engineer);
    return token;
  }

  /** Revokes a token: refused from now on, and its open event streams end. */
  revoke(token: string): void {
    this.#engineers.delete(token);
    for (const stream of [...this.#streams]) {
      if (stream.token === token) {
        stream.response.end();
        this.#streams.delete(stream);
      }
    }
  }

  /** Sends an event to every open stream. */
  publish(event: DaemonEvent): void {
    const id = `${this.#runId}-${++this.#seq}`;
    for (const { response } of this.#streams) response.write(`id: ${id}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  streamCount(): number {
    return this.#streams.size;
  }

  async stop(): Promise<void> {
    for (const { response } of this.#streams) response.destroy();
    this.#streams.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const authorization = request.headers.authorization;
    const operator = request.headers['x-m365-operator'];
    this.requests.push({ method: request.method ?? 'GET', path: url.pathname, authorization, operatorHeader: typeof operator === 'string' ? operator : undefined });
    if (url.pathname === '/v1/health') return json(response, 200, { ok: true, version: '0.1.0-stand-in' });
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const engineer = token === undefined ? undefined : this.#engineers.get(token);
    if (!token || !engineer) return json(response, 401, apiError('UNAUTHORIZED', 'The token is unknown or was revoked.'));
    const session: SessionView = { mode: this.#mode, engineer: { ...engineer, tenants: null } };
    if (request.method === 'GET' && url.pathname === '/v1/session') return json(response, 200, session);
    if (request.method === 'GET' && url.pathname === '/v1/tenants') return json(response, 200, { tenants: this.#tenants });
    if (request.method === 'GET' && /^\/v1\/tenants\/[^/]+\/users$/.test(url.pathname)) {
      return json(response, 200, { users: [userView('adele', null)], total: 1, offset: 0, limit: 200 });
    }
    if (request.method === 'GET' && url.pathname === '/v1/tasks') return json(response, 200, { entries: [] });
    if (request.method === 'GET' && url.pathname === '/v1/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write(`event: hello\ndata: ${JSON.stringify({ version: '0.1.0-stand-in', runId: this.#runId, resumed: false, lastEventId: null })}\n\n`);
      const stream = { token, response };
      this.#streams.add(stream);
      request.on('close', () => this.#streams.delete(stream));
      return undefined;
    }
    const lock = /^\/v1\/tenants\/([^/]+)\/users\/([^/]+)\/lock$/.exec(url.pathname);
    if (request.method === 'POST' && lock) {
      request.resume();
      if (engineerRoles.indexOf(engineer.role) < engineerRoles.indexOf('operator')) {
        return json(response, 403, apiError('FORBIDDEN', `${engineer.name} (${engineer.role}) may not lock users.`, { requiredRole: 'operator' }));
      }
      const user = userView(decodeURIComponent(lock[2] as string), engineer.name);
      this.publish({ type: 'users', tenantId: decodeURIComponent(lock[1] as string), users: [user], removedUserIds: [] });
      return json(response, 200, { outcome: 'locked', user, activity: null });
    }
    return json(response, 404, apiError('NOT_FOUND', `No route ${request.method} ${url.pathname}.`));
  }
}

function json(response: ServerResponse, status: number, body: unknown): undefined {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
  return undefined;
}

function apiError(code: string, message: string, details?: Record<string, unknown>): unknown {
  return { error: { code, message, ...(details ? { details } : {}), errorId: randomUUID() } };
}

/** A user, locked by the engineer named, or enabled when none is. */
function userView(id: string, lockedBy: string | null): UserView {
  const now = Date.now();
  return {
    id,
    userPrincipalName: `${id}@contoso.onmicrosoft.com`,
    displayName: id,
    accountEnabled: lockedBy === null,
    onPremisesSyncEnabled: false,
    state: lockedBy === null ? 'enabled' : 'locked',
    lastChangedAt: now,
    lastVerifiedAt: now,
    lock: lockedBy === null ? null : { by: lockedBy, at: now, revokedSessions: false },
  };
}
