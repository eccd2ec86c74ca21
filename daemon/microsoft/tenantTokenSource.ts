import { createHash, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import type { Agent } from 'undici';
import { graphScope, type MicrosoftEndpoints } from './microsoftEndpoints';
import { MsalNetworkClient } from './msalNetworkClient';

export type TenantCredential =
  | { kind: 'secret'; clientSecret: string }
  | { kind: 'certificate'; certificatePem: string; privateKeyPem: string };

/** How the daemon signs in to one customer tenant: app-only, as its registered app. */
export interface TenantIdentity {
  /** Directory (tenant) id, or a verified domain. */
  tenant: string;
  clientId: string;
  credential: TenantCredential;
}

export interface AccessToken {
  accessToken: string;
  expiresOn: Date | null;
  /** The application roles (Graph permissions) the token carries: what consent really granted. */
  roles: string[];
}

function certificateOptions(credential: Extract<TenantCredential, { kind: 'certificate' }>) {
  const certificate = new X509Certificate(credential.certificatePem);
  return {
    thumbprintSha256: createHash('sha256').update(certificate.raw).digest('hex'),
    privateKey: credential.privateKeyPem,
    x5c: credential.certificatePem,
  };
}

export function rolesOf(accessToken: string): string[] {
  const payload = accessToken.split('.')[1];
  if (!payload) return [];
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Tokens for one tenant from msal-node's client-credentials flow. One application object per tenant, so
 * msal's cache serves every call until the token is near expiry.
 */
export class TenantTokenSource {
  private readonly client: ConfidentialClientApplication;

  constructor(identity: TenantIdentity, endpoints: MicrosoftEndpoints, dispatcher: Agent) {
    const authorityHost = new URL(endpoints.authorityHost);
    const configuration: Configuration = {
      auth: {
        clientId: identity.clientId,
        authority: `${authorityHost.origin}/${identity.tenant}`,
        ...(identity.credential.kind === 'secret'
          ? { clientSecret: identity.credential.clientSecret }
          : { clientCertificate: certificateOptions(identity.credential) }),
        // Any authority but Microsoft's own must be declared, or msal asks Microsoft to discover it.
        ...(authorityHost.hostname === 'login.microsoftonline.com' ? {} : { knownAuthorities: [authorityHost.host] }),
      },
      system: {
        networkClient: new MsalNetworkClient(dispatcher),
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined },
      },
    };
    this.client = new ConfidentialClientApplication(configuration);
  }

  /** A token from the cache, or a new one; `fresh` skips the cache to see revoked or newly granted access. */
  async acquire(options: { fresh?: boolean } = {}): Promise<AccessToken> {
    const result = await this.client.acquireTokenByClientCredential({
      scopes: [graphScope],
      skipCache: options.fresh ?? false,
    });
    if (!result) throw new Error('the identity platform answered without a token');
    return { accessToken: result.accessToken, expiresOn: result.expiresOn, roles: rolesOf(result.accessToken) };
  }
}
