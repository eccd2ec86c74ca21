import type { Request, RequestHandler } from 'express';
import { AppError } from '../errors/AppError';
import type { ApiAuthentication } from './apiAuthentication';
import { rememberCaller } from './apiCaller';

/** Which `Host` headers name this daemon. */
export interface HostRule {
  accepts(host: string): boolean;
  /** For the refusal: where requests must be addressed. */
  describe(): string;
}

/** Local mode: only our own loopback address and port, so a web page cannot reach us by DNS rebinding. */
export function loopbackHostRule(port: () => number): HostRule {
  return {
    accepts: (host) => host === `127.0.0.1:${port()}` || host === `localhost:${port()}`,
    describe: () => `127.0.0.1:${port()}`,
  };
}

/**
 * Shared mode: the names the deployment is reached by (`--public-host`), with or without a port. With
 * none configured any name is accepted: DNS rebinding only lends a web page the browser's network
 * position, and in shared mode that gets it nothing without an engineer's token, which no page holds.
 */
export function publicHostRule(names: readonly string[]): HostRule {
  const accepted = new Set(names.map((name) => name.toLowerCase()));
  return {
    accepts: (host) => accepted.size === 0 || accepted.has(host.toLowerCase()) || accepted.has(host.toLowerCase().replace(/:\d+$/, '')),
    describe: () => [...accepted].join(' or '),
  };
}

/** The token a request carries in `Authorization: Bearer …`; empty when it carries none. */
export function bearerToken(request: Pick<Request, 'headers'>): string {
  return /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
}

/**
 * Who may use the API:
 * - a `Host` the rule does not accept is refused;
 * - a request carrying `Origin` comes from a browser page and is refused (there is no CORS);
 * - every route but the open ones needs a bearer token the authentication accepts; the caller it names
 *   is remembered for authorisation and for the activities the request records.
 */
export function apiSecurity(options: { hosts: HostRule; authentication: ApiAuthentication; openPaths: readonly string[] }): RequestHandler {
  const { hosts, authentication } = options;
  return (request, _response, next) => {
    const host = request.headers.host ?? '';
    if (!hosts.accepts(host)) {
      next(new AppError({ status: 421, code: 'FOREIGN_HOST', message: `Requests must be addressed to ${hosts.describe()}.` }));
      return;
    }
    if (request.headers.origin !== undefined || request.headers['sec-fetch-site'] === 'cross-site') {
      next(new AppError({ status: 403, code: 'CROSS_ORIGIN', message: 'Browser requests from web pages are not accepted.' }));
      return;
    }
    if (options.openPaths.includes(request.path)) {
      next();
      return;
    }
    authentication.authenticate(bearerToken(request), request.headers).then(
      (caller) => {
        if (!caller) {
          next(new AppError({ status: 401, code: 'UNAUTHORIZED', message: authentication.refusal }));
          return;
        }
        rememberCaller(request, caller);
        next();
      },
      (error: unknown) => next(error),
    );
  };
}
