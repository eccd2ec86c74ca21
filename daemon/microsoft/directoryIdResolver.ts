import type { Agent } from 'undici';
import { identityRequest } from './identityRequest';
import type { MicrosoftEndpoints } from './microsoftEndpoints';

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The directory id in an issuer such as `https://login.microsoftonline.com/{tid}/v2.0`. */
const issuerTenantPattern = /^\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/v2\.0\/?$/i;

function isDirectoryId(text: string): boolean {
  return guidPattern.test(text);
}

/**
 * A tenant's directory id from a verified domain, as Microsoft publishes it without sign-in: the issuer of
 * the domain's OpenID configuration names the tenant by id. A tenant can be registered by either, and
 * discovery lists customers by id, so telling whether two texts are one tenant needs this. Answers are
 * kept for the daemon's life (a domain moving to another tenant is rare enough to need a restart); a
 * failed lookup is not kept, and answers null.
 */
export class DirectoryIdResolver {
  private readonly known = new Map<string, Promise<string | null>>();

  constructor(
    private readonly endpoints: MicrosoftEndpoints,
    private readonly dispatcher: Agent,
  ) {}

  resolve(tenantIdOrDomain: string): Promise<string | null> {
    const given = tenantIdOrDomain.trim().toLowerCase();
    if (isDirectoryId(given)) return Promise.resolve(given);
    if (given === '') return Promise.resolve(null);
    const cached = this.known.get(given);
    if (cached) return cached;
    const lookup = this.lookUp(given).then((id) => {
      if (id === null) this.known.delete(given);
      return id;
    });
    this.known.set(given, lookup);
    return lookup;
  }

  private async lookUp(domain: string): Promise<string | null> {
    try {
      const origin = new URL(this.endpoints.authorityHost).origin;
      const answer = await identityRequest(this.dispatcher, `${origin}/${encodeURIComponent(domain)}/v2.0/.well-known/openid-configuration`);
      if (answer.status !== 200) return null;
      const { issuer } = JSON.parse(answer.text) as { issuer?: unknown };
      if (typeof issuer !== 'string') return null;
      return issuerTenantPattern.exec(new URL(issuer).pathname)?.[1]?.toLowerCase() ?? null;
    } catch {
      return null;
    }
  }
}
