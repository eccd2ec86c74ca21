import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { decodeJwt } from 'jose';
import { fetch } from 'undici';
import { SimHarness, type CreatedTenant } from '../support/simHarness';

type Tenant = CreatedTenant & { app: { appId: string; secret: string } };
type Customer = CreatedTenant;

const graphScope = 'https://graph.microsoft.com/.default';
const redirectUri = 'http://localhost/onboarding/callback';
const requestedRoles = ['User.Read.All', 'User.EnableDisableAccount.All', 'User.RevokeSessions.All', 'AuditLog.Read.All'];

async function failure<T>(promise: Promise<unknown>, kind: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof kind, `expected a ${kind.name}, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

async function msalFailure(promise: Promise<unknown>): Promise<{ errorCode: string; errorMessage: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { errorCode: string; errorMessage: string };
  }
  assert.fail('expected the token request to fail');
}

describe('sim: multi-tenant app, admin consent and GDAP customers', () => {
  let harness: SimHarness;
  let partner: Tenant;

  before(async () => {
    harness = await SimHarness.start();
    partner = await harness.createTenant({
      domain: 'partner.onmicrosoft.com',
      displayName: 'Partner MSP',
      users: 2,
      app: { multiTenant: true, redirectUris: [redirectUri], roles: [...requestedRoles, 'DelegatedAdminRelationship.Read.All'] },
    });
  });
  after(async () => harness.stop());

  const newCustomer = async (domain: string): Promise<Customer> => {
    const { status, body } = await harness.control<Customer>('POST', '/tenants', { domain, displayName: domain.split('.')[0], users: 12 });
    assert.equal(status, 201);
    return body;
  };
  const tokensIn = (tenant: string) => harness.tokens(tenant, partner.app.appId, { kind: 'secret', clientSecret: partner.app.secret });
  const consentUrl = (tenant: string, params: Record<string, string> = {}) => {
    const query = new URLSearchParams({ client_id: partner.app.appId, scope: graphScope, redirect_uri: redirectUri, state: randomUUID(), ...params });
    return `${harness.sim.url}/${tenant}/v2.0/adminconsent?${query.toString()}`;
  };
  /** Reads the consent page and posts its form back with the admin's choice, as a browser would. */
  const decide = async (url: string, decision: 'accept' | 'cancel', extra: Record<string, string> = {}) => {
    const page = await fetch(url, { dispatcher: harness.dispatcher });
    assert.equal(page.status, 200);
    const text = await page.text();
    const action = text.match(/<form method="post" action="([^"]+)"/)?.[1];
    assert.ok(action, 'the page has a form');
    const form = new URLSearchParams({ decision, ...extra });
    for (const [, name, value] of text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(name ?? '', (value ?? '').replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code))));
    }
    const answer = await fetch(new URL(action, harness.sim.url), {
      method: 'POST',
      dispatcher: harness.dispatcher,
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    return { page: text, answer };
  };
  const location = (answer: { status: number; headers: { get(name: string): string | null } }) => {
    assert.equal(answer.status, 302);
    const target = answer.headers.get('location');
    assert.ok(target);
    return new URL(target);
  };

  it("gives the app tokens in two consenting customers with the customer's tid and the roles each granted, and AADSTS7000229 where nobody consented", async () => {
    const full = await newCustomer('full-consent.onmicrosoft.com');
    const partial = await newCustomer('partial-consent.onmicrosoft.com');
    const none = await newCustomer('no-consent.onmicrosoft.com');
    assert.equal((await harness.control('POST', `/tenants/${full.id}/servicePrincipals`, { appId: partner.app.appId })).status, 201);
    await harness.control('PUT', `/tenants/${partial.id}/consent`, { grantableRoles: ['User.Read.All', 'User.RevokeSessions.All'] });
    assert.equal((await harness.control('POST', `/tenants/${partial.id}/servicePrincipals`, { appId: partner.app.appId })).status, 201);

    const fullToken = await tokensIn(full.id).acquire();
    assert.equal(decodeJwt(fullToken.accessToken).tid, full.id);
    assert.equal(decodeJwt(fullToken.accessToken).appid, partner.app.appId);
    assert.deepEqual(fullToken.roles, [...requestedRoles, 'DelegatedAdminRelationship.Read.All']);
    const partialToken = await tokensIn('partial-consent.onmicrosoft.com').acquire();
    assert.equal(decodeJwt(partialToken.accessToken).tid, partial.id);
    assert.deepEqual(partialToken.roles, ['User.Read.All', 'User.RevokeSessions.All']);

    const refused = await msalFailure(tokensIn(none.id).acquire());
    assert.equal(refused.errorCode, 'invalid_client');
    assert.match(refused.errorMessage, new RegExp(`AADSTS7000229: The client application ${partner.app.appId} is missing service principal in the tenant ${none.id}`));
    const raw = await fetch(`${harness.sim.url}/${none.id}/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher: harness.dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: partner.app.appId, client_secret: partner.app.secret, scope: graphScope }).toString(),
    });
    const body = (await raw.json()) as { error: string; error_codes: number[]; trace_id: string; correlation_id: string };
    assert.equal(raw.status, 401);
    assert.equal(body.error, 'invalid_client');
    assert.deepEqual(body.error_codes, [7000229]);
    assert.ok(body.trace_id && body.correlation_id);
  });

  it('keeps the credential the home registration has: a wrong secret is refused in a consenting customer too', async () => {
    const customer = await newCustomer('wrong-secret-customer.onmicrosoft.com');
    await harness.control('POST', `/tenants/${customer.id}/servicePrincipals`, { appId: partner.app.appId });
    const refused = await msalFailure(harness.tokens(customer.id, partner.app.appId, { kind: 'secret', clientSecret: 'not-the-secret' }).acquire());
    assert.match(refused.errorMessage, /AADSTS7000215/);
  });

  it('serves the consent page, and on Accept creates the service principal and redirects with tenant, state, scope and admin_consent; the new token reads users through Graph', async () => {
    const customer = await newCustomer('accepts.onmicrosoft.com');
    const state = randomUUID();
    const { page, answer } = await decide(consentUrl('accepts.onmicrosoft.com', { state }), 'accept');
    assert.match(page, /Partner MSP/);
    assert.match(page, /m365-status/);
    for (const role of requestedRoles) assert.ok(page.includes(role), `the page names ${role}`);
    assert.match(page, /value="accept">Accept</);
    assert.match(page, /value="cancel">Cancel</);
    const back = location(answer);
    assert.equal(`${back.origin}${back.pathname}`, redirectUri);
    assert.equal(back.searchParams.get('tenant'), customer.id);
    assert.equal(back.searchParams.get('state'), state);
    assert.equal(back.searchParams.get('scope'), graphScope);
    assert.equal(back.searchParams.get('admin_consent'), 'True');
    assert.equal(back.searchParams.has('error'), false);

    const tokens = tokensIn(customer.id);
    assert.equal(decodeJwt((await tokens.acquire()).accessToken).tid, customer.id);
    const users = await harness.graph(tokens).api('/users').select('id,userPrincipalName').get();
    assert.equal(users.value.length, 12);
    assert.ok(users.value.every((u: { userPrincipalName: string }) => u.userPrincipalName.endsWith('@accepts.onmicrosoft.com')));
  });

  it('lets an admin consent through `organizations` by naming the organization on the page', async () => {
    const customer = await newCustomer('via-organizations.onmicrosoft.com');
    const { page, answer } = await decide(consentUrl('organizations'), 'accept', { organization: customer.id });
    assert.match(page, /name="organization"/);
    assert.equal(location(answer).searchParams.get('tenant'), customer.id);
    assert.ok((await tokensIn(customer.id).acquire()).accessToken);
  });

  it('redirects a Cancel with access_denied, an error_description and the state, and creates nothing', async () => {
    const customer = await newCustomer('cancels.onmicrosoft.com');
    const state = randomUUID();
    const back = location((await decide(consentUrl(customer.id, { state }), 'cancel')).answer);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.match(back.searchParams.get('error_description') ?? '', /^AADSTS65004: User declined to consent/);
    assert.equal(back.searchParams.get('state'), state);
    assert.equal(back.searchParams.has('admin_consent'), false);
    assert.match((await msalFailure(tokensIn(customer.id).acquire())).errorMessage, /AADSTS7000229/);
  });

  it('refuses an unregistered redirect URI with an error page (AADSTS50011), not a redirect, and allows any port on a loopback one', async () => {
    const customer = await newCustomer('redirects.onmicrosoft.com');
    for (const unregistered of ['https://evil.example/onboarding/callback', 'http://localhost/other/path', 'http://127.0.0.1:8400/onboarding/callback']) {
      const page = await fetch(consentUrl(customer.id, { redirect_uri: unregistered }), { dispatcher: harness.dispatcher, redirect: 'manual' });
      assert.equal(page.status, 400, unregistered);
      assert.equal(page.headers.get('location'), null);
      assert.match(await page.text(), /AADSTS50011: The redirect URI/);
    }
    const posted = await fetch(`${harness.sim.url}/${customer.id}/v2.0/adminconsent`, {
      method: 'POST',
      dispatcher: harness.dispatcher,
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ decision: 'accept', client_id: partner.app.appId, scope: graphScope, redirect_uri: 'https://evil.example/cb' }).toString(),
    });
    assert.equal(posted.status, 400);
    assert.equal(posted.headers.get('location'), null);
    assert.match((await msalFailure(tokensIn(customer.id).acquire())).errorMessage, /AADSTS7000229/);

    const loopback = 'http://localhost:53117/onboarding/callback';
    const back = location((await decide(consentUrl(customer.id, { redirect_uri: loopback }), 'accept')).answer);
    assert.equal(`${back.origin}${back.pathname}`, loopback);
    assert.equal(back.searchParams.get('admin_consent'), 'True');
  });

  it('answers an unknown app or tenant with an error page, names like constructor included', async () => {
    const customer = await newCustomer('unknowns.onmicrosoft.com');
    const unknownApp = await fetch(consentUrl(customer.id, { client_id: randomUUID() }), { dispatcher: harness.dispatcher });
    assert.equal(unknownApp.status, 400);
    assert.match(await unknownApp.text(), /AADSTS700016/);
    const oddApp = await fetch(consentUrl(customer.id, { client_id: 'constructor' }), { dispatcher: harness.dispatcher });
    assert.equal(oddApp.status, 400);
    const oddTenant = await fetch(consentUrl('constructor'), { dispatcher: harness.dispatcher });
    assert.equal(oddTenant.status, 400);
    assert.match(await oddTenant.text(), /AADSTS90002/);
    const { answer } = await decide(consentUrl('organizations'), 'accept', { organization: '__proto__' });
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /AADSTS90002/);
  });

  it('redirects with the non-admin error when the one signing in is not an admin, and creates nothing', async () => {
    const customer = await newCustomer('not-an-admin.onmicrosoft.com');
    assert.equal((await harness.control('PUT', `/tenants/${customer.id}/consent`, { signedInUserIsAdmin: false })).status, 200);
    const state = randomUUID();
    const back = location((await decide(consentUrl(customer.id, { state }), 'accept')).answer);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.match(back.searchParams.get('error_description') ?? '', /^AADSTS90094: m365-status needs permission to access resources in your organization that only an admin can grant/);
    assert.equal(back.searchParams.get('state'), state);
    assert.deepEqual((await harness.control<{ value: unknown[] }>('GET', `/tenants/${customer.id}/servicePrincipals`)).body.value, []);
  });

  it('grants fewer roles than asked for when the tenant limits them, and the token carries only those', async () => {
    const customer = await newCustomer('grants-less.onmicrosoft.com');
    await harness.control('PUT', `/tenants/${customer.id}/consent`, { grantableRoles: ['User.Read.All'] });
    const back = location((await decide(consentUrl(customer.id), 'accept')).answer);
    assert.equal(back.searchParams.get('admin_consent'), 'True');
    const token = await tokensIn(customer.id).acquire();
    assert.deepEqual(token.roles, ['User.Read.All']);
    const client = harness.graph(tokensIn(customer.id));
    assert.equal((await client.api('/users').top(1).get()).value.length, 1);
    const refused = await failure(client.api(`/users/${randomUUID()}`).patch({ accountEnabled: false }), GraphError);
    assert.equal(refused.statusCode, 403);
  });

  it('validates the control API additions, naming the field, and treats odd ids as unknown', async () => {
    const customer = await newCustomer('control-checks.onmicrosoft.com');
    const expect400 = async (method: string, path: string, body: unknown, field: string) => {
      const answer = await harness.control<{ error: { field?: string } }>(method, path, body);
      assert.equal(answer.status, 400, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(answer.body.error.field, field);
    };
    await expect400('POST', '/tenants', { app: { redirectUris: ['ftp://files.example/cb'] } }, 'app.redirectUris.0');
    await expect400('PUT', `/tenants/${customer.id}/consent`, { grantableRoles: ['Everything.All'] }, 'grantableRoles.0');
    await expect400('PUT', `/tenants/${customer.id}/consent`, { signedInUserIsAdmin: 'yes' }, 'signedInUserIsAdmin');
    await expect400('POST', `/tenants/${customer.id}/servicePrincipals`, { appId: 'constructor' }, 'appId');
    await expect400('POST', `/tenants/${partner.id}/servicePrincipals`, { appId: partner.app.appId }, 'appId');
    await expect400('POST', `/tenants/${partner.id}/customers`, { tenantId: randomUUID() }, 'displayName');
    await expect400('POST', `/tenants/${partner.id}/customers`, { tenantId: 'constructor', displayName: 'x' }, 'tenantId');
    await expect400('POST', `/tenants/${partner.id}/customers`, { tenantId: partner.id }, 'tenantId');
    assert.equal((await harness.control('POST', `/tenants/${customer.id}/servicePrincipals`, { appId: randomUUID() })).status, 404);
    assert.equal((await harness.control('DELETE', `/tenants/${customer.id}/servicePrincipals/constructor`)).status, 404);
    assert.equal((await harness.control('PATCH', `/tenants/${partner.id}/customers/constructor`, { active: false })).status, 404);
    assert.equal((await harness.control('DELETE', `/tenants/${partner.id}/customers/__proto__`)).status, 404);
    const refused = await msalFailure(harness.tokens(customer.id, 'constructor', { kind: 'secret', clientSecret: 'x' }).acquire());
    assert.match(refused.errorMessage, /AADSTS700016/);
  });

  it('stops issuing tokens in a customer once its service principal is removed', async () => {
    const customer = await newCustomer('revokes.onmicrosoft.com');
    await harness.control('POST', `/tenants/${customer.id}/servicePrincipals`, { appId: partner.app.appId });
    assert.ok((await tokensIn(customer.id).acquire()).accessToken);
    assert.equal((await harness.control('DELETE', `/tenants/${customer.id}/servicePrincipals/${partner.app.appId}`)).status, 204);
    assert.match((await msalFailure(tokensIn(customer.id).acquire({ fresh: true }))).errorMessage, /AADSTS7000229/);
  });

  describe('GDAP: delegatedAdminCustomers', () => {
    it('pages through the active customers with the Graph client by @odata.nextLink, each once, with $select', async () => {
      const gdap = await harness.createTenant({ users: 1, app: { roles: ['DelegatedAdminRelationship.Read.All'] } });
      const named = await newCustomer('gdap-named.onmicrosoft.com');
      assert.equal((await harness.control('POST', `/tenants/${gdap.id}/customers`, { tenantId: named.id })).status, 201);
      const expected = new Map<string, string>([[named.id, 'gdap-named']]);
      for (let i = 0; i < 130; i++) {
        const tenantId = randomUUID();
        const active = i % 10 !== 3;
        const answer = await harness.control('POST', `/tenants/${gdap.id}/customers`, { tenantId, displayName: `Customer ${i}`, active });
        assert.equal(answer.status, 201);
        if (active) expected.set(tenantId, `Customer ${i}`);
      }
      const dropped = [...expected.keys()][5] ?? '';
      assert.equal((await harness.control('PATCH', `/tenants/${gdap.id}/customers/${dropped}`, { active: false })).status, 200);
      expected.delete(dropped);

      const client = harness.clientFor(gdap);
      let page = await client.api('/tenantRelationships/delegatedAdminCustomers').top(50).get();
      const seen = new Map<string, string>();
      let pages = 1;
      for (;;) {
        assert.ok(page.value.length <= 50);
        for (const item of page.value as Array<Record<string, unknown>>) {
          assert.deepEqual(Object.keys(item).sort(), ['@odata.etag', 'displayName', 'id', 'tenantId']);
          assert.equal(item.id, item.tenantId);
          assert.match(String(item['@odata.etag']), /^W\/"/);
          assert.equal(seen.has(String(item.tenantId)), false, 'each customer once');
          seen.set(String(item.tenantId), String(item.displayName));
        }
        const next = page['@odata.nextLink'];
        if (!next) break;
        assert.match(next, /\/v1\.0\/tenantRelationships\/delegatedAdminCustomers\?\$skiptoken=/);
        page = await client.api(next).get();
        pages++;
      }
      assert.equal(pages, Math.ceil(expected.size / 50));
      assert.deepEqual(seen, expected);

      const selected = await client.api('/tenantRelationships/delegatedAdminCustomers').select('displayName').top(300).get();
      assert.equal(selected.value.length, expected.size);
      assert.equal(selected['@odata.nextLink'], undefined);
      assert.deepEqual(Object.keys(selected.value[0]).sort(), ['@odata.etag', 'displayName']);
      const defaultPage = await client.api('/tenantRelationships/delegatedAdminCustomers').get();
      assert.equal(defaultPage.value.length, 100);
      assert.ok(defaultPage['@odata.nextLink']);
      const tooMany = await failure(client.api('/tenantRelationships/delegatedAdminCustomers').top(301).get(), GraphError);
      assert.equal(tooMany.statusCode, 400);
      const badSelect = await failure(client.api('/tenantRelationships/delegatedAdminCustomers').select('secret').get(), GraphError);
      assert.equal(badSelect.statusCode, 400);
    });

    it('lists a removed relationship no more', async () => {
      const gdap = await harness.createTenant({ users: 1, app: { roles: ['DelegatedAdminRelationship.Read.All'] } });
      const kept = randomUUID();
      const removed = randomUUID();
      await harness.control('POST', `/tenants/${gdap.id}/customers`, { tenantId: kept, displayName: 'Kept' });
      await harness.control('POST', `/tenants/${gdap.id}/customers`, { tenantId: removed, displayName: 'Removed' });
      assert.equal((await harness.control('DELETE', `/tenants/${gdap.id}/customers/${removed}`)).status, 204);
      const page = await harness.clientFor(gdap).api('/tenantRelationships/delegatedAdminCustomers').get();
      assert.deepEqual(page.value.map((c: { tenantId: string }) => c.tenantId), [kept]);
    });

    it('answers 403 Authorization_RequestDenied without DelegatedAdminRelationship.Read.All', async () => {
      const withoutPermission = await harness.createTenant({ users: 1 });
      await harness.control('POST', `/tenants/${withoutPermission.id}/customers`, { tenantId: randomUUID(), displayName: 'Hidden' });
      const refused = await failure(harness.clientFor(withoutPermission).api('/tenantRelationships/delegatedAdminCustomers').get(), GraphError);
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.code, 'Authorization_RequestDenied');
    });
  });
});
