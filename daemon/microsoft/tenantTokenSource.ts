import { createHash, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import type { Agent } from 'undici';
import { authorityMetadata } from './authorityMetadata';
import { graphScope, type MicrosoftEndpoints } from './microsoftEndpoints';
import { MsalNetworkClient } from './msalNetworkClient';

/** What signs the daemon in to one tenant: a client secret, or a certificate with its private key. */
export type TenantCredential =
  /** `expiresAt`: the expiry the operator read off the app registration, for when Graph cannot tell us. */
  | { kind: 'secret'; clientSecret: string; expiresAt?: number | undefined }
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
 * Tokens for one tenant from msal-node's client-credentials flow. The token is kept here until msal
 * would renew it; msal's application object is made only to ask for a token and dropped after, since
 * one per tenant, with its cache, held for an hour's single use adds up over a thousand tenants. Each
 * application is given the tenant's endpoints (`authorityMetadata`), so a new token costs the token
 * request alone.
 */
export class TenantTokenSource {
  private readonly configuration: Configuration;
  /**
   * The last token msal gave, served without asking msal again until msal itself would renew it: each
   * cached msal call rebuilds its authority and searches its cache, which was a seventh of the CPU of a
   * quiet round (asked once by the sync and once per Graph request).
   */
  private current: { token: AccessToken; renewAt: number } | null = null;
  /** A request made ahead of time (`prefetch`), for the next `acquire` to take, whatever its outcome. */
  private prefetched: Promise<AccessToken> | null = null;
  /** Requests under way, so that a prefetch never asks a second time. */
  private acquiring = 0;

  constructor(identity: TenantIdentity, endpoints: MicrosoftEndpoints, dispatcher: Agent) {
    const authorityHost = new URL(endpoints.authorityHost);
    const authority = `${authorityHost.origin}/${encodeURIComponent(identity.tenant)}`;
    this.configuration = {
      auth: {
        clientId: identity.clientId,
        authority,
        authorityMetadata: authorityMetadata(authority),
        ...(identity.credential.kind === 'secret'
          ? { clientSecret: identity.credential.clientSecret }
          : { clientCertificate: certificateOptions(identity.credential) }),
        // Any authority but Microsoft's own (on its own port) must be declared, or msal asks it to
        // discover itself before the token request.
        ...(authorityHost.host === 'login.microsoftonline.com' ? {} : { knownAuthorities: [authorityHost.host] }),
      },
      system: {
        networkClient: new MsalNetworkClient(dispatcher),
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined },
      },
    };
  }

  /**
   * Asks for a token now, unless one is held or being asked for, so that the next `acquire` takes its
   * answer instead of waiting for one: a restart asks while the store is still loading. A failure is
   * kept for that `acquire` too, so that it is reported as it would have been, and asked for once.
   */
  prefetch(): Promise<unknown> {
    if (this.prefetched) return this.prefetched.catch(() => undefined);
    if (this.acquiring > 0 || (this.current && Date.now() < this.current.renewAt)) return Promise.resolve();
    const prefetched = this.acquire();
    this.prefetched = prefetched;
    return prefetched.catch(() => undefined);
  }

  /** A token from the cache, or a new one; `fresh` skips the cache to see revoked or newly granted access. */
  async acquire(options: { fresh?: boolean } = {}): Promise<AccessToken> {
    if (!options.fresh && this.prefetched) {
      const prefetched = this.prefetched;
      this.prefetched = null;
      const token = await prefetched;
      // Asked for long enough ago that msal would renew it by now: ask again.
      if (this.current && Date.now() < this.current.renewAt) return token;
    }
    if (!options.fresh && this.current && Date.now() < this.current.renewAt) return this.current.token;
    this.acquiring++;
    try {
      return await this.request(options);
    } finally {
      this.acquiring--;
    }
  }

  private async request(options: { fresh?: boolean }): Promise<AccessToken> {
    const client = new ConfidentialClientApplication(this.configuration);
    const result = await client.acquireTokenByClientCredential({ scopes: [graphScope], skipCache: options.fresh ?? false });
    if (!result) throw new Error('the identity platform answered without a token');
    const token: AccessToken = { accessToken: result.accessToken, expiresOn: result.expiresOn, roles: rolesOf(result.accessToken) };
    // msal renews a cached token 5 minutes before it expires, or at its refresh_in time if sooner.
    const renewAt = Math.min(result.expiresOn ? result.expiresOn.getTime() - 5 * 60_000 : 0, result.refreshOn ? result.refreshOn.getTime() : Number.POSITIVE_INFINITY);
    this.current = { token, renewAt };
    return token;
  }
}
