import type { ErrorCode } from '../../protocol/errorCodes';

export type AppErrorDetails = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

export interface AppErrorInit {
  /** HTTP status the API answers with; also tells the logs whether this was the caller's fault (4xx). */
  status: number;
  /** Stable, machine-readable: clients branch on it (see `protocol/errorCodes.ts`). */
  code: ErrorCode;
  /** Shown to the operator as is: plain words, what happened and what to do. Never a secret. */
  message: string;
  /** For example `{ field: 'appId' }`; returned to the caller, so never a secret either. */
  details?: AppErrorDetails;
  cause?: unknown;
}

/**
 * An expected failure: bad input, a missing tenant, a lock refused by Graph. Everything thrown that is
 * not an AppError is a bug or an outage and is answered as a 500 without its internals.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: AppErrorDetails | undefined;

  constructor(init: AppErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'AppError';
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
  }

  static badRequest(code: ErrorCode, message: string, details?: AppErrorDetails): AppError {
    return new AppError({ status: 400, code, message, ...(details ? { details } : {}) });
  }

  static notFound(code: ErrorCode, message: string, details?: AppErrorDetails): AppError {
    return new AppError({ status: 404, code, message, ...(details ? { details } : {}) });
  }

  static conflict(code: ErrorCode, message: string, details?: AppErrorDetails): AppError {
    return new AppError({ status: 409, code, message, ...(details ? { details } : {}) });
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
