import type { EngineerRole } from '../protocol/daemonApi';

/**
 * Whether the page offers Rotate buttons (a tenant's credentials, an app profile's). Rotating is an
 * admin's: anyone else would type a secret only to be refused, and a role not known yet offers nothing.
 */
export function rotateOffered(role: EngineerRole | null | undefined): boolean {
  return role === 'admin';
}
