/** A request as the simulator's handlers see it, independent of the socket it came on. */
export interface SimRequest {
  method: string;
  /** Decoded path, without the query. */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** `https://host:port`, for absolute links. */
  origin: string;
}

/** What a handler answers; the server writes it, or misbehaves as `fault` says. */
export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** A JSON value, or text written as it is. */
  body?: unknown;
  fault?: 'reset' | 'malformed';
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, body, headers };
}

export function parseJsonBody(request: SimRequest): unknown {
  if (request.body.length === 0) return undefined;
  return JSON.parse(request.body.toString('utf8'));
}
