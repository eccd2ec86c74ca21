import type { Agent } from 'undici';

/** An answer of the identity platform, read whole. */
export interface IdentityAnswer {
  status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  headers: Record<string, string>;
  text: string;
}

export interface IdentityRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Ends the request, whatever stage it is in, after this long. */
  timeoutMs?: number;
}

/**
 * One request to the identity platform on our connection pool, read whole. `Agent.request` rather than
 * `fetch`: fetch's WHATWG machinery (request and response objects, body streams) costs more CPU than the
 * request itself (1.3-1.5 against 0.5 ms a request for the same document), and a restart asks every
 * tenant's token at once. A failure is the network error itself (with its code), not fetch's
 * `fetch failed` around it. Redirects are not followed: the identity platform answers these endpoints
 * directly.
 */
export async function identityRequest(dispatcher: Agent, url: string, options: IdentityRequestOptions = {}): Promise<IdentityAnswer> {
  const target = new URL(url);
  const answer = await dispatcher.request({
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.timeoutMs ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: answer.statusCode, headers, text: await answer.body.text() };
}
