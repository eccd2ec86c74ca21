import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import type { SimDirectory } from '../directory/simDirectory';
import { grantedRoles, type SimApp } from '../directory/simApp';
import type { SimTenant } from '../directory/simTenant';
import { json, type SimRequest, type SimResponse } from '../http/simExchange';
import type { SimClock } from '../simClock';
import { aadsts, aadstsResponse, type AadstsFailure } from './aadstsErrors';
import type { SigningKeys } from './signingKeys';

export const graphAudience = 'https://graph.microsoft.com';
const tokenLifetimeSeconds = 3599;
const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The claims the simulator puts in (and Graph reads from) an app-only access token. */
export interface AccessTokenClaims {
  tid: string;
  appid: string;
  roles?: string[];
}

class TokenFailure extends Error {
  constructor(readonly failure: AadstsFailure) {
    super(failure.message);
  }
}

/** Authority segments that name no one tenant; their discovery document is served, for any tenant. */
const multiTenantSegments = ['organizations', 'common'] as const;

/**
 * The Microsoft identity platform's client-credentials grant: discovery, keys and the token endpoint,
 * with a client secret or a certificate-signed client assertion.
 */
export class IdentityPlatform {
  constructor(
    private readonly directory: SimDirectory,
    private readonly keys: SigningKeys,
    private readonly clock: SimClock,
  ) {}

  /** Resolves the tenant segment of an authority URL, or the failure Microsoft answers with. */
  private resolveTenant(segment: string): SimTenant {
    if (!guidPattern.test(segment) && !segment.includes('.')) throw new TokenFailure(aadsts.malformedTenant(segment));
    const tenant = this.directory.find(segment);
    if (!tenant) throw new TokenFailure(aadsts.tenantNotFound(segment));
    return tenant;
  }

