import type { Agent } from 'undici';
import { identityRequest } from './identityRequest';

/** The endpoints msal-node reads from a tenant's OpenID configuration, with `{tenant}` for the tenant. */
interface MetadataTemplate {
  token_endpoint: string;
  authorization_endpoint: string;
  end_session_endpoint: string;
  issuer: string;
  jwks_uri: string;
}

const fields = ['token_endpoint', 'authorization_endpoint', 'end_session_endpoint', 'issuer', 'jwks_uri'] as const;

/**
 * The identity platform's OpenID configuration, fetched once per cloud instance rather than once per
 * tenant. msal-node fetches `{authority}/v2.0/.well-known/openid-configuration` for every new application,
 * that is for every tenant, and the documents of one instance differ by the tenant's id only; given the
 * document as its `authorityMetadata` option, msal asks nothing before the token request. The first
 * tenant's document is the template; a failed fetch is not kept (msal then discovers for itself, and
 * reports an unknown tenant as it always did). Endpoints of an instance do not move, so the template is
 * kept for the daemon's life.
 *
 * One per connection pool: a pool is made for one set of Microsoft endpoints and its trust.
 */
export class AuthorityMetadata {
  private static readonly byPool = new WeakMap<Agent, AuthorityMetadata>();
  private readonly templates = new Map<string, Promise<MetadataTemplate | null>>();

  private constructor(private readonly dispatcher: Agent) {}

  static of(dispatcher: Agent): AuthorityMetadata {
    let metadata = AuthorityMetadata.byPool.get(dispatcher);
    if (!metadata) {
      metadata = new AuthorityMetadata(dispatcher);
      AuthorityMetadata.byPool.set(dispatcher, metadata);
    }
    return metadata;
  }

  /**
   * The metadata of `{origin}/{tenantSegment}` as msal's `authorityMetadata` takes it (JSON), or
   * undefined when the instance's template could not be had.
   */
  async forTenant(origin: string, tenantSegment: string): Promise<string | undefined> {
    let template = this.templates.get(origin);
    if (!template) {
      template = this.fetchTemplate(origin, tenantSegment).then((found) => {
        if (found === null) this.templates.delete(origin);
        return found;
      });
      this.templates.set(origin, template);
    }
    const found = await template;
    if (found === null) return undefined;
    const filled: Record<string, string> = {};
    for (const field of fields) filled[field] = found[field].replaceAll('{tenant}', tenantSegment);
    return JSON.stringify(filled);
  }

  private async fetchTemplate(origin: string, tenantSegment: string): Promise<MetadataTemplate | null> {
    try {
      const answer = await identityRequest(this.dispatcher, `${origin}/${tenantSegment}/v2.0/.well-known/openid-configuration`);
      if (answer.status !== 200) return null;
      const document = JSON.parse(answer.text) as Record<string, unknown>;
      // The document names the tenant by its directory id, the first path segment of each endpoint.
      const tokenEndpoint = document.token_endpoint;
      if (typeof tokenEndpoint !== 'string') return null;
      const directoryId = new URL(tokenEndpoint).pathname.split('/')[1];
      if (!directoryId) return null;
      const template: Partial<MetadataTemplate> = {};
      for (const field of fields) {
        const value = document[field];
        if (typeof value !== 'string' || new URL(value).origin !== origin || !value.includes(`/${directoryId}/`)) return null;
        template[field] = value.replaceAll(`/${directoryId}/`, '/{tenant}/');
      }
      return template as MetadataTemplate;
    } catch {
      return null;
    }
  }
}
