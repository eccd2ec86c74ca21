import { randomUUID } from 'node:crypto';
import type { SimRequest, SimResponse } from '../http/simExchange';

/** A Graph error on its way to the caller, in Graph's error-body shape. */
export class GraphFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly innerError: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (id: string) =>
  new GraphFailure(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

export const insufficientPrivileges = () =>
  new GraphFailure(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

export const badRequest = (message: string) => new GraphFailure(400, 'Request_BadRequest', message);

export const unsupportedQuery = (message: string) => new GraphFailure(400, 'Request_UnsupportedQuery', message);

/** Graph's error body: the code on `code`, the request ids and date on `innerError`. */
export function graphErrorResponse(failure: GraphFailure, request: SimRequest, now: Date): SimResponse {
  const requestId = randomUUID();
  return {
    status: failure.status,
    headers: { 'request-id': requestId, ...failure.headers },
    body: {
      error: {
        code: failure.code,
        message: failure.message,
        innerError: {
          ...failure.innerError,
          date: now.toISOString().slice(0, 19),
          'request-id': requestId,
          'client-request-id': request.headers['client-request-id'] ?? requestId,
        },
      },
    },
  };
}
