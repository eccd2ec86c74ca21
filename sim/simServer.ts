import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ControlApi } from './control/controlApi';
import { SimDirectory } from './directory/simDirectory';
import type { SimTenant } from './directory/simTenant';
import { GraphService } from './graph/graphService';
import { LinkTokens } from './graph/linkTokens';
import type { SimRequest, SimResponse } from './http/simExchange';
import { AdminConsent } from './identity/adminConsent';
import { IdentityPlatform } from './identity/identityPlatform';
import { SigningKeys } from './identity/signingKeys';
import { SeededRandom } from './seededRandom';
import { SimClock } from './simClock';
import { createServerCredentials } from './tls/certificateAuthority';

const maxBodyBytes = 4 * 1024 * 1024;

export interface SimServerOptions {
  host?: string;
  /** Graph's and the control API's port (and the identity platform's too); 0 picks a free port. */
  port?: number;
  /** The identity platform's own port, as Microsoft serves it from a host of its own; 0 (the default) picks a free one. */
  identityPort?: number;
  /** Seeds fault injection, so a faulty run can be replayed. */
  seed?: number;
  /**
   * Told of every request once answered: what a test watching several clients of one simulator reads
   * (which caller asked Graph for what, and when), beyond the per-tenant counters.
   */
  observe?: (request: ObservedRequest) => void;
}

/** A request the simulator answered, as `SimServerOptions.observe` is told of it. */
export interface ObservedRequest {
  /** When the answer was written (`Date.now()`). */
  at: number;
  method: string;
  path: string;
  status: number;
  /** The tenant the request was for, where the simulator knew it. */
  tenantId: string | null;
  /** The caller's `Authorization` header as sent: each client holds tokens of its own. */
  authorization: string | undefined;
}

/**
 * The simulator: the identity platform, Graph v1.0 and the control API on one HTTPS port, and the identity
 * platform alone on a second one, with a certificate authority made at start that clients are told to trust.
 *
 * Microsoft serves sign-ins and Graph from different hosts (`login.microsoftonline.com`,
 * `graph.microsoft.com`), so a client keeps one pool of connections for each: a token request never waits for
 * a connection that is downloading Graph pages. A client given `identityUrl` as its authority keeps them
 * apart here too; the first port answers the identity platform as well, for a client given one URL.
 */
export class SimServer {
  readonly clock = new SimClock();
  readonly directory = new SimDirectory(this.clock);
  private server: Server | undefined;
  private identityServer: Server | undefined;
  private identity!: IdentityPlatform;
  private adminConsent!: AdminConsent;
  private graph!: GraphService;
  private control!: ControlApi;
  caPem = '';
  url = '';
  /** The identity platform's own origin: an authority host whose connections carry sign-ins alone. */
  identityUrl = '';
  /** Connections accepted on each port since the start: what a test of a client's connection pool reads. */
  readonly connectionsAccepted = { main: 0, identity: 0 };

  private constructor(private readonly options: SimServerOptions) {}

  static async start(options: SimServerOptions = {}): Promise<SimServer> {
    const sim = new SimServer(options);
    await sim.listen();
    return sim;
  }

