import { randomUUID } from 'node:crypto';
import { ZodError } from 'zod';
import type { ErrorCode } from '../../protocol/errorCodes';
import type { Logger } from '../logging/logger';
import { redactSecrets, redactText } from '../logging/redactSecrets';
import type { AppErrorDetails } from './AppError';
import { AppError, isAppError } from './AppError';

/** Where the error surfaced; the poller's and the task runner's errors never pass through Express. */
export type ErrorSource = 'http' | 'poller' | 'task' | 'action' | 'credential-health' | 'startup' | 'shutdown' | 'store';

export interface ErrorContext {
  source: ErrorSource;
  taskId?: string;
  tenantId?: string;
  /** What was being done, in the operator's words or as `METHOD /path`. */
  operation?: string;
}

export interface SystemLogRecord {
  level: 'warn' | 'error';
  message: string;
  code: ErrorCode;
  errorId: string;
  source: ErrorSource;
  taskId?: string;
  tenantId?: string;
  details?: AppErrorDetails;
}

/** The store's bounded system log, as seen from here (kept abstract so this module needs no store). */
export interface SystemLogSink {
  appendSystemLog(record: SystemLogRecord): Promise<unknown>;
}

export interface ErrorSinks {
  logger: Logger;
  systemLog?: SystemLogSink;
  /**
   * Aborted once the daemon has begun to stop. Work still running then may find the store closed under
   * it: that is how such work ends, not a failure, so it is kept out of the error log and the system log.
   * Without it (or before it is aborted) a closed store is reported like any other error.
   */
  stopping?: AbortSignal;
}

/** What a caller may show: an AppError's own words, or a generic 500 pointing at the log line. */
export interface HandledError {
  status: number;
  code: ErrorCode;
  message: string;
  details?: AppErrorDetails;
  /** Printed in the log line and returned to the caller, so one can be found from the other. */
  errorId: string;
  expected: boolean;
}

// An action that fails is handled where it fails (to record it against its task) and again by Express on
// its way out; remembering the result keeps it to one log line and one errorId.
const handled = new WeakMap<object, HandledError>();

export function handleError(error: unknown, context: ErrorContext, sinks: ErrorSinks): HandledError {
  if (typeof error === 'object' && error !== null) {
    const earlier = handled.get(error);
    if (earlier) return earlier;
  }
  const appError = toAppError(error);
  const errorId = randomUUID();
  const result: HandledError = appError
    ? {
        status: appError.status,
        code: appError.code,
        message: redactText(appError.message),
        ...(appError.details ? { details: redactSecrets(appError.details) as AppErrorDetails } : {}),
        errorId,
        expected: true,
      }
    : {
        status: 500,
        code: 'INTERNAL_ERROR',
        message: `Something went wrong inside the m365-status daemon. Its log has the details under error id ${errorId}.`,
        errorId,
        expected: false,
      };
  if (typeof error === 'object' && error !== null) handled.set(error, result);
  record(error, result, context, sinks);
  return result;
}

function record(error: unknown, result: HandledError, context: ErrorContext, sinks: ErrorSinks): void {
  const fields = {
    errorId: result.errorId,
    code: result.code,
    status: result.status,
    source: context.source,
    ...(context.operation ? { operation: context.operation } : {}),
    ...(context.taskId ? { taskId: context.taskId } : {}),
    ...(context.tenantId ? { tenantId: context.tenantId } : {}),
    ...(result.details ? { details: result.details } : {}),
    // The stack and the original message stay in the daemon's own log, never in a response.
    ...(result.expected ? {} : { error }),
  };
  if (endedByStop(result.code, sinks)) {
    sinks.logger.debug('work ended by the daemon stopping', fields);
    return;
  }
  const level = result.status >= 500 ? 'error' : 'warn';
  sinks.logger[level](result.expected ? result.message : 'Unexpected error', fields);

  // A 4xx answered to an HTTP caller is the caller's business; everything else is worth keeping.
  if (!sinks.systemLog || (context.source === 'http' && result.status < 500)) return;
  const entry: SystemLogRecord = {
    level,
    message: result.expected ? result.message : `Unexpected error (error id ${result.errorId})`,
    code: result.code,
    errorId: result.errorId,
    source: context.source,
    ...(context.taskId ? { taskId: context.taskId } : {}),
    ...(context.tenantId ? { tenantId: context.tenantId } : {}),
    ...(result.details ? { details: result.details } : {}),
  };
  sinks.systemLog.appendSystemLog(entry).catch((writeError: unknown) => {
    // The error itself is in the daemon's log already; the store closing for the stop only keeps its copy.
    const stopped = endedByStop(isAppError(writeError) ? writeError.code : undefined, sinks);
    sinks.logger[stopped ? 'debug' : 'error']('Could not write to the system log', { errorId: result.errorId, error: writeError });
  });
}

/** Expected failures from our code, zod, and Express's body parser and router; undefined for anything else. */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) return fromZod(error);
  if (isHttpError(error)) return fromHttpError(error);
  // Express's router could not percent-decode a path parameter. The raw value is the caller's, so it is
  // not echoed back.
  if (error instanceof URIError) {
    return new AppError({ status: 400, code: 'BAD_REQUEST', message: 'A part of the request path is not valid percent-encoding.', cause: error });
  }
  return undefined;
}

function fromZod(error: ZodError): AppError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
  const message = issue
    ? field
      ? `Invalid value for "${field}": ${issue.message}`
      : `Invalid request: ${issue.message}`
    : 'Invalid request';
  return new AppError({
    status: 400,
    code: 'VALIDATION_FAILED',
    message,
    ...(field ? { details: { field } } : {}),
    cause: error,
  });
}

interface HttpError {
  status: number;
  expose: boolean;
  message: string;
  type?: string;
}

function isHttpError(error: unknown): error is HttpError {
  if (!(error instanceof Error)) return false;
  const candidate = error as Error & { status?: unknown; expose?: unknown };
  return typeof candidate.status === 'number' && candidate.expose === true && candidate.status >= 400 && candidate.status < 500;
}

// body-parser's own `type`s; its messages are fine to show but not stable enough to branch on.
const BODY_PARSER_CODES: Readonly<Record<string, ErrorCode>> = {
  'entity.too.large': 'BODY_TOO_LARGE',
  'entity.parse.failed': 'INVALID_JSON',
  'encoding.unsupported': 'UNSUPPORTED_ENCODING',
  'charset.unsupported': 'UNSUPPORTED_CHARSET',
  'request.aborted': 'REQUEST_ABORTED',
};

function fromHttpError(error: HttpError): AppError {
  const code = (error.type ? BODY_PARSER_CODES[error.type] : undefined) ?? 'BAD_REQUEST';
  const message =
    code === 'BODY_TOO_LARGE'
      ? 'The request body is larger than the daemon accepts.'
      : code === 'INVALID_JSON'
        ? 'The request body is not valid JSON.'
        : error.message;
  return new AppError({ status: error.status, code, message, cause: error });
}

/** A closed store once the daemon has begun to stop: how work still running then ends (see `ErrorSinks.stopping`). */
function endedByStop(code: string | undefined, sinks: ErrorSinks): boolean {
  return code === 'STORE_CLOSED' && sinks.stopping?.aborted === true;
}
