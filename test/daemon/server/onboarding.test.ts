import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetch } from 'undici';
import type {
  ActivityView,
  ApiError,
  AppProfileView,
  ConsentLinkView,
  ConsentView,
  CustomerListView,
  DaemonEvent,
  TaskListEntry,
  TenantBatchView,
  TenantView,
} from '../../../protocol/daemonApi';
import { DaemonHarness, type SimTenant } from '../../support/daemonHarness';
import { ManualClock } from '../../support/manualClock';
import type { CreatedTenant } from '../../support/simHarness';
import { readSseMessages } from '../../support/sseMessages';
import { productRoles } from '../../support/productRoles';
import { Vault } from '../../../daemon/vault/vault';
import { vaultFilesText } from '../../support/vaultFilesText';
import { withFileSizeLimit } from '../../support/withFileSizeLimit';

const gdapRole = 'DelegatedAdminRelationship.Read.All';
/** What the README tells operators to register on the app: Microsoft accepts any port on a loopback one. */
const registeredRedirectUri = 'http://localhost/consent';

describe('daemon API: onboarding many customers through one multi-tenant app', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;
  let partner: SimTenant;
  let profile: AppProfileView;
  let domainCounter = 0;

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    partner = await harness.sim.createTenant({
      domain: 'contoso-msp.onmicrosoft.com',
      displayName: 'Contoso MSP',
      users: 2,
      app: { multiTenant: true, redirectUris: [registeredRedirectUri], roles: [...productRoles, gdapRole] },
    });
    const added = await harness.api<AppProfileView>('POST', '/v1/app-profiles', {
      name: 'Contoso MSP app',
      partnerTenant: partner.domain,
      appId: partner.app.appId,
      credential: { kind: 'secret', clientSecret: partner.app.secret, expiresAt: new Date(Date.now() + 10 * 86_400_000).toISOString() },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    profile = added.body;
  });
  after(async () => harness.stop());

  const newCustomer = async (options: { consented: boolean; users?: number; gdap?: boolean }): Promise<CreatedTenant> => {
    const domain = `customer${++domainCounter}.onmicrosoft.com`;
    const { status, body } = await harness.sim.control<CreatedTenant>('POST', '/tenants', { domain, displayName: `Customer ${domainCounter}`, users: options.users ?? 6 });
    assert.equal(status, 201);
    if (options.consented) assert.equal((await harness.sim.control('POST', `/tenants/${body.id}/servicePrincipals`, { appId: partner.app.appId })).status, 201);
    if (options.gdap) assert.equal((await harness.sim.control('POST', `/tenants/${partner.id}/customers`, { tenantId: body.id })).status, 201);
    return body;
  };
  const batch = (tenants: unknown[]) => harness.api<TenantBatchView>('POST', '/v1/tenants:batch', { tenants });
  const tenantView = async (id: string) => (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body;
  const synced = (id: string, users: number) =>
    harness.until(async () => {
      const view = await tenantView(id);
      return view.counts.total === users ? view : undefined;
    }, 15_000, `tenant ${id} to sync ${users} users`);

  /** Reads Microsoft's consent page and posts its form back with the admin's choice, as a browser would. */
  const decide = async (consentUrl: string, decision: 'accept' | 'cancel'): Promise<URL> => {
    const page = await fetch(consentUrl, { dispatcher: harness.sim.dispatcher });
    assert.equal(page.status, 200, 'the consent page');
    const text = await page.text();
    const action = text.match(/<form method="post" action="([^"]+)"/)?.[1];
    assert.ok(action, 'the page has a form');
    const form = new URLSearchParams({ decision });
    for (const [, name, value] of text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(name ?? '', (value ?? '').replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code))));
    }
    const answer = await fetch(new URL(action, harness.sim.sim.url), {
      method: 'POST',
      dispatcher: harness.sim.dispatcher,
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    assert.equal(answer.status, 302, 'Microsoft redirects back');
    return new URL(answer.headers.get('location') ?? '');
  };
  /** The admin's browser following the redirect to the daemon's loopback listener. */
  const followRedirect = async (target: URL) => {
    const response = await fetch(target);
    return { status: response.status, page: await response.text() };
  };

  describe('app profiles', () => {
    it('keeps the profile and its secret apart: the secret only in the vault, encrypted, never in an answer or the store', async () => {
      assert.equal(profile.appId, partner.app.appId);
      assert.equal(profile.partnerTenant, partner.domain);
      assert.equal(profile.credentialKind, 'secret');
      assert.deepEqual(profile.tenantIds, []);
      const listed = await harness.api<{ appProfiles: AppProfileView[] }>('GET', '/v1/app-profiles');
      assert.deepEqual(listed.body.appProfiles.map((p) => p.id), [profile.id]);
      assert.equal((await harness.api<AppProfileView>('GET', `/v1/app-profiles/${profile.id}`)).body.name, 'Contoso MSP app');
      for (const text of [JSON.stringify(listed.body), await readFile(join(harness.dataDir, 'store.json'), 'utf8'), await vaultFilesText(harness.dataDir)]) {
        assert.equal(text.includes(partner.app.secret), false);
      }
      assert.ok(harness.logLines.every((line) => !line.includes(partner.app.secret)), 'nor in the log');
    });

    it('refuses a second profile of the same name, bad input naming the field, and answers 404 for an unknown or malformed id', async () => {
      const same = await harness.api<ApiError>('POST', '/v1/app-profiles', {
        name: 'contoso msp APP',
        partnerTenant: partner.id,
        appId: partner.app.appId,
        credential: { kind: 'secret', clientSecret: 'x' },
      });
      assert.equal(same.status, 409);
      assert.equal(same.body.error.code, 'APP_PROFILE_EXISTS');
      const bad = await harness.api<ApiError>('POST', '/v1/app-profiles', { name: 'Other', partnerTenant: 'not a domain', appId: partner.app.appId, credential: { kind: 'secret', clientSecret: 'x' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.details?.field, 'partnerTenant');
      for (const id of ['00000000-0000-4000-8000-000000000000', 'constructor']) {
        const missing = await harness.api<ApiError>('GET', `/v1/app-profiles/${id}`);
        assert.equal(missing.status, 404, id);
        assert.equal(missing.body.error.code, 'APP_PROFILE_NOT_FOUND');
      }
    });
  });

  describe('bulk add', () => {
    it('answers each JSON entry on its own: added and syncing, already present, invalid with the reason, or needing consent with its link', async () => {
      const consented = await newCustomer({ consented: true, users: 7 });
      const notConsented = await newCustomer({ consented: false });
      const answer = await batch([
        { tenant: consented.domain, displayName: 'Consented Ltd', profile: 'contoso msp app', pollIntervalSeconds: 30 },
        { tenant: notConsented.id, profile: profile.id },
        { tenant: 'not a domain', profile: profile.id },
        { tenant: 'nobody.onmicrosoft.com', profile: 'No such profile' },
        { tenant: consented.domain.toUpperCase(), profile: profile.id },
        { tenant: 'extra.onmicrosoft.com', profile: profile.id, secret: 'x' },
      ]);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const [added, needsConsent, badTenant, badProfile, listedTwice, unknownField] = answer.body.results;
      assert.equal(added?.outcome, 'added');
      assert.ok(added?.outcome === 'added');
      assert.equal(added.tenantView.displayName, 'Consented Ltd');
      assert.equal(added.tenantView.appProfileId, profile.id);
      assert.equal(added.tenantView.appId, partner.app.appId);
      assert.equal(added.tenantView.pollIntervalMs, 30_000);
      assert.equal(added.tenantView.credentialHealth?.canGetToken, true);
      assert.deepEqual(added.tenantView.credentialHealth?.missingRoles, []);
      assert.ok(needsConsent?.outcome === 'needsConsent');
      const link = new URL(needsConsent.consent.consentUrl);
      assert.equal(link.pathname, `/${notConsented.id}/v2.0/adminconsent`);
      assert.equal(link.searchParams.get('client_id'), partner.app.appId);
      assert.equal(link.searchParams.get('scope'), 'https://graph.microsoft.com/.default');
      assert.equal(link.searchParams.get('state'), needsConsent.consent.state);
      assert.match(link.searchParams.get('redirect_uri') ?? '', /^http:\/\/localhost:\d+\/consent$/);
      assert.ok(badTenant?.outcome === 'invalid');
      assert.equal(badTenant.field, 'tenant');
      assert.match(badTenant.reason, /directory \(tenant\) id/);
      assert.ok(badProfile?.outcome === 'invalid');
      assert.equal(badProfile.field, 'profile');
      assert.match(badProfile.reason, /No app profile with the id or name "No such profile"/);
      assert.ok(listedTwice?.outcome === 'invalid');
      assert.match(listedTwice.reason, /listed already, at 1/);
      assert.ok(unknownField?.outcome === 'invalid');
      assert.match(unknownField.reason, /secret/);
      assert.deepEqual(answer.body.counts, { added: 1, alreadyPresent: 0, invalid: 4, needsConsent: 1 });

      const tenants = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants;
      assert.deepEqual(tenants.filter((t) => t.appProfileId === profile.id).map((t) => t.id), [added.tenantView.id], 'only the added one is a tenant');
      await synced(added.tenantView.id, 7);

      const again = await batch([{ tenant: consented.domain, profile: profile.id }]);
      assert.deepEqual(again.body.results[0], { line: 1, tenant: consented.domain, outcome: 'alreadyPresent', tenantId: added.tenantView.id });
    });

    it('adds a tenant listed both by its domain and by its directory id once, and answers the other line as already present', async () => {
      const customer = await newCustomer({ consented: true, users: 3 });
      const answer = await batch([
        { tenant: customer.domain, profile: profile.id },
        { tenant: customer.id, profile: profile.id },
      ]);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const outcomes = answer.body.results.map((result) => result.outcome).sort();
      assert.deepEqual(outcomes, ['added', 'alreadyPresent']);
      const added = answer.body.results.find((result) => result.outcome === 'added');
      const present = answer.body.results.find((result) => result.outcome === 'alreadyPresent');
      assert.ok(added?.outcome === 'added' && present?.outcome === 'alreadyPresent');
      assert.equal(present.tenantId, added.tenantView.id);
      const tenants = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants;
      assert.equal(tenants.filter((tenant) => tenant.tenant === customer.domain || tenant.tenant === customer.id).length, 1);
    });

    it('writes a bulk-added tenant once, with its credential check in it, before its first sync', async () => {
      const customer = await newCustomer({ consented: true, users: 3 });
      const controller = new AbortController();
      const seen: TenantView[] = [];
      const stream = await fetch(`${harness.daemon.url}/v1/events`, { headers: { authorization: `Bearer ${harness.daemon.token}` }, signal: controller.signal });
      void readSseMessages(stream.body as AsyncIterable<Uint8Array>, (m) => {
        const event = m.event === 'message' ? (JSON.parse(m.data) as DaemonEvent) : undefined;
        if (event?.type === 'tenant' && event.tenant.tenant === customer.domain) seen.push(event.tenant);
      }).catch(() => undefined);
      try {
        const answer = await batch([{ tenant: customer.domain, profile: profile.id }]);
        const result = answer.body.results[0];
        assert.ok(result?.outcome === 'added', JSON.stringify(answer.body));
        await synced(result.tenantView.id, 3);
        await harness.until(() => seen.some((t) => t.counts.total === 3) || undefined, 5_000, 'the synced tenant event');
      } finally {
        controller.abort();
      }
      const first = seen[0];
      assert.ok(first, 'a tenant event');
      assert.equal(first.credentialHealth?.canGetToken, true, 'the first the stream shows of it already carries its check');
      assert.equal(first.asOf, null, 'and comes before its first sync');
    });

    it('takes a CSV file with a header line, numbering answers by line, and refuses one without the needed columns', async () => {
      const first = await newCustomer({ consented: true, users: 3 });
      const second = await newCustomer({ consented: true, users: 4 });
      const csv = [
        'tenant,displayName,profile,pollIntervalSeconds',
        `${first.domain},"Fabrikam, Inc.",Contoso MSP app,`,
        '',
        `${second.id},Second,${profile.id},2`,
        `${second.id},Second,${profile.id},60`,
      ].join('\r\n');
      const answer = await harness.api<TenantBatchView>('POST', '/v1/tenants:batch', csv, { 'content-type': 'text/csv' });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const [fabrikam, tooFast, secondAdded] = answer.body.results;
      assert.ok(fabrikam?.outcome === 'added');
      assert.equal(fabrikam.line, 2);
      assert.equal(fabrikam.tenantView.displayName, 'Fabrikam, Inc.');
      assert.ok(tooFast?.outcome === 'invalid');
      assert.equal(tooFast.line, 4);
      assert.equal(tooFast.field, 'pollIntervalSeconds');
      assert.ok(secondAdded?.outcome === 'added', JSON.stringify(secondAdded));
      assert.equal(secondAdded.line, 5);
      await synced(secondAdded.tenantView.id, 4);

      const noProfile = await harness.api<ApiError>('POST', '/v1/tenants:batch', 'tenant,displayName\ncontoso.onmicrosoft.com,Contoso\n', { 'content-type': 'text/csv' });
      assert.equal(noProfile.status, 400);
      assert.equal(noProfile.body.error.details?.field, 'header');
      const plain = await harness.api<ApiError>('POST', '/v1/tenants:batch', 'tenant', { 'content-type': 'text/plain' });
      assert.equal(plain.status, 415);
    });

    it('bounds the list: more tenants than the limit are refused whole, naming it, and nothing is added', async () => {
      const before = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants.length;
      const entries = Array.from({ length: 201 }, (_v, i) => ({ tenant: `bulk${i}.onmicrosoft.com`, profile: profile.id }));
      const answer = await batch(entries);
      assert.equal(answer.status, 400);
      assert.match(JSON.stringify(answer.body), /at most 200 tenants at once/);
      assert.equal((await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants.length, before);
    });
  });

  describe('consent links', () => {
    it('registers the tenant when its admin accepts, checks its roles, syncs it, tells the event stream, and refuses the same answer again', async () => {
      const customer = await newCustomer({ consented: false, users: 5 });
      const controller = new AbortController();
      const events: DaemonEvent[] = [];
      const stream = await fetch(`${harness.daemon.url}/v1/events`, { headers: { authorization: `Bearer ${harness.daemon.token}` }, signal: controller.signal });
      void readSseMessages(stream.body as AsyncIterable<Uint8Array>, (m) => {
        if (m.event === 'message') events.push(JSON.parse(m.data) as DaemonEvent);
      }).catch(() => undefined);

      const link = await harness.api<ConsentLinkView>('POST', `/v1/app-profiles/${profile.id}/consents`, { tenant: customer.domain, displayName: 'Accepting Co' });
      assert.equal(link.status, 201);
      assert.equal((await harness.api<ConsentView>('GET', `/v1/app-profiles/${profile.id}/consents/${link.body.state}`)).body.status, 'pending');
      const back = await decide(link.body.consentUrl, 'accept');
      assert.equal(`${back.origin}${back.pathname}`, link.body.redirectUri);
      const shown = await followRedirect(back);
      assert.equal(shown.status, 200);
      assert.match(shown.page, /Consent recorded for Accepting Co/);
      assert.match(shown.page, /You may close this tab/);

      const outcome = (await harness.api<ConsentView>('GET', `/v1/app-profiles/${profile.id}/consents/${link.body.state}`)).body;
      assert.equal(outcome.status, 'granted');
      assert.deepEqual(outcome.missingRoles, []);
      assert.ok(outcome.tenantId);
      const tenant = await synced(outcome.tenantId, 5);
      assert.equal(tenant.tenant, customer.id, 'registered by the id in the answer');
      assert.equal(tenant.appProfileId, profile.id);
      await harness.until(() => events.some((e) => e.type === 'consent' && e.consent.state === link.body.state && e.consent.status === 'granted'), 5_000, 'the consent event');
      controller.abort();

      const replay = await followRedirect(back);
      assert.equal(replay.status, 400);
      assert.match(replay.page, /unknown, expired or already used\. Nothing was changed/);
      const tenants = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants;
      assert.equal(tenants.filter((t) => t.tenant === customer.id).length, 1);
    });

    it("shows Microsoft's error in plain words when the admin declines, records it, and registers nothing", async () => {
      const customer = await newCustomer({ consented: false });
      const link = await harness.api<ConsentLinkView>('POST', `/v1/app-profiles/${profile.id}/consents`, { tenant: customer.id });
      const shown = await followRedirect(await decide(link.body.consentUrl, 'cancel'));
      assert.equal(shown.status, 200);
      assert.match(shown.page, /The admin declined to consent to the app/);
      assert.match(shown.page, /access_denied: AADSTS65004/);
      const outcome = (await harness.api<ConsentView>('GET', `/v1/app-profiles/${profile.id}/consents/${link.body.state}`)).body;
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.error?.code, 'access_denied');
      assert.match(outcome.error?.description ?? '', /^AADSTS65004/);
      const tenants = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants;
      assert.equal(tenants.some((t) => t.tenant === customer.id), false);
    });

    it('names the roles a consent did not grant', async () => {
      const customer = await newCustomer({ consented: false });
      await harness.sim.control('PUT', `/tenants/${customer.id}/consent`, { grantableRoles: ['User.Read.All'] });
      const link = await harness.api<ConsentLinkView>('POST', `/v1/app-profiles/${profile.id}/consents`, { tenant: customer.id });
      const shown = await followRedirect(await decide(link.body.consentUrl, 'accept'));
      assert.match(shown.page, /did not grant User\.EnableDisableAccount\.All, User\.RevokeSessions\.All/);
      const outcome = (await harness.api<ConsentView>('GET', `/v1/app-profiles/${profile.id}/consents/${link.body.state}`)).body;
      assert.equal(outcome.status, 'granted');
      assert.deepEqual(outcome.missingRoles, ['User.EnableDisableAccount.All', 'User.RevokeSessions.All']);
      assert.deepEqual(outcome.missingOptionalRoles, ['AuditLog.Read.All']);
      assert.deepEqual((await tenantView(outcome.tenantId ?? '')).credentialHealth?.missingRoles, ['User.EnableDisableAccount.All', 'User.RevokeSessions.All']);
    });

    it('registers nothing for an answer naming another tenant than the link was made for, and fails the link', async () => {
      const asked = await newCustomer({ consented: false });
      // Another customer of the same partner, whose admin consented to the same app already.
      const other = await newCustomer({ consented: true });
      const link = await harness.api<ConsentLinkView>('POST', `/v1/app-profiles/${profile.id}/consents`, { tenant: asked.domain });
      const forged = new URL(link.body.redirectUri);
      forged.search = new URLSearchParams({ tenant: other.id, state: link.body.state, admin_consent: 'True' }).toString();
      const shown = await followRedirect(forged);
      assert.equal(shown.status, 400);
      assert.match(shown.page, new RegExp(`answered by directory ${other.id}, not by ${asked.domain.replace(/\./g, '\\.')}`));
      const outcome = (await harness.api<ConsentView>('GET', `/v1/app-profiles/${profile.id}/consents/${link.body.state}`)).body;
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.error?.code, 'tenant_mismatch');
      const tenants = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants;
      assert.equal(tenants.some((t) => t.tenant === other.id || t.tenant === asked.id || t.displayName === asked.domain), false, 'nothing registered');
    });

    it('changes nothing for an answer with an unknown state, and answers 404 for a state it never made', async () => {
      const customer = await newCustomer({ consented: true });
      const link = await harness.api<ConsentLinkView>('POST', `/v1/app-profiles/${profile.id}/consents`, { tenant: customer.id });
      const forged = new URL(link.body.redirectUri);
      forged.search = new URLSearchParams({ tenant: customer.id, state: 'A'.repeat(32), admin_consent: 'True' }).toString();
      const shown = await followRedirect(forged);
      assert.equal(shown.status, 400);
      const tenants = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants;
      assert.equal(tenants.some((t) => t.tenant === customer.id), false);
      assert.equal((await harness.api<ConsentView>('GET', `/v1/app-profiles/${profile.id}/consents/${link.body.state}`)).body.status, 'pending');
      const unknown = await harness.api<ApiError>('GET', `/v1/app-profiles/${profile.id}/consents/${'B'.repeat(32)}`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'CONSENT_STATE_UNKNOWN');
      assert.equal((await fetch(new URL('/v1/tenants', link.body.redirectUri))).status, 404, 'the listener serves the consent answer only');
    });
  });

  describe('customer discovery', () => {
    it("lists the partner's GDAP customers with which are added, consented or not yet consented", async () => {
      const added = await newCustomer({ consented: true, gdap: true });
      const consented = await newCustomer({ consented: true, gdap: true });
      const notConsented = await newCustomer({ consented: false, gdap: true });
      const registered = await batch([{ tenant: added.id, profile: profile.id }]);
      assert.equal(registered.body.counts.added, 1);
      const answer = await harness.api<CustomerListView>('GET', `/v1/app-profiles/${profile.id}/customers`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const byId = new Map(answer.body.customers.map((c) => [c.tenantId, c]));
      assert.equal(answer.body.customers.length, 3);
      assert.equal(byId.get(added.id)?.added, true);
      assert.equal(byId.get(added.id)?.consent, 'consented');
      assert.equal(byId.get(consented.id)?.added, false);
      assert.equal(byId.get(consented.id)?.consent, 'consented');
      assert.deepEqual(byId.get(consented.id)?.missingRoles, []);
      assert.equal(byId.get(notConsented.id)?.consent, 'notConsented');
      assert.equal(byId.get(notConsented.id)?.displayName, notConsented.domain.split('.')[0]?.replace('customer', 'Customer '));
    });

    it('follows @odata.nextLink past one page of 300', async () => {
      const big = await harness.sim.createTenant({ users: 1, app: { multiTenant: true, roles: [gdapRole] } });
      const many = await harness.api<AppProfileView>('POST', '/v1/app-profiles', {
        name: 'Many customers',
        partnerTenant: big.id,
        appId: big.app.appId,
        credential: { kind: 'secret', clientSecret: big.app.secret },
      });
      for (let i = 0; i < 305; i++) {
        await harness.sim.control('POST', `/tenants/${big.id}/customers`, { tenantId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, displayName: `Far ${i}` });
      }
      const answer = await harness.api<CustomerListView>('GET', `/v1/app-profiles/${many.body.id}/customers`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body).slice(0, 500));
      assert.equal(answer.body.customers.length, 305);
      assert.equal(new Set(answer.body.customers.map((c) => c.tenantId)).size, 305);
      assert.ok(answer.body.customers.every((c) => c.consent !== 'consented'));
    });

    it('names the missing permission when the app may not read GDAP customers', async () => {
      const withoutGdap = await harness.sim.createTenant({ users: 1, app: { multiTenant: true, roles: productRoles } });
      const noGdap = await harness.api<AppProfileView>('POST', '/v1/app-profiles', {
        name: 'No GDAP',
        partnerTenant: withoutGdap.id,
        appId: withoutGdap.app.appId,
        credential: { kind: 'secret', clientSecret: withoutGdap.app.secret },
      });
      const answer = await harness.api<ApiError>('GET', `/v1/app-profiles/${noGdap.body.id}/customers`);
      assert.equal(answer.status, 502);
      assert.equal(answer.body.error.code, 'MISSING_PERMISSIONS');
      assert.match(answer.body.error.message, /DelegatedAdminRelationship\.Read\.All/);
    });
  });

  describe('rotation and removal', () => {
    it("rotates the profile's secret for every tenant using it in one action: one activity, each tenant checked and green again", async () => {
      const customers = [await newCustomer({ consented: true, users: 3 }), await newCustomer({ consented: true, users: 3 })];
      const added = await batch(customers.map((c) => ({ tenant: c.id, profile: profile.id })));
      assert.equal(added.body.counts.added, 2);
      const onProfile = (await harness.api<AppProfileView>('GET', `/v1/app-profiles/${profile.id}`)).body.tenantIds;
      assert.ok(onProfile.length >= 3);

      // The old secret revoked at Microsoft: every tenant on the profile fails, and the profile says so once.
      const rotated = await harness.sim.control<{ secret: string }>('POST', `/tenants/${partner.id}/apps/${partner.app.appId}/secrets`, { replaceExisting: true });
      assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
      for (const id of onProfile) await harness.api('POST', `/v1/tenants/${id}/credential-health`);
      const failing = (await harness.api<AppProfileView>('GET', `/v1/app-profiles/${profile.id}`)).body.credentialHealth;
      assert.deepEqual(failing.failingTenants.map((t) => t.id).sort(), [...onProfile].sort());
      assert.match(failing.failingTenants[0]?.failure?.message ?? '', /client secret is wrong/);
      assert.equal(failing.expiresSoon, true, 'the declared expiry is 10 days away');

      const activitiesBefore = (await harness.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?limit=1000')).body.entries;
      const answer = await harness.api<AppProfileView>('POST', `/v1/app-profiles/${profile.id}/credentials`, { credential: { kind: 'secret', clientSecret: rotated.body.secret } });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      // Only a tenant whose admin granted fewer roles (an earlier test) still shows, for its roles, not its secret.
      assert.ok(answer.body.credentialHealth.failingTenants.every((t) => t.failure === null && t.missingRoles.length > 0));
      const addedIds = added.body.results.map((r) => (r.outcome === 'added' ? r.tenantView.id : ''));
      assert.ok(addedIds.every((id) => id && !answer.body.credentialHealth.failingTenants.some((t) => t.id === id)));
      assert.deepEqual(answer.body.credentialHealth.uncheckedTenantIds, []);
      assert.equal(answer.body.credentialHealth.tenantCount, onProfile.length);
      assert.equal(answer.body.credentialHealth.credentialExpiresAt, null, 'the new secret declared no expiry');
      assert.ok(answer.body.credentialsRotatedAt);
      for (const id of onProfile) assert.equal((await tenantView(id)).credentialHealth?.canGetToken, true);

      const activities = (await harness.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?limit=1000')).body.entries
        .filter((e): e is { type: 'activity'; at: number; activity: ActivityView } => e.type === 'activity' && e.activity.kind === 'credentials-rotated')
        .filter((e) => !activitiesBefore.some((b) => b.type === 'activity' && b.activity.id === e.activity.id));
      assert.equal(activities.length, 1, 'one activity for the whole rotation');
      assert.equal(activities[0]?.activity.tenantId, null);
      assert.match(activities[0]?.activity.description ?? '', new RegExp(`app profile "Contoso MSP app", used by ${onProfile.length} tenants`));
      assert.ok(!(await vaultFilesText(harness.dataDir)).includes(rotated.body.secret));
    });

    it("refuses a tenant's own rotation and the profile's removal while tenants use it, naming them; removes it once they are gone", async () => {
      const customer = await newCustomer({ consented: true, users: 2 });
      const spare = await harness.sim.createTenant({ users: 1, app: { multiTenant: true, roles: productRoles } });
      const other = await harness.api<AppProfileView>('POST', '/v1/app-profiles', {
        name: 'Removable',
        partnerTenant: spare.id,
        appId: spare.app.appId,
        credential: { kind: 'secret', clientSecret: spare.app.secret },
      });
      await harness.sim.control('POST', `/tenants/${customer.id}/servicePrincipals`, { appId: spare.app.appId });
      const added = await batch([{ tenant: customer.id, displayName: 'Only User', profile: 'Removable' }]);
      const result = added.body.results[0];
      assert.ok(result?.outcome === 'added', JSON.stringify(result));
      const ownRotation = await harness.api<ApiError>('PUT', `/v1/tenants/${result.tenantView.id}/credentials`, { credential: { kind: 'secret', clientSecret: 'x' } });
      assert.equal(ownRotation.status, 409);
      assert.equal(ownRotation.body.error.code, 'TENANT_ON_APP_PROFILE');

      const refused = await harness.api<ApiError>('DELETE', `/v1/app-profiles/${other.body.id}`);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'APP_PROFILE_IN_USE');
      assert.match(refused.body.error.message, /Only User/);
      assert.equal((await harness.api('DELETE', `/v1/tenants/${result.tenantView.id}`)).status, 204);
      assert.equal((await harness.api('DELETE', `/v1/app-profiles/${other.body.id}`)).status, 204);
      assert.equal((await harness.api('GET', `/v1/app-profiles/${other.body.id}`)).status, 404);
      const stored = await Vault.storedTenantIds(harness.dataDir);
      assert.equal(stored.includes(`app-profile:${other.body.id}`), false, 'its credential left the vault');
      assert.equal(stored.includes(`app-profile:${profile.id}`), true);
    });

    it('keeps profiles and their tenants signing in across a restart, and warns once per expiring profile, not once per tenant', async () => {
      const soon = await harness.sim.createTenant({ users: 1, app: { multiTenant: true, roles: productRoles } });
      const expiring = await harness.api<AppProfileView>('POST', '/v1/app-profiles', {
        name: 'Expiring',
        partnerTenant: soon.id,
        appId: soon.app.appId,
        credential: { kind: 'secret', clientSecret: soon.app.secret, expiresAt: new Date(Date.now() + 5 * 86_400_000 + 3_600_000).toISOString() },
      });
      const customers = [await newCustomer({ consented: false, users: 1 }), await newCustomer({ consented: false, users: 1 })];
      for (const customer of customers) await harness.sim.control('POST', `/tenants/${customer.id}/servicePrincipals`, { appId: soon.app.appId });
      const added = await batch(customers.map((c) => ({ tenant: c.id, profile: 'Expiring' })));
      assert.equal(added.body.counts.added, 2, JSON.stringify(added.body));
      const onExpiring = added.body.results.map((r) => (r.outcome === 'added' ? r.tenantView.id : ''));
      assert.equal((await harness.api<AppProfileView>('GET', `/v1/app-profiles/${expiring.body.id}`)).body.credentialHealth.expiresSoon, true);

      await harness.restart();
      type Logs = { entries: Array<{ message: string; code: string | null; tenantId: string | null }> };
      const warnings = await harness.until(async () => {
        const entries = (await harness.api<Logs>('GET', '/v1/logs?level=warn&limit=1000')).body.entries.filter((e) => e.code === 'CREDENTIAL_EXPIRING');
        return entries.some((e) => e.message.includes('"Expiring"')) ? entries : undefined;
      }, 15_000, 'the profile expiry warning');
      assert.equal(warnings.filter((e) => e.message.includes('"Expiring"')).length, 1);
      assert.match(warnings.find((e) => e.message.includes('"Expiring"'))?.message ?? '', /secret of app profile "Expiring" expires in 5 days/);
      assert.equal(warnings.filter((e) => e.tenantId !== null && onExpiring.includes(e.tenantId)).length, 0, 'no warning per tenant on the profile');

      const listed = (await harness.api<{ appProfiles: AppProfileView[] }>('GET', '/v1/app-profiles')).body.appProfiles;
      const kept = listed.find((p) => p.id === profile.id);
      assert.ok(kept);
      const id = kept.tenantIds[0] ?? '';
      const rechecked = await harness.api<TenantView>('POST', `/v1/tenants/${id}/credential-health`);
      assert.equal(rechecked.body.credentialHealth?.canGetToken, true);
    });
  });
});

describe('daemon API: a consent link expires', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;
  let clock: ManualClock;
  before(async () => {
    clock = new ManualClock(Date.now());
    harness = await DaemonHarness.start({ pollIntervalMs: '1d' }, clock);
  });
  after(async () => harness.stop());

  it('ignores an answer that comes after 15 minutes, registers nothing, and reports the link as expired', async () => {
    const partner = await harness.sim.createTenant({ users: 1, app: { multiTenant: true, redirectUris: [registeredRedirectUri], roles: productRoles } });
    const customer = await harness.sim.control<CreatedTenant>('POST', '/tenants', { domain: 'late-admin.onmicrosoft.com', users: 2 });
    const profile = await harness.api<AppProfileView>('POST', '/v1/app-profiles', {
      name: 'Partner',
      partnerTenant: partner.id,
      appId: partner.app.appId,
      credential: { kind: 'secret', clientSecret: partner.app.secret },
    });
    const link = await harness.api<ConsentLinkView>('POST', `/v1/app-profiles/${profile.body.id}/consents`, { tenant: customer.body.id });
    assert.equal(link.body.expiresAt, clock.now() + 15 * 60_000);
    await clock.advanceAsync(15 * 60_000);

    // The admin accepts at Microsoft (consent is granted there), but the daemon no longer waits for it.
    const page = await fetch(link.body.consentUrl, { dispatcher: harness.sim.dispatcher });
    const text = await page.text();
    const form = new URLSearchParams({ decision: 'accept' });
    for (const [, name, value] of text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(name ?? '', (value ?? '').replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code))));
    }
    const action = text.match(/<form method="post" action="([^"]+)"/)?.[1] ?? '';
    const redirect = await fetch(new URL(action, harness.sim.sim.url), {
      method: 'POST',
      dispatcher: harness.sim.dispatcher,
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const late = await fetch(redirect.headers.get('location') ?? '');
    assert.equal(late.status, 400);
    assert.match(await late.text(), /expired or already used/);
    const outcome = (await harness.api<ConsentView>('GET', `/v1/app-profiles/${profile.body.id}/consents/${link.body.state}`)).body;
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.code, 'expired');
    assert.deepEqual((await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants, []);
  });
});

