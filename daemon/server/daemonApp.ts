import express, { type Express } from 'express';
import { AppError } from '../errors/AppError';
import { LIMITS } from '../../protocol/daemonApi';
import { errorMiddleware } from '../errors/errorMiddleware';
import type { ErrorSinks } from '../errors/handleError';
import type { ForegroundRequests } from '../foregroundRequests';
import type { ApiAuthentication } from './apiAuthentication';
import { apiAuthorization } from './apiAuthorization';
import { apiSecurity, type HostRule } from './apiSecurity';
import type { DaemonServices } from './daemonServices';
import { requestShape } from './requestShape';
import { reportServerTiming } from './serverTiming';
import { activityRoutes } from './routes/activityRoutes';
import { appProfileRoutes } from './routes/appProfileRoutes';
import { eventRoutes } from './routes/eventRoutes';
import { tenantBatchRoutes } from './routes/tenantBatchRoutes';
import { sessionRoutes } from './routes/sessionRoutes';
import { tenantRoutes } from './routes/tenantRoutes';

export interface DaemonAppOptions {
  services: DaemonServices;
  sinks: ErrorSinks;
  /** Who is calling: the daemon file's token (local mode) or engineers' tokens (shared mode). */
  authentication: ApiAuthentication;
  /** Which `Host` headers name this daemon. */
  hosts: HostRule;
  /** Keeps open event streams so shutdown can end them. */
  trackStream: (close: () => void) => () => void;
  /** How often an open event stream is kept alive and its token checked again; 15 s by default. */
  eventStreamHeartbeatMs?: number;
  /** Where each request is marked in flight while it is answered: this daemon's syncs give way to them. */
  foregroundRequests: ForegroundRequests;
}

/** The Express app, apart from `listen()` so tests and the daemon build it the same way. */
export function createDaemonApp(options: DaemonAppOptions): Express {
  const { services, sinks, foregroundRequests } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use((request, response, next) => {
    // An event stream stays open for as long as its client: it would hold every sync at its bound, and
    // its headers go out before anything happens.
    if (request.path !== '/v1/events') {
      const end = foregroundRequests.begin();
      response.once('finish', end);
      response.once('close', end);
      reportServerTiming(response);
    }
    next();
  });
  app.use(apiSecurity({ hosts: options.hosts, authentication: options.authentication, openPaths: ['/v1/health'] }));
  app.use(apiAuthorization({ sinks, findTenant: (id) => services.tenants.get(id) }));
  app.use(requestShape({ operatorHeader: options.authentication.mode === 'local' }));
  app.use(express.json({ limit: LIMITS.requestBodyMaxBytes, strict: true, type: 'application/json' }));
  app.get('/v1/health', (_request, response) => {
    response.json({ ok: true, version: services.version });
  });
  app.use('/v1', tenantBatchRoutes(services));
  app.use('/v1', sessionRoutes(options.authentication));
  app.use('/v1', tenantRoutes(services));
  app.use('/v1', appProfileRoutes(services));
  app.use('/v1', activityRoutes(services));
  app.use(
    '/v1',
    eventRoutes(services, {
      track: options.trackStream,
      authentication: options.authentication,
      ...(options.eventStreamHeartbeatMs === undefined ? {} : { heartbeatMs: options.eventStreamHeartbeatMs }),
    }),
  );
  app.use((request, _response, next) => {
    next(AppError.notFound('NOT_FOUND', `No route ${request.method} ${request.path}.`));
  });
  app.use(errorMiddleware(sinks));
  return app;
}
