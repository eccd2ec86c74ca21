import type { RequestHandler } from 'express';
import { roleAllows, tenantIdSchema } from '../../protocol/daemonApi';
import { AppError, type AppErrorDetails } from '../errors/AppError';
import { handleError, type ErrorSinks } from '../errors/handleError';
import type { Logger, LogFields } from '../logging/logger';
import { throttleRefusals } from '../logging/refusalThrottle';
import { callerOf } from './apiCaller';
import { matchApiRoute } from './apiRouteShapes';
import { routeAccess, routeKey, ROUTES_ACROSS_TENANTS } from './routeRoles';
import { mayReachTenant, type ScopedTenant } from './tenantScope';

export interface ApiAuthorizationOptions {
  sinks: ErrorSinks;
  /** The tenant a path names; throws TENANT_NOT_FOUND for one the daemon does not have. */
  findTenant: (id: string) => Promise<ScopedTenant>;
  refusalWindowMs?: number;
}

/**
 * Lets a request through only when the caller's role allows its route (`ROUTE_ROLES`) and, for a caller
 * restricted to some tenants, when the tenant it names is one of them. A tenant outside the restriction
 * is answered exactly as a tenant that does not exist (404), so an engineer cannot learn which other
 * customers the deployment serves. A refusal by role answers 403 naming the role needed and is written
 * to the system log, where the team sees it; like every refusal, repeats are counted, not written each.
 * A restricted caller is refused the routes about every customer (`ROUTES_ACROSS_TENANTS`) the same way.
 */
export function apiAuthorization(options: ApiAuthorizationOptions): RequestHandler {
  const { sinks } = options;
  const refusals = throttleRefusals(systemLogWriter(sinks), options.refusalWindowMs === undefined ? {} : { windowMs: options.refusalWindowMs });
  return (request, _response, next) => {
    const matched = matchApiRoute(request.method, request.path);
    // An unknown route is answered 404 further on; a route with bad parameters, by `requestShape`.
    if (!matched) {
      next();
      return;
    }
    const access = routeAccess(matched.shape);
    if (access === 'open') {
      next();
      return;
    }
    const caller = callerOf(request);
    const route = routeKey(matched.shape);
    const refuse = (message: string, details: AppErrorDetails): void => {
      const operation = `${request.method} ${request.path}`;
      const refusal = new AppError({ status: 403, code: 'FORBIDDEN', message, details });
      const handled = handleError(refusal, { source: 'http', operation }, sinks);
      refusals.warn(handled.message, {
        source: 'http',
        status: handled.status,
        code: handled.code,
        operation,
        errorId: handled.errorId,
        engineer: caller.name,
        requiredRole: access,
      });
      next(refusal);
    };
    if (!roleAllows(caller.role, access)) {
      refuse(`${caller.name} is ${article(caller.role)} ${caller.role}: ${route} needs the ${access} role.`, { requiredRole: access, role: caller.role });
      return;
    }
    if (caller.tenants !== null && ROUTES_ACROSS_TENANTS.has(route)) {
      refuse(`${caller.name} is restricted to some tenants: ${route} concerns every customer of the deployment and needs an engineer who is not.`, {
        requiredRole: access,
        role: caller.role,
        restricted: true,
      });
      return;
    }
    const tenantId = matched.params?.id;
    if (caller.tenants === null || tenantId === undefined || !tenantIdSchema.safeParse(tenantId).success) {
      next();
      return;
    }
    options.findTenant(tenantId).then(
      (tenant) =>
        next(mayReachTenant(caller, tenant) ? undefined : AppError.notFound('TENANT_NOT_FOUND', `No tenant with id ${tenantId}.`, { field: 'id' })),
      (error: unknown) => next(error),
    );
  };
}

function article(role: string): string {
  return /^[aeiou]/.test(role) ? 'an' : 'a';
}

/**
 * The system log as a logger for the refusal throttle: the first refusal of a kind, and the count of
 * the rest when its window ends, become system-log entries.
 */
function systemLogWriter(sinks: ErrorSinks): Logger {
  const write = (message: string, fields: LogFields = {}): void => {
    const errorId = typeof fields.errorId === 'string' ? fields.errorId : '';
    const details = {
      ...(typeof fields.engineer === 'string' ? { engineer: fields.engineer } : {}),
      ...(typeof fields.requiredRole === 'string' ? { requiredRole: fields.requiredRole } : {}),
      ...(typeof fields.operation === 'string' ? { operation: fields.operation } : {}),
      ...(typeof fields.refusedMore === 'number' ? { refusedMore: fields.refusedMore } : {}),
    };
    sinks.systemLog?.appendSystemLog({ level: 'warn', message, code: 'FORBIDDEN', errorId, source: 'http', details }).catch((error: unknown) => {
      sinks.logger.error('Could not write to the system log', { errorId, error });
    });
  };
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: write,
    error: write,
    child: () => logger,
  };
  return logger;
}
