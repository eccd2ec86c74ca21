import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors/AppError';

/**
 * Only this machine's processes that can read the daemon file may use the API:
 * - a `Host` other than our own loopback address and port is refused, so a web page cannot reach us
 *   through DNS rebinding;
 * - a request carrying `Origin` comes from a browser page and is refused (there is no CORS);
 * - every route but the health check needs the bearer token from the daemon file (0600).
 */
export function apiSecurity(options: { port: () => number; token: string; openPaths: readonly string[] }): RequestHandler {
  const expected = Buffer.from(options.token);
  return (request, _response, next) => {
    const port = options.port();
    const host = request.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      next(new AppError({ status: 421, code: 'FOREIGN_HOST', message: `Requests must be addressed to 127.0.0.1:${port}.` }));
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
    const given = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      next(new AppError({ status: 401, code: 'UNAUTHORIZED', message: 'A valid bearer token is required: read it from daemon.json in the data directory.' }));
      return;
    }
    next();
  };
}
