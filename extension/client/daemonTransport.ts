import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

/** What a request to a daemon needs beyond its URL: a certificate authority to trust, for a private CA. */
export interface DaemonTransportOptions {
  caPem?: string | undefined;
}

// Node's own error codes for a certificate it would not trust.
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * HTTP for a local daemon, HTTPS for a shared one, chosen by the URL. A given CA is trusted beside the
 * public ones, so a caFile setting never breaks a deployment whose certificate is public.
 */
export class DaemonTransport {
  readonly #maxSockets: number;
  #agent: { key: string; agent: HttpAgent | HttpsAgent } | undefined;

  constructor(options: { maxSockets?: number } = {}) {
    this.#maxSockets = options.maxSockets ?? 8;
  }

  /** A request on a pooled keep-alive connection; the pool is replaced when the protocol or CA changes. */
  request(url: URL, options: RequestOptions & DaemonTransportOptions, onResponse?: (response: IncomingMessage) => void): ClientRequest {
    const { caPem, ...rest } = options;
    const agent = this.#agentFor(url, caPem);
    return daemonRequest(url, { ...rest, agent, caPem }, onResponse);
  }

  dispose(): void {
    this.#agent?.agent.destroy();
    this.#agent = undefined;
  }

  #agentFor(url: URL, caPem: string | undefined): HttpAgent | HttpsAgent {
    const key = `${url.protocol}${caPem ?? ''}`;
    if (this.#agent?.key === key) return this.#agent.agent;
    this.#agent?.agent.destroy();
    const agent =
      url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: this.#maxSockets, ...(caPem ? { ca: trustedAuthorities(caPem) } : {}) })
        : new HttpAgent({ keepAlive: true, maxSockets: this.#maxSockets });
    this.#agent = { key, agent };
    return agent;
  }
}

/** One request, over http or https by the URL, trusting the given CA besides the public ones. */
export function daemonRequest(url: URL, options: RequestOptions & DaemonTransportOptions, onResponse?: (response: IncomingMessage) => void): ClientRequest {
  const { caPem, ...rest } = options;
  if (url.protocol === 'https:') return httpsRequest(url, { ...rest, ...(caPem ? { ca: trustedAuthorities(caPem) } : {}) }, onResponse);
  return httpRequest(url, rest, onResponse);
}

/** Why a connection failed, in words an engineer can act on; never contains what was sent. */
export function connectionFailureReason(error: Error & { code?: string }): string {
  if (error.code === 'ECONNREFUSED') return 'nothing is listening there';
  if (error.code !== undefined && UNTRUSTED_CERTIFICATE_CODES.has(error.code)) {
    return `its certificate is not trusted (${error.message}); set m365Status.shared.caFile to the PEM file of the certificate authority that issued it`;
  }
  return error.message;
}

function trustedAuthorities(caPem: string): string[] {
  return [...rootCertificates, caPem];
}
