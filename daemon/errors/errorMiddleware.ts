import type { ErrorRequestHandler } from 'express';
import type { ErrorCode } from '../../protocol/errorCodes';
import type { ErrorSinks } from './handleError';
import { handleError } from './handleError';

/** The JSON body of every error response. */
export interface ErrorResponseBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: Readonly<Record<string, unknown>>;
    errorId: string;
  };
}

/** Express's last middleware: everything thrown or passed to `next(error)` in a route ends here. */
export function errorMiddleware(sinks: ErrorSinks): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const handled = handleError(error, { source: 'http', operation: `${request.method} ${request.path}` }, sinks);
    if (response.headersSent) {
      // A streamed response (SSE) is already under way: the status cannot change, only the stream end.
      response.end();
      return;
    }
    const body: ErrorResponseBody = {
      error: {
        code: handled.code,
        message: handled.message,
        ...(handled.details ? { details: handled.details } : {}),
        errorId: handled.errorId,
      },
    };
    response.status(handled.status).json(body);
  };
}
