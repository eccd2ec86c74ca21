import { AppError } from './AppError';

/** The 404 for a tenant id the store does not hold, the same from every store and service. */
export function tenantNotFound(tenantId: string): AppError {
  return AppError.notFound('TENANT_NOT_FOUND', `No tenant with id ${tenantId}.`, { tenantId });
}
