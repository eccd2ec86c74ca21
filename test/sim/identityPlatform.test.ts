import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { fetch } from 'undici';
import { createHttpDispatcher } from '../../daemon/microsoft/httpDispatcher';
import { createTenantGraphClient } from '../../daemon/microsoft/tenantGraphClient';
import { TenantTokenSource } from '../../daemon/microsoft/tenantTokenSource';
import { createAppCertificate } from '../support/appCertificate';
import { SimHarness } from '../support/simHarness';

/** msal-node surfaces server failures as ServerError with the OAuth error code and the AADSTS text. */
async function msalFailure(promise: Promise<unknown>): Promise<{ errorCode: string; errorMessage: string; errorNo?: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as { errorCode: string; errorMessage: string; errorNo?: string; status?: number };
  }
  assert.fail('expected the token request to fail');
}

describe('sim: identity platform (client credentials through msal-node)', () => {
  let harness: SimHarness;
  before(async () => {
    harness = await SimHarness.start();
  });
  after(async () => harness.stop());

  it('issues an RS256 access token for Graph with tid, appid, aud, exp and the granted roles, for a secret', async () => {
    const tenant = await harness.createTenant({ users: 3 });
    const token = await harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire();
    const header = decodeProtectedHeader(token.accessToken);
    const claims = decodeJwt(token.accessToken);
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    assert.equal(claims.tid, tenant.id);
    assert.equal(claims.appid, tenant.app.appId);
    assert.equal(claims.aud, 'https://graph.microsoft.com');
    assert.equal(claims.iss, `https://sts.windows.net/${tenant.id}/`);
    assert.equal(claims.appidacr, '1');
    assert.ok(typeof claims.exp === 'number' && claims.exp * 1000 > Date.now() + 3_000_000);
    assert.deepEqual(token.roles, ['User.Read.All', 'User.EnableDisableAccount.All', 'User.RevokeSessions.All', 'AuditLog.Read.All']);
  });

  it('addresses a tenant by its verified domain as well as by its id', async () => {
    const tenant = await harness.createTenant({ domain: 'by-domain.onmicrosoft.com' });
    const token = await harness.tokens('by-domain.onmicrosoft.com', tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire();
    assert.equal(decodeJwt(token.accessToken).tid, tenant.id);
  });

  it('issues a token for a certificate-signed client assertion (PS256, x5t#S256) with appidacr 2', async () => {
    const { certificatePem, privateKeyPem } = await createAppCertificate();
    const tenant = await harness.createTenant({ app: { secret: null, certificatePem } });
    const token = await harness.tokens(tenant.id, tenant.app.appId, { kind: 'certificate', certificatePem, privateKeyPem }).acquire();
    const claims = decodeJwt(token.accessToken);
    assert.equal(claims.appidacr, '2');
    assert.equal(claims.tid, tenant.id);
  });

  it('refuses an assertion signed with a certificate the app does not have (AADSTS700027)', async () => {
    const registered = await createAppCertificate('CN=registered');
    const other = await createAppCertificate('CN=other');
    const tenant = await harness.createTenant({ app: { secret: null, certificatePem: registered.certificatePem } });
    const failure = await msalFailure(harness.tokens(tenant.id, tenant.app.appId, { kind: 'certificate', ...other }).acquire());
    assert.equal(failure.errorCode, 'invalid_client');
    assert.match(failure.errorMessage, /AADSTS700027/);
  });

  it('answers a wrong secret with invalid_client AADSTS7000215', async () => {
    const tenant = await harness.createTenant();
    const failure = await msalFailure(harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: 'not-the-secret' }).acquire());
    assert.equal(failure.errorCode, 'invalid_client');
    assert.match(failure.errorMessage, /AADSTS7000215: Invalid client secret provided/);
    assert.match(failure.errorMessage, /Trace ID: [0-9a-f-]{36}/);
  });

  it('answers an expired secret with invalid_client AADSTS7000222', async () => {
    const tenant = await harness.createTenant({ app: { secretExpiresAt: new Date(Date.now() - 1000).toISOString() } });
    const failure = await msalFailure(harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire());
    assert.equal(failure.errorCode, 'invalid_client');
    assert.match(failure.errorMessage, /AADSTS7000222: The provided client secret keys for app/);
  });

  it('answers an app unknown in the tenant with unauthorized_client AADSTS700016, also for another tenant\'s app', async () => {
    const home = await harness.createTenant();
    const other = await harness.createTenant();
    const failure = await msalFailure(harness.tokens(other.id, home.app.appId, { kind: 'secret', clientSecret: home.app.secret }).acquire());
    assert.equal(failure.errorCode, 'unauthorized_client');
    assert.match(failure.errorMessage, new RegExp(`AADSTS700016: Application with identifier '${home.app.appId}' was not found in the directory`));
  });

  it('serves the discovery document of organizations and common, whose issuer names no tenant', async () => {
    for (const segment of ['organizations', 'common']) {
      const answer = await fetch(`${harness.sim.url}/${segment}/v2.0/.well-known/openid-configuration`, { dispatcher: harness.dispatcher });
      assert.equal(answer.status, 200);
      const document = (await answer.json()) as { token_endpoint: string; issuer: string; jwks_uri: string };
      assert.equal(document.token_endpoint, `${harness.sim.url}/${segment}/oauth2/v2.0/token`);
      assert.equal(document.issuer, `${harness.sim.url}/{tenantid}/v2.0`);
      assert.equal(document.jwks_uri, `${harness.sim.url}/${segment}/discovery/v2.0/keys`);
    }
  });

  it("answers sign-ins on a host of its own, as Microsoft's login host, which serves neither Graph nor the control API", async () => {
    const { url, identityUrl } = harness.sim;
    assert.notEqual(new URL(identityUrl).port, new URL(url).port);
    // The daemon's way: the identity platform's origin as the authority host, Graph's as Graph's.
    const endpoints = { ...harness.endpoints, authorityHost: identityUrl };
    const dispatcher = createHttpDispatcher(endpoints);
    try {
      const tenant = await harness.createTenant({ users: 3 });
      const tokens = new TenantTokenSource({ tenant: tenant.id, clientId: tenant.app.appId, credential: { kind: 'secret', clientSecret: tenant.app.secret } }, endpoints, dispatcher);
      const users = (await createTenantGraphClient(tokens, endpoints, dispatcher, { maxRetries: 0, delaySeconds: 1 }).api('/users').get()) as { value: unknown[] };
      assert.equal(users.value.length, 3);
      const discovery = await fetch(`${identityUrl}/${tenant.id}/v2.0/.well-known/openid-configuration`, { dispatcher });
      assert.equal(((await discovery.json()) as { token_endpoint: string }).token_endpoint, `${identityUrl}/${tenant.id}/oauth2/v2.0/token`);
      const { accessToken } = await tokens.acquire();
      for (const [path, what] of [['/v1.0/users', 'Graph'], ['/_sim/tenants', 'control API']] as const) {
        const answer = await fetch(`${identityUrl}${path}`, { dispatcher, headers: { authorization: `Bearer ${accessToken}` } });
        const body = (await answer.json()) as { error: { code: string; message: string } };
        assert.equal(answer.status, 404, path);
        assert.equal(body.error.code, 'NotFound');
        assert.equal(body.error.message, `The identity platform's host serves no ${what}: GET ${path}.`);
      }
    } finally {
      await dispatcher.close();
    }
  });

  it('answers an unknown tenant with invalid_tenant AADSTS90002 at discovery, and 900023 for a malformed one', async () => {
    // msal reports a failed discovery as endpoints_resolution_error, and the token source reads the reason;
    // once the instance's OpenID configuration is known, the token endpoint answers the same, in msal's words.
    const failure = await msalFailure(
      harness.tokens('nobody-here.onmicrosoft.com', '00000000-0000-4000-8000-000000000000', { kind: 'secret', clientSecret: 'x' }).acquire(),
    );
    assert.equal(failure.errorCode, 'invalid_tenant');
    assert.match(failure.errorMessage, /AADSTS90002: Tenant 'nobody-here\.onmicrosoft\.com' not found/);
    const discovery = await fetch(`${harness.sim.url}/nobody-here.onmicrosoft.com/v2.0/.well-known/openid-configuration`, { dispatcher: harness.dispatcher });
    const body = (await discovery.json()) as { error: string; error_codes: number[]; error_description: string };
    assert.equal(discovery.status, 400);
    assert.equal(body.error, 'invalid_tenant');
    assert.deepEqual(body.error_codes, [90002]);
    assert.match(body.error_description, /^AADSTS90002: Tenant 'nobody-here.onmicrosoft.com' not found/);
    const malformed = await fetch(`${harness.sim.url}/not_a_tenant/oauth2/v2.0/token`, { method: 'POST', dispatcher: harness.dispatcher, body: 'grant_type=client_credentials' });
    assert.equal(malformed.status, 400);
    assert.deepEqual(((await malformed.json()) as { error_codes: number[] }).error_codes, [900023]);
  });

  it('answers a disabled app with unauthorized_client AADSTS7000112', async () => {
    const tenant = await harness.createTenant({ app: { enabled: false } });
    const failure = await msalFailure(harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire());
    assert.equal(failure.errorCode, 'unauthorized_client');
    assert.match(failure.errorMessage, /AADSTS7000112: Application '[0-9a-f-]{36}'\(m365-status\) is disabled/);
  });

  it('answers an app without a service principal with invalid_client AADSTS7000229', async () => {
    const tenant = await harness.createTenant({ app: { hasServicePrincipal: false } });
    const failure = await msalFailure(harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire());
    assert.equal(failure.errorCode, 'invalid_client');
    assert.match(failure.errorMessage, /AADSTS7000229/);
  });

  it('gives an app without admin consent a token with no roles claim at all', async () => {
    const tenant = await harness.createTenant({ app: { consentGranted: false } });
    const token = await harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire();
    assert.equal('roles' in decodeJwt(token.accessToken), false);
    assert.deepEqual(token.roles, []);
  });

  it('serves tokens from msal\'s cache and a fresh one when asked, which sees a revoked secret', async () => {
    const tenant = await harness.createTenant();
    const source = harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret });
    const first = await source.acquire();
    const cached = await source.acquire();
    assert.equal(cached.accessToken, first.accessToken);
    const before = (await harness.control<{ tokenRequests: number }>('GET', `/tenants/${tenant.id}/counters`)).body.tokenRequests;
    assert.equal(before, 1);
    assert.equal((await harness.control('DELETE', `/tenants/${tenant.id}/apps/${tenant.app.appId}/secrets`)).status, 204);
    assert.equal((await source.acquire()).accessToken, first.accessToken, 'a cached token outlives its secret, as in Entra');
    const failure = await msalFailure(source.acquire({ fresh: true }));
    assert.match(failure.errorMessage, /AADSTS7000215/);
  });

  it('accepts a rotated secret and refuses the old one once it is removed', async () => {
    const tenant = await harness.createTenant();
    const rotated = await harness.control<{ secret: string }>('POST', `/tenants/${tenant.id}/apps/${tenant.app.appId}/secrets`, { replaceExisting: true });
    assert.equal(rotated.status, 201);
    const fresh = await harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: rotated.body.secret }).acquire();
    assert.ok(fresh.accessToken);
    const failure = await msalFailure(harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire());
    assert.match(failure.errorMessage, /AADSTS7000215/);
  });

  it('answers 503 temporarily_unavailable while the tenant\'s token endpoint is out', async () => {
    const tenant = await harness.createTenant();
    await harness.control('PUT', `/tenants/${tenant.id}/faults`, { tokenOutage: true });
    const failure = await msalFailure(harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire());
    assert.match(`${failure.errorCode} ${failure.errorMessage}`, /temporarily_unavailable|AADSTS90033/);
  });
});
