import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { CredentialInput } from '../../protocol/daemonApi';
import { AppError } from '../errors/AppError';
import type { TenantCredential } from '../microsoft/tenantTokenSource';

/**
 * A credential as the API takes it, as the vault keeps it, with when it expires where that is known. A
 * certificate is read here, with its key, and refused naming the field if either does not parse or they do
 * not belong together: stored as given, it would replace a working credential with one no sign-in can use.
 */
export function credentialFromInput(input: CredentialInput): { credential: TenantCredential; expiresAt: number | null } {
  if (input.kind === 'certificate') {
    const certificate = readCertificate(input.certificatePem);
    const key = readPrivateKey(input.privateKeyPem);
    if (!certificate.checkPrivateKey(key)) {
      throw invalid('credential.privateKeyPem', "the private key of another certificate: it does not match credential.certificatePem's public key");
    }
    const credential: TenantCredential = { kind: 'certificate', certificatePem: input.certificatePem, privateKeyPem: input.privateKeyPem };
    const expiresAt = Date.parse(certificate.validTo);
    return { credential, expiresAt: Number.isNaN(expiresAt) ? null : expiresAt };
  }
  const expiresAt = input.expiresAt ? Date.parse(input.expiresAt) : undefined;
  return { credential: { kind: 'secret', clientSecret: input.clientSecret, ...(expiresAt ? { expiresAt } : {}) }, expiresAt: expiresAt ?? null };
}

function readCertificate(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw invalid('credential.certificatePem', 'not a readable X.509 certificate (PEM, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----)');
  }
}

function readPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // OpenSSL's reason is left out: it can quote the start of what it could not read.
    throw invalid('credential.privateKeyPem', 'not a readable private key (PEM, unencrypted: PKCS#8 or RSA)');
  }
}

function invalid(field: string, problem: string): AppError {
  return AppError.badRequest('VALIDATION_FAILED', `Invalid value for "${field}": ${problem}.`, { field });
}
