import { createHash, X509Certificate } from 'node:crypto';
import type { Client } from '@microsoft/microsoft-graph-client';
import { credentialRequirements } from '../../protocol/credentialRequirements';
import type { CredentialHealth } from '../store/storeTypes';
import { classifyMicrosoftFailure } from './microsoftFailure';
import type { TenantCredential, TenantTokenSource } from './tenantTokenSource';

const { requiredRoles, optionalRoles } = credentialRequirements;

/** Broader permissions that include a needed one. */
const includedIn: Record<string, readonly string[]> = {
  'User.Read.All': ['User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'User.EnableDisableAccount.All': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'User.RevokeSessions.All': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'AuditLog.Read.All': [],
};

/** The needed roles a grant lacks, counting a broader permission as including a narrower one. */
export function missingRoles(needed: readonly string[], granted: ReadonlySet<string>): string[] {
  return needed.filter((role) => !granted.has(role) && !(includedIn[role] ?? []).some((broader) => granted.has(broader)));
}

export interface CredentialProbeInput {
  appId: string;
  credential: TenantCredential;
  /** The expiry the operator gave when entering the secret, if any. */
  declaredExpiresAt: number | null;
}

interface ApplicationCredentials {
  passwordCredentials?: Array<{ hint?: string | null; endDateTime?: string | null }>;
  keyCredentials?: Array<{ customKeyIdentifier?: string | null; endDateTime?: string | null }>;
}

/**
 * When the credential in use expires: from the app registration where the app may read it (matched by
 * the secret's hint or the certificate's thumbprint), else from the certificate itself or what the
 * operator declared.
 */
async function credentialExpiry(client: Client, input: CredentialProbeInput, roles: ReadonlySet<string>): Promise<number | null> {
  const local =
    input.credential.kind === 'certificate'
      ? Date.parse(new X509Certificate(input.credential.certificatePem).validTo)
      : input.declaredExpiresAt;
  if (!['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'].some((r) => roles.has(r))) {
    return local;
  }
  try {
    const app = (await client.api(`/applications(appId='${input.appId}')`).select('passwordCredentials,keyCredentials').get()) as ApplicationCredentials;
    let ends: Array<string | null | undefined> = [];
    if (input.credential.kind === 'secret') {
      const hint = input.credential.clientSecret.slice(0, 3);
      ends = (app.passwordCredentials ?? []).filter((c) => c.hint === hint).map((c) => c.endDateTime);
    } else {
      const thumbprint = createHash('sha1').update(new X509Certificate(input.credential.certificatePem).raw).digest('hex').toUpperCase();
      ends = (app.keyCredentials ?? []).filter((c) => c.customKeyIdentifier?.toUpperCase() === thumbprint).map((c) => c.endDateTime);
    }
    const times = ends.map((e) => Date.parse(e ?? '')).filter((t) => !Number.isNaN(t));
    return times.length > 0 ? Math.max(...times) : local;
  } catch {
    // The home tenant of a multi-tenant app is elsewhere, or reading it failed: fall back.
    return local;
  }
}

/**
 * Credential health: can a fresh token be had (and if not, why, in plain words, with the fix), which
 * roles it carries against the ones needed, and when the credential expires where known.
 */
export async function probeCredentialHealth(
  tokens: TenantTokenSource,
  client: Client,
  input: CredentialProbeInput,
  now: number,
): Promise<CredentialHealth> {
  try {
    // Fresh: a cached token would hide a revoked secret or a new grant for up to an hour.
    const token = await tokens.acquire({ fresh: true });
    const granted = new Set(token.roles);
    return {
      checkedAt: now,
      canGetToken: true,
      failure:
        granted.size === 0
          ? {
              code: 'NO_ROLES',
              message: 'The token carries no application permissions: admin consent was never granted or was revoked.',
              remedy: 'In the Entra admin center, open the app registration → API permissions, and grant admin consent.',
            }
          : null,
      grantedRoles: [...granted].sort(),
      missingRoles: missingRoles(requiredRoles, granted),
      missingOptionalRoles: missingRoles(optionalRoles, granted),
      credentialExpiresAt: await credentialExpiry(client, input, granted),
    };
  } catch (error) {
    const failure = classifyMicrosoftFailure(error);
    return {
      checkedAt: now,
      canGetToken: false,
      failure: { code: failure.code, message: failure.message, remedy: failure.remedy },
      grantedRoles: [],
      missingRoles: [...requiredRoles],
      missingOptionalRoles: [...optionalRoles],
      credentialExpiresAt: input.credential.kind === 'certificate' ? Date.parse(new X509Certificate(input.credential.certificatePem).validTo) : input.declaredExpiresAt,
    };
  }
}
