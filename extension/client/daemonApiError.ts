import type { ApiError, EngineerRole } from '../../protocol/daemonApi';
import { engineerRoles } from '../../protocol/daemonApi';

/** The daemon answered with an error: its code is stable (branch on it), its message is for the operator. */
export class DaemonApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly errorId: string | undefined;
  /** A shared deployment's 403: the role the refused action needs. */
  readonly requiredRole: EngineerRole | undefined;

  constructor(status: number, body: Pick<ApiError['error'], 'code' | 'message'> & { field?: string; errorId?: string; requiredRole?: EngineerRole }) {
    super(body.message);
    this.name = 'DaemonApiError';
    this.status = status;
    this.code = body.code;
    this.field = body.field;
    this.errorId = body.errorId;
    this.requiredRole = body.requiredRole;
  }

  /** Reads an error body (`ApiError`); anything else becomes a generic error with the status. */
  static fromResponse(status: number, body: unknown): DaemonApiError {
    const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
    if (typeof error === 'object' && error !== null) {
      const fields = error as Record<string, unknown>;
      const details = typeof fields.details === 'object' && fields.details !== null ? (fields.details as Record<string, unknown>) : {};
      const field = typeof details.field === 'string' ? details.field : undefined;
      const requiredRole = engineerRoles.find((role) => role === details.requiredRole);
      return new DaemonApiError(status, {
        code: typeof fields.code === 'string' ? fields.code : `HTTP_${status}`,
        message: typeof fields.message === 'string' ? fields.message : `The daemon answered ${status}.`,
        ...(field === undefined ? {} : { field }),
        ...(requiredRole === undefined ? {} : { requiredRole }),
        ...(typeof fields.errorId === 'string' ? { errorId: fields.errorId } : {}),
      });
    }
    return new DaemonApiError(status, { code: `HTTP_${status}`, message: `The daemon answered ${status} without an explanation.` });
  }
}
