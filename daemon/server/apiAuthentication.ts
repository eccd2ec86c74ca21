import type { IncomingHttpHeaders } from 'node:http';
import type { ApiCaller } from './apiCaller';

/**
 * How the API knows who is calling: the daemon file's token in local mode, an engineer's own token in
 * shared mode. `createDaemonApp` takes one, so each can be tested behind the same app.
 */
export interface ApiAuthentication {
  readonly mode: 'local' | 'shared';
  /** The caller a bearer token stands for, or undefined to refuse the request with 401. */
  authenticate(token: string, headers: IncomingHttpHeaders): Promise<ApiCaller | undefined>;
  /** What a refused caller is told to do. */
  readonly refusal: string;
}