  openidConfiguration(request: SimRequest, segment: string): SimResponse {
    try {
      // `organizations` and `common` stand for any work or school tenant: their issuer names none.
      const anyTenant = multiTenantSegments.find((name) => name === segment.toLowerCase());
      const tenantId = anyTenant ?? this.resolveTenant(segment).id;
      const base = `${request.origin}/${tenantId}`;
      return json(200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${request.origin}/${tenantId}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${request.origin}/${anyTenant ? '{tenantid}' : tenantId}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${request.origin}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'roles'],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      });
    } catch (error) {
      if (error instanceof TokenFailure) return aadstsResponse(error.failure, this.clock.date());
      throw error;
    }
  }

  async jwks(): Promise<SimResponse> {
    return json(200, await this.keys.jwks());
  }

  async token(request: SimRequest, segment: string): Promise<SimResponse> {
    const form = new URLSearchParams(request.body.toString('utf8'));
    const correlationId = form.get('client-request-id') ?? request.headers['client-request-id'];
    try {
      const tenant = this.resolveTenant(segment);
      tenant.counters.tokenRequests++;
      if (tenant.faults.latencyMs > 0) await sleep(tenant.faults.latencyMs);
      if (tenant.faults.tokenOutage) {
        tenant.counters.faultsInjected++;
        throw new TokenFailure(aadsts.temporarilyUnavailable());
      }
      const grant = form.get('grant_type') ?? '';
      if (grant !== 'client_credentials') throw new TokenFailure(aadsts.unsupportedGrant(grant));
      const scope = form.get('scope') ?? '';
      const resource = scope.split(' ').find((s) => s.endsWith('/.default'));
      if (!resource) throw new TokenFailure(aadsts.invalidScope(scope));
      const clientId = (form.get('client_id') ?? '').toLowerCase();
      const app = tenant.findApp(clientId) ?? this.directory.consentedApp(tenant, clientId);
      if (!app) {
        // A multi-tenant app this tenant never consented to has no service principal here.
        if (this.directory.multiTenantApp(clientId)) throw new TokenFailure(aadsts.noServicePrincipal(clientId, tenant.id));
        throw new TokenFailure(aadsts.appNotFound(clientId, segment));
      }
      if (!app.enabled) throw new TokenFailure(aadsts.appDisabled(app.appId, app.displayName));
      if (!app.hasServicePrincipal) throw new TokenFailure(aadsts.noServicePrincipal(app.appId, tenant.id));
      const authenticatedBy = await this.authenticate(app, form, request, tenant);
      const accessToken = await this.issue(tenant, app, authenticatedBy);
      return json(
        200,
        {
          token_type: 'Bearer',
          expires_in: tokenLifetimeSeconds,
          ext_expires_in: tokenLifetimeSeconds,
          access_token: accessToken,
        },
        { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
      );
    } catch (error) {
      if (!(error instanceof TokenFailure)) throw error;
      const response = aadstsResponse(error.failure, this.clock.date(), correlationId);
      if (error.failure.status === 503) response.headers = { ...response.headers, 'retry-after': '1' };
      return response;
    }
  }

  /** Checks the secret or the client assertion; answers how the app proved itself (`appidacr`). */
  private async authenticate(
    app: SimApp,
    form: URLSearchParams,
    request: SimRequest,
    tenant: SimTenant,
  ): Promise<'1' | '2'> {
    const now = this.clock.now();
    const secret = form.get('client_secret');
    if (secret !== null) {
      const matching = app.secrets.filter((s) => s.value === secret);
      if (matching.length === 0) throw new TokenFailure(aadsts.wrongSecret(app.appId));
      if (!matching.some((s) => Date.parse(s.endDateTime) > now)) {
        throw new TokenFailure(aadsts.expiredSecret(app.appId, app.displayName));
      }
      return '1';
    }
    const assertion = form.get('client_assertion');
    if (assertion === null) throw new TokenFailure(aadsts.missingCredential());
    if (form.get('client_assertion_type') !== assertionType) {
      throw new TokenFailure(aadsts.invalidAssertion('client_assertion_type must be jwt-bearer'));
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw new TokenFailure(aadsts.invalidAssertion('the assertion is not a JWT'));
    }
    const s256 = header['x5t#S256'];
    const certificate = app.certificates.find((c) =>
      typeof s256 === 'string' ? c.x5tS256 === s256 : c.x5t === header.x5t,
    );
    if (!certificate) throw new TokenFailure(aadsts.unknownCertificate(app.appId));
    if (Date.parse(certificate.endDateTime) <= now) throw new TokenFailure(aadsts.expiredCertificate(app.appId));
    try {
      const { payload } = await jwtVerify(assertion, certificate.publicKey, {
        algorithms: ['RS256', 'PS256'],
        issuer: app.appId,
        subject: app.appId,
        currentDate: new Date(now),
        clockTolerance: 300,
      });
      const audience = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
      if (!audience || !this.isTokenEndpointOf(audience, request, tenant)) {
        throw new TokenFailure(aadsts.invalidAssertion(`audience '${audience ?? ''}' is not this token endpoint`));
      }
    } catch (error) {
      if (error instanceof TokenFailure) throw error;
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw new TokenFailure(aadsts.badAssertionSignature());
      throw new TokenFailure(aadsts.invalidAssertion((error as Error).message));
    }
    return '2';
  }

  private isTokenEndpointOf(audience: string, request: SimRequest, tenant: SimTenant): boolean {
    return [tenant.id, tenant.domain].some(
      (segment) => audience.toLowerCase() === `${request.origin}/${segment}/oauth2/v2.0/token`.toLowerCase(),
    );
  }

  private async issue(tenant: SimTenant, app: SimApp, appidacr: '1' | '2'): Promise<string> {
    const issuedAt = Math.floor(this.clock.now() / 1000);
    const roles = grantedRoles(app);
    const claims: Record<string, unknown> = {
      aio: randomBytes(24).toString('base64url'),
      app_displayname: app.displayName,
      appid: app.appId,
      appidacr,
      idp: `https://sts.windows.net/${tenant.id}/`,
      idtyp: 'app',
      oid: app.servicePrincipalId,
      sub: app.servicePrincipalId,
      tid: tenant.id,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      xms_tcdt: Math.floor(Date.parse(tenant.createdDateTime) / 1000),
    };
    // As in Microsoft 365: an app nobody consented to still gets a token, only without `roles`.
    if (roles.length > 0) claims.roles = roles;
    return new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.keys.kid, x5t: this.keys.kid })
      .setAudience(graphAudience)
      .setIssuer(`https://sts.windows.net/${tenant.id}/`)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + tokenLifetimeSeconds)
      .setJti(randomUUID())
      .sign(this.keys.privateKey);
  }
}
