import type { TenantCredential } from '../microsoft/tenantTokenSource';
import type { CredentialVault } from './credentialVault';

/**
 * Replaces the credential under `key` for an owner (a tenant, an app profile) that a removal may race: one
 * that went through while the credential was written (another daemon's, in a shared deployment) took the
 * credential away before this one landed, which would then outlive its owner. Answers false, with the
 * credential taken away again, when `ownerExists` says the owner is gone.
 */
export async function replaceCredentialOf(
  vault: CredentialVault,
  key: string,
  credential: TenantCredential,
  ownerExists: () => Promise<boolean>,
): Promise<boolean> {
  await vault.put(key, credential);
  if (await ownerExists()) return true;
  await vault.remove(key);
  return false;
}
