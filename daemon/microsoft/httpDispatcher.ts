import type { Socket } from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { identityRequest } from './identityRequest';
import type { MicrosoftEndpoints } from './microsoftEndpoints';

/** How long the pool keeps an idle connection, and a connection opened ahead waits to be taken. */
const KEEP_ALIVE_MS = 10_000;

/**
 * Connections opened before any request needs them (`openConnectionsAhead`), handed to the pool when it
 * asks to connect to their origin; otherwise it connects as it would have.
 */
class ConnectionsAhead {
  readonly #connect: buildConnector.connector;
  /** Open and not yet taken, by origin. */
  readonly #waiting = new Map<string, Set<Socket>>();
  readonly #release = new Map<Socket, () => void>();

  constructor(connect: buildConnector.connector) {
    this.#connect = connect;
  }

  /** The pool's connector. */
  readonly connect: buildConnector.connector = (options, callback) => {
    const waiting = this.#waiting.get(originKey(options.protocol, options.hostname, options.port));
    for (const socket of waiting ?? []) {
      this.#take(socket);
      // Closed by the server meanwhile: the next one, or a new connection.
      if (socket.destroyed || !socket.writable) continue;
      callback(null, socket);
      return;
    }
    this.#connect(options, callback);
  };

  open(origin: URL, count: number): Promise<number> {
    // An IPv6 address without its brackets, as the pool gives it.
    const options = { hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'), host: origin.host, protocol: origin.protocol, port: origin.port, localAddress: null };
    const key = originKey(options.protocol, options.hostname, options.port);
    const opening = Array.from(
      { length: count },
      () =>
        new Promise<boolean>((resolve) => {
          this.#connect(options, (error, socket) => {
            // A failure is left to the first request to meet and report.
            if (error || !socket) return resolve(false);
            this.#keep(key, socket);
            resolve(true);
          });
        }),
    );
    return Promise.all(opening).then((opened) => opened.filter(Boolean).length);
  }

  #keep(key: string, socket: Socket): void {
    const waiting = this.#waiting.get(key) ?? new Set<Socket>();
    this.#waiting.set(key, waiting);
    waiting.add(socket);
    // Nobody waits on a connection nobody took: it neither keeps the daemon running nor outlives the pool's keep-alive.
    socket.unref();
    const ignore = (): void => undefined;
    const closed = (): void => this.#take(socket);
    const idle = setTimeout(() => socket.destroy(), KEEP_ALIVE_MS).unref();
    socket.on('error', ignore);
    socket.once('close', closed);
    this.#release.set(socket, () => {
      waiting.delete(socket);
      clearTimeout(idle);
      socket.off('error', ignore);
      socket.off('close', closed);
      socket.ref();
    });
  }

  #take(socket: Socket): void {
    this.#release.get(socket)?.();
    this.#release.delete(socket);
  }
}

function originKey(protocol: string, hostname: string, port: string): string {
  return `${protocol}//${hostname}:${port}`;
}

const connectionsAhead = new WeakMap<Agent, ConnectionsAhead>();

/**
 * One connection pool for every call to Microsoft, with the extra CA (if any) trusted alongside the
 * system's, and timeouts so a hung tenant cannot hold a sync forever.
 */
export function createHttpDispatcher(endpoints: MicrosoftEndpoints): Agent {
  const timeout = endpoints.requestTimeoutMs ?? 30_000;
  const ahead = new ConnectionsAhead(
    buildConnector({
      // One context for every connection: given `ca`, each TLS connection would parse every root
      // certificate again, which was most of the CPU of a restart against the simulator.
      ...(endpoints.caPem ? { secureContext: createSecureContext({ ca: [...rootCertificates, endpoints.caPem] }) } : {}),
      timeout: Math.min(timeout, 10_000),
    }),
  );
  const agent = new Agent({
    connect: ahead.connect,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    keepAliveTimeout: KEEP_ALIVE_MS,
    connections: 64,
  });
  connectionsAhead.set(agent, ahead);
  return agent;
}

/**
 * Opens `count` connections to `origin` now, which the pool takes when requests to it need them (within
 * its keep-alive time): a restart opens Graph's while the users load, as it asks the tenants' tokens then,
 * instead of at the start of its first round (several round trips to Microsoft each). Answers how many
 * opened; a failure is left to the first request to meet.
 */
export function openConnectionsAhead(dispatcher: Agent, origin: string, count: number): Promise<number> {
  return connectionsAhead.get(dispatcher)?.open(new URL(origin), count) ?? Promise.resolve(0);
}

/**
 * Loads Node's fetch classes (`Headers`, which the Graph client and `graphHttpHandler` use), which Node
 * otherwise loads on their first use by compiling its own copy of undici: about 15 ms of one turn of the
 * event loop. Left to the first Graph call, that turn falls in the first sync after a start, where an
 * operator's request (the next registration, a lock) waits for it; at start it is spent before the API answers.
 */
export function loadFetchClasses(): void {
  void globalThis.Headers;
}

/**
 * Opens a connection to the identity platform as the daemon starts, with its public discovery document
 * for work and school tenants: the TLS handshake (about 20 ms against the simulator on this machine's
 * class, several round trips to Microsoft) is then not paid inside the first sign-in, which is an
 * operator's registration right after a first start. The connection is pooled for its keep-alive time;
 * the answer itself is not used, and a failure (no network yet) is the first sign-in's to report. A start
 * with tenants asks their tokens at once instead, which opens the connections.
 */
export function connectAhead(dispatcher: Agent, endpoints: MicrosoftEndpoints): Promise<void> {
  return identityRequest(dispatcher, `${new URL(endpoints.authorityHost).origin}/organizations/v2.0/.well-known/openid-configuration`, { timeoutMs: 10_000 }).then(
    () => undefined,
    () => undefined,
  );
}
