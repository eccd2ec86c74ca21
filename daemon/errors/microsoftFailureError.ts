import { isErrorCode, type ErrorCode } from '../../protocol/errorCodes';
import { isDisconnecting, type MicrosoftFailure } from '../microsoft/microsoftFailure';
import { AppError } from './AppError';

/**
 * A failure Microsoft reported, as the daemon records it: one of our codes, with Microsoft's own code
 * kept in the message and the details so the operator can still look it up.
 */
export function microsoftFailureError(failure: MicrosoftFailure, what?: string): AppError {
  const ours = isErrorCode(failure.code) ? failure.code : undefined;
  return new AppError({
    status: 502,
    code: ours ?? codeFor(failure),
    message: `${what ? `${what}: ` : ''}${failure.message}${ours ? '' : ` (${failure.code})`}`,
    details: { category: failure.category, remedy: failure.remedy, ...(ours ? {} : { microsoftCode: failure.code }) },
  });
}

function codeFor(failure: MicrosoftFailure): ErrorCode {
  return isDisconnecting(failure.category) ? 'TENANT_DISCONNECTED' : 'GRAPH_UNAVAILABLE';
}
