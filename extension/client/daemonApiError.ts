import type { ApiError } from '../../protocol/daemonApi';

/** The daemon answered with an error: its code is stable (branch on it), its message is for the operator. */
export class DaemonApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly errorId: string | undefined;

  constructor(status: number, body: Pick<ApiError['error'], 'code' | 'message'> & { field?: string; errorId?: string }) {
    super(body.message);
    this.name = 'DaemonApiError';
    this.status = status;
    this.code = body.code;
    this.field = body.field;
    this.errorId = body.errorId;
  }

  /** Reads an error body (`ApiError`); anything else becomes a generic error with the status. */
  static fromResponse(status: number, body: unknown): DaemonApiError {
    const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
    if (typeof error === 'object' && error !== null) {
      const fields = error as Record<string, unknown>;
      const details = typeof fields.details === 'object' && fields.details !== null ? (fields.details as Record<string, unknown>) : {};
      const field = typeof details.field === 'string' ? details.field : undefined;
      return new DaemonApiError(status, {
        code: typeof fields.code === 'string' ? fields.code : `HTTP_${status}`,
        message: typeof fields.message === 'string' ? fields.message : `The daemon answered ${status}.`,
        ...(field === undefined ? {} : { field }),
        ...(typeof fields.errorId === 'string' ? { errorId: fields.errorId } : {}),
      });
    }
    return new DaemonApiError(status, { code: `HTTP_${status}`, message: `The daemon answered ${status} without an explanation.` });
  }
}
