import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent } from 'undici';
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
