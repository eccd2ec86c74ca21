import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import { identityRequest } from './identityRequest';
import type { MicrosoftEndpoints } from './microsoftEndpoints';

/**
 * One connection pool for every call to Microsoft, with the extra CA (if any) trusted alongside the
 * system's, and timeouts so a hung tenant cannot hold a sync forever.
 */
export function createHttpDispatcher(endpoints: MicrosoftEndpoints): Agent {
  const timeout = endpoints.requestTimeoutMs ?? 30_000;
  return new Agent({
    connect: {
      // One context for every connection: given `ca`, each TLS connection would parse every root
      // certificate again, which was most of the CPU of a restart against the simulator.
      ...(endpoints.caPem ? { secureContext: createSecureContext({ ca: [...rootCertificates, endpoints.caPem] }) } : {}),
      timeout: Math.min(timeout, 10_000),
    },
    headersTimeout: timeout,
    bodyTimeout: timeout,
    keepAliveTimeout: 10_000,
    connections: 64,
  });
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