  private async listen(): Promise<void> {
    const credentials = await createServerCredentials();
    this.caPem = credentials.caPem;
    const keys = new SigningKeys();
    await keys.warmUp();
    this.identity = new IdentityPlatform(this.directory, keys, this.clock);
    this.adminConsent = new AdminConsent(this.directory, this.clock);
    this.graph = new GraphService(
      { directory: this.directory, clock: this.clock, linkTokens: new LinkTokens() },
      keys,
      new SeededRandom(this.options.seed ?? 1),
    );
    this.control = new ControlApi(this.directory, this.clock, this.caPem);
    const host = this.options.host ?? '127.0.0.1';
    const listen = async (port: number, identityOnly: boolean): Promise<{ server: Server; url: string }> => {
      const server = createServer({ key: credentials.keyPem, cert: credentials.certPem }, (req, res) => {
        this.serve(req, res, identityOnly).catch((error: unknown) => {
          process.stderr.write(`sim: ${(error as Error).stack ?? String(error)}\n`);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'generalException', message: 'The simulator failed on this request.' } }));
        });
      });
      server.keepAliveTimeout = 30_000;
      server.on('connection', () => this.connectionsAccepted[identityOnly ? 'identity' : 'main']++);
      server.listen(port, host);
      await once(server, 'listening');
      return { server, url: `https://${host}:${(server.address() as AddressInfo).port}` };
    };
    const main = await listen(this.options.port ?? 0, false);
    this.server = main.server;
    this.url = main.url;
    try {
      const identity = await listen(this.options.identityPort ?? 0, true);
      this.identityServer = identity.server;
      this.identityUrl = identity.url;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** The authority host msal-node must list in `knownAuthorities`. */
  get authorityHost(): string {
    return new URL(this.url).host;
  }

  async stop(): Promise<void> {
    const servers = [this.server, this.identityServer].filter((server): server is Server => server !== undefined);
    this.server = undefined;
    this.identityServer = undefined;
    await Promise.all(
      servers.map((server) => {
        const closed = once(server, 'close');
        server.close();
        server.closeAllConnections();
        return closed;
      }),
    );
  }

  /** `identityOnly`: the identity platform's own host, which serves neither Graph nor the control API. */
  private async serve(req: IncomingMessage, res: ServerResponse, identityOnly: boolean): Promise<void> {
    const request = await readRequest(req, identityOnly ? this.identityUrl : this.url);
    if (!request) {
      write(res, { status: 413, body: { error: { code: 'RequestEntityTooLarge', message: 'The request body is too large.' } } }, request);
      return;
    }
    const path = request.path;
    let response: SimResponse;
    let tenant: SimTenant | undefined;
    let match: RegExpMatchArray | null;
    if (identityOnly && (path.startsWith('/_sim/') || path.startsWith('/v1.0/'))) {
      response = { status: 404, body: { error: { code: 'NotFound', message: `The identity platform's host serves no ${path.startsWith('/_sim/') ? 'control API' : 'Graph'}: ${request.method} ${path}.` } } };
    } else if (path.startsWith('/_sim/')) {
      response = await this.control.handle(request);
    } else if (path.startsWith('/v1.0/')) {
      ({ response, tenant } = await this.graph.handle(request));
    } else if ((match = path.match(/^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/)) && request.method === 'GET') {
      response = this.identity.openidConfiguration(request, match[1] ?? '');
    } else if ((match = path.match(/^\/([^/]+)\/oauth2\/v2\.0\/token$/)) && request.method === 'POST') {
      const segment = match[1] ?? '';
      tenant = this.directory.find(segment);
      response = await this.identity.token(request, segment);
    } else if ((match = path.match(/^\/([^/]+)\/v2\.0\/adminconsent$/)) && request.method === 'GET') {
      response = this.adminConsent.page(request, match[1] ?? '');
    } else if ((match = path.match(/^\/([^/]+)\/v2\.0\/adminconsent$/)) && request.method === 'POST') {
      response = this.adminConsent.decide(request, match[1] ?? '');
    } else if (path.match(/^\/[^/]+\/discovery\/v2\.0\/keys$/) && request.method === 'GET') {
      response = await this.identity.jwks();
    } else {
      response = { status: 404, body: { error: { code: 'NotFound', message: `Nothing is served at ${request.method} ${path}.` } } };
    }
    const bytes = write(res, response, request);
    if (tenant) tenant.counters.bytesServed += bytes;
    this.options.observe?.({
      at: Date.now(),
      method: request.method,
      path,
      status: response.status,
      tenantId: tenant?.id ?? null,
      authorization: request.headers['authorization'],
    });
  }
}

async function readRequest(req: IncomingMessage, fallbackOrigin: string): Promise<SimRequest | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  const origin = req.headers.host ? `https://${req.headers.host}` : fallbackOrigin;
  const url = new URL(req.url ?? '/', origin);
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return {
    method: req.method ?? 'GET',
    path: decodeURIComponent(url.pathname),
    query: url.searchParams,
    headers,
    body: Buffer.concat(chunks),
    origin,
  };
}

/** Writes the response (or misbehaves as its fault says) and answers how many body bytes went out. */
function write(res: ServerResponse, response: SimResponse, request: SimRequest | undefined): number {
  if (response.fault === 'reset') {
    res.socket?.destroy();
    return 0;
  }
  const isText = typeof response.body === 'string';
  let payload = response.body === undefined ? '' : isText ? (response.body as string) : JSON.stringify(response.body);
  const headers: Record<string, string> = {
    date: new Date().toUTCString(),
    'request-id': randomUUID(),
    'client-request-id': request?.headers['client-request-id'] ?? randomUUID(),
    ...response.headers,
  };
  if (response.body !== undefined && !headers['content-type']) {
    headers['content-type'] = isText ? 'text/plain' : 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
  }
  // A body cut short, as a proxy that drops a connection mid-answer leaves it.
  if (response.fault === 'malformed') payload = payload.slice(0, Math.max(1, Math.floor(payload.length / 2)));
  const body = Buffer.from(payload, 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
  return body.length;
}
