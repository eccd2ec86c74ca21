import { isErrorCode } from '../../protocol/errorCodes';
import { AppError } from '../errors/AppError';
import type { CredentialHealthService } from '../services/credentialHealthService';
import type { TaskHandler } from './taskRunner';

/**
 * "Check account status": the tenant's credential health, checked now. No token, or a token without
 * any application permission, ends the task in ERROR; missing roles are its finding, not a failure.
 */
export function checkAccountStatusTask(health: CredentialHealthService): TaskHandler {
  return async (task) => {
    const result = await health.check(task.tenantId ?? '', task.id);
    if (!result.canGetToken || result.failure) {
      const found = result.failure;
      if (!found) throw new AppError({ status: 502, code: 'CREDENTIAL_CHECK_FAILED', message: 'The credential check failed.' });
      const ours = isErrorCode(found.code) ? found.code : undefined;
      throw new AppError({
        status: 502,
        code: ours ?? 'CREDENTIAL_CHECK_FAILED',
        message: ours ? found.message : `${found.message} (${found.code})`,
        details: { remedy: found.remedy, ...(ours ? {} : { microsoftCode: found.code }) },
      });
    }
    return result.missingRoles.length > 0
      ? `Connected; the app lacks ${result.missingRoles.join(', ')}.`
      : 'Connected with every permission the product needs.';
  };
}
