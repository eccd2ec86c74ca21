import { rememberSecret } from '../logging/redactSecrets';
import type { TenantCredential } from '../microsoft/tenantTokenSource';

// Kept for the life of the process, even after a rotation: the old secret may well still be valid in Entra.
export function rememberCredential(credential: TenantCredential): void {
  if (credential.kind === 'secret') rememberSecret(credential.clientSecret);
  else rememberSecret(credential.privateKeyPem);
}
