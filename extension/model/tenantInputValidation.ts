import type { CredentialInput } from '../../protocol/daemonApi';
import { addTenantSchema, credentialInputSchema, LIMITS } from '../../protocol/daemonApi';

/**
 * The checks behind the "Add tenant" and "Rotate credentials" input boxes: the daemon's own schemas,
 * so a value the box accepts is one the daemon accepts. Each answers the message to show, or undefined.
 */
function firstIssue(result: { success: boolean; error?: { issues: ReadonlyArray<{ message: string }> } }): string | undefined {
  return result.success ? undefined : (result.error?.issues[0]?.message ?? 'not valid');
}

export function validateTenant(value: string): string | undefined {
  if (value.trim() === '') return 'The directory (tenant) id or a verified domain is needed.';
  return firstIssue(addTenantSchema.shape.tenant.safeParse(value));
}

export function validateAppId(value: string): string | undefined {
  if (value.trim() === '') return 'The application (client) id is needed.';
  return firstIssue(addTenantSchema.shape.appId.safeParse(value.trim()));
}

export function validateDisplayName(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  return firstIssue(addTenantSchema.shape.displayName.safeParse(value));
}

export function validateSecret(value: string): string | undefined {
  if (value.length === 0) return 'The client secret value is needed (its Value, not its Secret ID).';
  if (value.length > LIMITS.clientSecretMaxLength) return `That is longer than any client secret (${LIMITS.clientSecretMaxLength} characters at most).`;
  // A Secret ID is a GUID; people paste it instead of the value so often that it deserves its own word.
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value.trim())) {
    return "That looks like the secret's ID. Copy its Value from Certificates & secrets instead.";
  }
  return undefined;
}

/** `YYYY-MM-DD`, optional: when the secret expires, as the app registration shows it. */
export function validateExpiryDate(value: string, now: number): string | undefined {
  if (value.trim() === '') return undefined;
  const at = parseExpiryDate(value);
  if (at === undefined) return 'A date as YYYY-MM-DD, or leave it empty.';
  if (at < now) return 'That date is in the past: the secret has already expired.';
  return undefined;
}

export function parseExpiryDate(value: string): number | undefined {
  const match = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(value);
  if (!match) return undefined;
  const at = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59);
  const date = new Date(at);
  return date.getUTCMonth() === Number(match[2]) - 1 && date.getUTCDate() === Number(match[3]) ? at : undefined;
}

/** A secret credential as the daemon takes it, or the reason it would refuse it. */
export function secretCredential(secret: string, expiry: string): { credential: CredentialInput } | { error: string } {
  const at = expiry.trim() === '' ? undefined : parseExpiryDate(expiry);
  return checked({ kind: 'secret', clientSecret: secret, ...(at === undefined ? {} : { expiresAt: new Date(at).toISOString() }) });
}

/**
 * A certificate credential from the two files' text, or the reason it would be refused. Only the PEM
 * blocks are kept, each in its own field: a bundle file holding both must not put the private key in
 * the certificate field, which is not treated as a secret.
 */
export function certificateCredential(certificateFile: string, privateKeyFile: string): { credential: CredentialInput } | { error: string } {
  const certificates = pemBlocks(certificateFile, /^CERTIFICATE$/);
  if (certificates.length === 0) return { error: 'The certificate file has no PEM certificate block (-----BEGIN CERTIFICATE-----).' };
  if (pemBlocks(privateKeyFile, /^ENCRYPTED PRIVATE KEY$/).length > 0) {
    return { error: 'The private key is encrypted; the daemon needs it unencrypted (it encrypts it at rest itself).' };
  }
  const key = pemBlocks(privateKeyFile, /^(RSA )?PRIVATE KEY$/)[0];
  if (!key) return { error: 'The key file has no PEM private key block (-----BEGIN PRIVATE KEY-----).' };
  return checked({ kind: 'certificate', certificatePem: certificates.join('\n'), privateKeyPem: key });
}

/** The PEM blocks in a text whose label matches, each with its BEGIN and END lines. */
export function pemBlocks(text: string, label: RegExp): string[] {
  const blocks: string[] = [];
  for (const match of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)) {
    if (label.test(match[1] ?? '')) blocks.push(`${match[0]}\n`);
  }
  return blocks;
}

function checked(candidate: unknown): { credential: CredentialInput } | { error: string } {
  const result = credentialInputSchema.safeParse(candidate);
  return result.success ? { credential: result.data } : { error: result.error.issues[0]?.message ?? 'not a valid credential' };
}