describe('daemon API: bulk add when the store cannot be written', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
  });
  after(async () => harness.stop());

  it('answers the entry as not added and keeps nothing of it, which can then be added', async () => {
    const partner = await harness.sim.createTenant({ users: 1, app: { multiTenant: true, roles: productRoles } });
    const profile = await harness.api<AppProfileView>('POST', '/v1/app-profiles', {
      name: 'Partner',
      partnerTenant: partner.id,
      appId: partner.app.appId,
      credential: { kind: 'secret', clientSecret: partner.app.secret },
    });
    const customer = await harness.sim.control<CreatedTenant>('POST', '/tenants', { domain: 'full-disk.onmicrosoft.com', users: 2 });
    assert.equal((await harness.sim.control('POST', `/tenants/${customer.body.id}/servicePrincipals`, { appId: partner.app.appId })).status, 201);
    const entry = { tenant: customer.body.domain, profile: profile.body.id };

    // store.json is rewritten whole through a new temporary file: a one-byte file-size limit fails that write.
    const failed = await withFileSizeLimit(1, () => harness.api<TenantBatchView>('POST', '/v1/tenants:batch', { tenants: [entry] }));
    assert.equal(failed.body.results[0]?.outcome, 'invalid', JSON.stringify(failed.body));
    assert.deepEqual((await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants, [], 'no tenant listed');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(!(await readFile(join(harness.dataDir, 'store.json'), 'utf8')).includes(customer.body.domain), 'nor written by a later write');

    const added = await harness.api<TenantBatchView>('POST', '/v1/tenants:batch', { tenants: [entry] });
    const result = added.body.results[0];
    assert.ok(result?.outcome === 'added', JSON.stringify(added.body));
    assert.equal(result.tenantView.credentialHealth?.canGetToken, true);
  });
});
