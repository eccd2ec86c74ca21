import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { TenantCredential } from '../microsoft/tenantTokenSource';
import { tenantCredentialSchema } from './tenantCredentialSchema';

const IV_BYTES = 12;

/** One credential of the shared vault as its row holds it: AES-256-GCM, the tag bound to the row's id. */
export interface SealedCredential {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export function seal(key: Buffer, credentialId: string, credential: TenantCredential): SealedCredential {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associatedData(credentialId));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(credential), 'utf8'), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

export function unseal(key: Buffer, credentialId: string, sealed: SealedCredential): TenantCredential {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
  decipher.setAAD(associatedData(credentialId));
  decipher.setAuthTag(sealed.tag);
  const plain = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  return tenantCredentialSchema.parse(JSON.parse(plain.toString('utf8')));
}

// Binds each ciphertext to its row: one credential's ciphertext copied over another's fails to decrypt.
function associatedData(credentialId: string): Buffer {
  return Buffer.from(`m365-status shared vault v1 credential ${credentialId}`, 'utf8');
}
