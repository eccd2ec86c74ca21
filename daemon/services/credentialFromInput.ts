import { X509Certificate } from 'node:crypto';
import type { CredentialInput } from '../../protocol/daemonApi';
import type { TenantCredential } from '../microsoft/tenantTokenSource';

/** A credential as the API takes it, as the vault keeps it, with when it expires where that is known. */
export function credentialFromInput(input: CredentialInput): { credential: TenantCredential; expiresAt: number | null } {
  if (input.kind === 'certificate') {
    const credential: TenantCredential = { kind: 'certificate', certificatePem: input.certificatePem, privateKeyPem: input.privateKeyPem };
    let expiresAt: number | null = null;
    try {
      expiresAt = Date.parse(new X509Certificate(input.certificatePem).validTo);
    } catch {
      // An unreadable certificate is refused by the token request, which says why in Microsoft's words.
    }
    return { credential, expiresAt: expiresAt !== null && !Number.isNaN(expiresAt) ? expiresAt : null };
  }
  const expiresAt = input.expiresAt ? Date.parse(input.expiresAt) : undefined;
  return { credential: { kind: 'secret', clientSecret: input.clientSecret, ...(expiresAt ? { expiresAt } : {}) }, expiresAt: expiresAt ?? null };
}
