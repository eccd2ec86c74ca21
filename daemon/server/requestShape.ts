import type { Request, RequestHandler } from 'express';
import express from 'express';
import type { ZodError } from 'zod';
import { LIMITS, operatorHeaderSchema } from '../../protocol/daemonApi';
import { AppError } from '../errors/AppError';
import { matchApiRoute, type ApiRouteShape } from './apiRouteShapes';

const JSON_TYPE = 'application/json';
const CSV_TYPE = 'text/csv';

/** Whether bytes follow the headers: a non-zero length, or a chunked body (which may still be empty). */
function announcesBody(request: Request): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true;
  const length = request.headers['content-length'];
  return length !== undefined && length !== '0';
}

function mediaType(request: Request): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function unsupportedMediaType(shape: ApiRouteShape, given: string): AppError {
  return new AppError({
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: `${shape.method} ${shape.path.replace('\\:', ':')} takes a JSON body${shape.body === 'json-or-csv' ? ` or a CSV one (${CSV_TYPE})` : ''}: send it with Content-Type: ${JSON_TYPE}${given ? ` (not ${given.slice(0, 100)})` : ''}.`,
    details: { field: 'Content-Type', expected: JSON_TYPE },
  });
}

function bodyNotAccepted(shape: ApiRouteShape): AppError {
  return AppError.badRequest('BODY_NOT_ACCEPTED', `${shape.method} ${shape.path} takes no request body; send none.`, { field: 'body' });
}

/** A field's issue as the 400 names it: the parameter, query field or header, never its value. */
function invalid(error: ZodError, where: string): AppError {
  const issue = error.issues[0];
  const unknownKeys = issue?.code === 'unrecognized_keys' ? issue.keys.map((key) => key.slice(0, 64)).join(', ') : '';
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : unknownKeys || where;
  return AppError.badRequest('VALIDATION_FAILED', `Invalid value for "${field}": ${issue?.message ?? 'not valid'}`, { field });
}

const readRawBody = express.raw({ type: () => true, limit: LIMITS.requestBodyMaxBytes });

/**
 * Holds every request to the shape of the route it reaches before the route runs: the operator header,
 * path parameters and query through the protocol's schemas, and the body's presence and content type.
 * A route that takes a body refuses anything but JSON with 415 (rather than run with defaults); a route
 * that takes none refuses one it would ignore. An empty JSON object counts as no body, since nothing in
 * it could be ignored (clients send `{}` to the action routes that take none).
 */
export function requestShape(options: { operatorHeader: boolean } = { operatorHeader: true }): RequestHandler {
  return (request, response, next) => {
    // Only local mode reads the operator header; shared mode ignores it, and so does not judge it.
    const operator = options.operatorHeader ? request.headers['x-m365-operator'] : undefined;
    if (operator !== undefined) {
      const checked = operatorHeaderSchema.safeParse(operator);
      if (!checked.success) {
        next(invalid(checked.error, 'X-M365-Operator'));
        return;
      }
    }
    const matched = matchApiRoute(request.method, request.path);
    if (!matched) {
      next();
      return;
    }
    const { shape, params } = matched;
    if (params === undefined) {
      next(AppError.badRequest('VALIDATION_FAILED', 'A path parameter is not valid percent-encoding.', { field: 'path' }));
      return;
    }
    if (shape.params) {
      const checked = shape.params.safeParse(params);
      if (!checked.success) {
        const field = checked.error.issues[0]?.path.map(String).join('.') ?? 'path';
        // Tenant ids are UUIDs the daemon gave: anything else names no tenant it has, as an unknown one.
        next(
          field === 'id'
            ? AppError.notFound('TENANT_NOT_FOUND', 'No tenant with this id: tenant ids are the UUIDs the daemon gave when registering them.', { field: 'id' })
            : field === 'profileId'
              ? AppError.notFound('APP_PROFILE_NOT_FOUND', 'No app profile with this id: app profile ids are the UUIDs the daemon gave them.', { field: 'profileId' })
              : invalid(checked.error, field),
        );
        return;
      }
    }
    if (shape.query) {
      const checked = shape.query.safeParse(request.query);
      if (!checked.success) {
        next(invalid(checked.error, 'query'));
        return;
      }
    }
    const hasBody = announcesBody(request);
    const type = mediaType(request);
    if (shape.body === 'none') {
      if (!hasBody) {
        next();
        return;
      }
      readRawBody(request, response, (error?: unknown) => {
        if (error) {
          next(error);
          return;
        }
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        request.body = undefined;
        const emptyObject = type === JSON_TYPE && /^\s*\{\s*\}\s*$/.test(raw.toString('utf8'));
        next(raw.length === 0 || emptyObject ? undefined : bodyNotAccepted(shape));
      });
      return;
    }
    if (shape.body === 'json-or-csv') {
      next(type === JSON_TYPE || type === CSV_TYPE ? undefined : unsupportedMediaType(shape, type));
      return;
    }
    if (hasBody ? type !== JSON_TYPE : shape.body === 'json') {
      next(unsupportedMediaType(shape, type));
      return;
    }
    next();
  };
}
