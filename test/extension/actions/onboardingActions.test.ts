import assert from 'node:assert/strict';
import type { AppProfileView } from '../../../protocol/daemonApi';
import { StatusActions } from '../../../extension/actions/statusActions';
import { DaemonClient } from '../../../extension/client/daemonClient';
import { readDaemonEndpoint } from '../../../extension/client/daemonEndpoint';
import { realTimers } from '../../../extension/common/timers';
import { StatusModel } from '../../../extension/model/statusModel';
import { tenantKey } from '../../../extension/model/tenantTreeModel';
import { adminConsentBrowser } from '../../support/adminConsentBrowser';
import type { SimTenant } from '../../support/daemonHarness';
import { DaemonHarness } from '../../support/daemonHarness';
import type { CreatedTenant } from '../../support/simHarness';
import { productRoles } from '../../support/productRoles';

const gdapRole = 'DelegatedAdminRelationship.Read.All';

/**
 * Onboarding many customers from the extension's side: app profiles, bulk add from a file, GDAP
 * discovery and admin-consent links, against a real daemon and the simulator behind it over HTTPS.
 */
describe('extension actions: onboarding customers through an app profile', function () {
  this.timeout(120_000);
  let harness: DaemonHarness;
  let client: DaemonClient;
  let model: StatusModel;
  let actions: StatusActions;
  let partner: SimTenant;
  let profile: AppProfileView;
  let counter = 0;

  const newCustomer = async (options: { consented: boolean; gdap?: boolean; users?: number }): Promise<CreatedTenant> => {
    const domain = `onboard${++counter}.onmicrosoft.com`;
    const { status, body } = await harness.sim.control<CreatedTenant>('POST', '/tenants', { domain, displayName: `Onboard ${counter}`, users: options.users ?? 3 });
    assert.equal(status, 201);
    if (options.consented) assert.equal((await harness.sim.control('POST', `/tenants/${body.id}/servicePrincipals`, { appId: partner.app.appId })).status, 201);
    if (options.gdap) assert.equal((await harness.sim.control('POST', `/tenants/${partner.id}/customers`, { tenantId: body.id })).status, 201);
    return body;
  };

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    const endpoint = await readDaemonEndpoint(harness.dataDir);
    assert.ok(endpoint, 'daemon.json is there');
    client = new DaemonClient({ endpoint: () => endpoint, operator: 'onboarding-test' });
    partner = await harness.sim.createTenant({
      domain: 'fabrikam-msp.onmicrosoft.com',
      displayName: 'Fabrikam MSP',
      users: 1,
      app: { multiTenant: true, redirectUris: ['http://localhost/consent'], roles: [...productRoles, gdapRole] },
    });
    model = new StatusModel({ users: client, pageSize: 200 });
    actions = new StatusActions({ model, client });
    profile = await actions.addAppProfile({
      name: 'Fabrikam MSP app',
      partnerTenant: partner.domain,
      appId: partner.app.appId,
      credential: { kind: 'secret', clientSecret: partner.app.secret },
    });
  });
  after(async () => {
    model?.dispose();
    client?.dispose();
    await harness?.stop();
  });

  it('adds an app profile and lists it, its secret in no answer', async () => {
    const listed = await actions.appProfiles();
    assert.deepEqual(listed.map((p) => p.name), ['Fabrikam MSP app']);
    assert.equal(listed[0]?.appId, partner.app.appId);
    assert.equal(JSON.stringify(listed).includes(partner.app.secret), false);
  });

  it("adds the tenants of a CSV file, answering each line by the file's own line number, a bad line rejecting only itself", async () => {
    const good = await newCustomer({ consented: true });
    const unconsented = await newCustomer({ consented: false });
    const csv = ['tenant,displayName,profile', '', `${good.domain},Good Co,Fabrikam MSP app`, 'not a domain,Bad,Fabrikam MSP app', `${unconsented.id},Later Co,${profile.id}`, ''].join('\r\n');
    const seen: Array<[number, number]> = [];
    const report = await actions.addTenantsFromFile('customers.csv', csv, { isCancelled: () => false, onChunk: (sent, total) => seen.push([sent, total]) });
    assert.deepEqual(seen, [[0, 3]]);
    assert.deepEqual(report.counts, { added: 1, alreadyPresent: 0, invalid: 1, needsConsent: 1 });
    assert.equal(report.cancelled, false);
    assert.equal(report.notSent, 0);
    const byLine = new Map(report.results.map((r) => [r.line, r]));
    const added = byLine.get(3);
    assert.ok(added?.outcome === 'added', JSON.stringify(added));
    assert.equal(model.tenant(added.tenantView.id)?.displayName, 'Good Co', 'the added tenant is in the model at once');
    const bad = byLine.get(4);
    assert.ok(bad?.outcome === 'invalid');
    assert.equal(bad.field, 'tenant');
    const consent = byLine.get(5);
    assert.ok(consent?.outcome === 'needsConsent');
    assert.match(consent.consent.consentUrl, new RegExp(`/${unconsented.id}/v2\\.0/adminconsent\\?`));
  });

  it('sends a list longer than the daemon takes in several requests, and a cancel stops between them with nothing more sent', async () => {
    const last = await newCustomer({ consented: true });
    const tenants: unknown[] = Array.from({ length: 250 }, (_v, i) => ({ tenant: `not a domain ${i}`, profile: profile.id }));
    tenants.push({ tenant: last.id, profile: profile.id });
    let chunks = 0;
    const report = await actions.addTenantsFromFile('many.json', JSON.stringify({ tenants }), {
      isCancelled: () => chunks >= 1,
      onChunk: () => chunks++,
    });
    assert.equal(chunks, 1);
    assert.equal(report.cancelled, true);
    assert.equal(report.results.length, 200);
    assert.equal(report.notSent, 51);
    assert.equal(report.counts.invalid, 200);
    assert.deepEqual(report.results.map((r) => r.line), Array.from({ length: 200 }, (_v, i) => i + 1));
    assert.equal((await client.listTenants()).some((t) => t.tenant === last.id), false, 'the entry after the cancel was never sent');

    const whole = await actions.addTenantsFromFile('many.json', JSON.stringify({ tenants }), { isCancelled: () => false, onChunk: () => undefined });
    assert.equal(whole.results.length, 251);
    assert.deepEqual(whole.counts, { added: 1, alreadyPresent: 0, invalid: 250, needsConsent: 0 });
    assert.equal(whole.results.find((r) => r.outcome === 'added')?.line, 251, 'numbered by its place in the whole file');
  });

  it('refuses a file that is neither form with an error naming it, and passes on the daemon refusing a CSV header', async () => {
    await assert.rejects(actions.addTenantsFromFile('broken.json', '{"tenants": [', undefined), /broken\.json is not valid JSON/);
    await assert.rejects(actions.addTenantsFromFile('empty.json', '{"other": []}', undefined), /empty\.json has no "tenants" list/);
    await assert.rejects(actions.addTenantsFromFile('header.csv', 'tenant,displayName\ncontoso.onmicrosoft.com,Contoso\n', undefined), (error: Error) =>
      error.name === 'DaemonApiError' && /header must name the columns/.test(error.message),
    );
  });

  it("lists the partner's GDAP customers with where each stands, and adds the chosen in one step with links for those without consent", async () => {
    const consented = await newCustomer({ consented: true, gdap: true });
    const notConsented = await newCustomer({ consented: false, gdap: true });
    const listed = await actions.discoverCustomers(profile.id);
    const byId = new Map(listed.customers.map((c) => [c.tenantId, c]));
    assert.equal(byId.get(consented.id)?.consent, 'consented');
    assert.equal(byId.get(consented.id)?.added, false);
    assert.equal(byId.get(notConsented.id)?.consent, 'notConsented');

    const chosen = [byId.get(consented.id), byId.get(notConsented.id)].filter((c) => c !== undefined);
    const report = await actions.addCustomers(profile.id, chosen);
    assert.deepEqual(report.counts, { added: 1, alreadyPresent: 0, invalid: 0, needsConsent: 1 });
    const added = report.results.find((r) => r.outcome === 'added');
    assert.ok(added?.outcome === 'added');
    assert.equal(added.tenant, consented.id);
    assert.equal(model.tenant(added.tenantView.id)?.appProfileId, profile.id);
    const link = report.results.find((r) => r.outcome === 'needsConsent');
    assert.ok(link?.outcome === 'needsConsent');
    assert.equal(link.tenant, notConsented.id);

    const after = new Map((await actions.discoverCustomers(profile.id)).customers.map((c) => [c.tenantId, c]));
    assert.equal(after.get(consented.id)?.added, true);
  });

  it('follows a consent link to the end: the admin accepts on the consent page, and the tenant is in the model, syncing', async () => {
    const customer = await newCustomer({ consented: false, users: 4 });
    const link = await actions.requestConsent(profile.id, { tenant: customer.domain, displayName: 'Consenting Co' });
    let polls = 0;
    const waiting = actions.waitForConsent(profile.id, link.state, { isCancelled: () => false, timers: realTimers, intervalMs: 100 });
    const shown = await adminConsentBrowser(harness.sim, link.consentUrl, 'accept');
    assert.match(shown.page, /Consent recorded for Consenting Co/);
    const outcome = await waiting;
    assert.equal(outcome?.status, 'granted');
    assert.deepEqual(outcome?.missingRoles, []);
    const tenant = model.tenant(outcome?.tenantId ?? '');
    assert.equal(tenant?.displayName, 'Consenting Co');
    assert.equal(tenant?.tenant, customer.id);
    await harness.until(async () => (await client.getTenant(outcome?.tenantId ?? '')).counts.total === 4, 15_000, 'the tenant to sync');

    const stopped = await actions.waitForConsent(profile.id, (await actions.requestConsent(profile.id, { tenant: (await newCustomer({ consented: false })).id })).state, {
      isCancelled: () => ++polls > 2,
      timers: realTimers,
      intervalMs: 50,
    });
    assert.equal(stopped, undefined, 'stopping the wait answers nothing');
    assert.equal(polls, 3);
  });

  it("answers a declined consent with Microsoft's error in plain words, and names the roles a consent did not grant", async () => {
    const declining = await newCustomer({ consented: false });
    const declined = await actions.requestConsent(profile.id, { tenant: declining.id });
    await adminConsentBrowser(harness.sim, declined.consentUrl, 'cancel');
    const failed = await actions.waitForConsent(profile.id, declined.state, { isCancelled: () => false, timers: realTimers, intervalMs: 50 });
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.error?.code, 'access_denied');
    assert.match(failed?.error?.message ?? '', /declined/);

    const partial = await newCustomer({ consented: false });
    await harness.sim.control('PUT', `/tenants/${partial.id}/consent`, { grantableRoles: ['User.Read.All'] });
    const link = await actions.requestConsent(profile.id, { tenant: partial.id });
    await adminConsentBrowser(harness.sim, link.consentUrl, 'accept');
    const granted = await actions.waitForConsent(profile.id, link.state, { isCancelled: () => false, timers: realTimers, intervalMs: 50 });
    assert.equal(granted?.status, 'granted');
    assert.deepEqual(granted?.missingRoles, ['User.EnableDisableAccount.All', 'User.RevokeSessions.All']);
  });

  it("rotates the profile's credential for all its tenants: each row busy meanwhile, their new checks in the model", async () => {
    const current = await client.getAppProfile(profile.id);
    assert.ok(current.tenantIds.length >= 2, 'tenants on the profile from the tests before');
    const busy: Array<[string, string | undefined]> = [];
    const subscription = model.onDidChangeBusy(({ key }) => busy.push([key, model.busy(key)]));
    const before = Date.now();
    const rotated = await actions.rotateAppProfileCredentials(profile.id, { kind: 'secret', clientSecret: partner.app.secret });
    subscription.dispose();
    assert.ok(rotated.credentialsRotatedAt);
    assert.deepEqual(busy.filter(([, label]) => label === 'Rotating credentials…').map(([key]) => key).sort(), current.tenantIds.map(tenantKey).sort());
    assert.ok(busy.filter(([, label]) => label === undefined).length === current.tenantIds.length, 'every row busy no more');
    for (const id of current.tenantIds) assert.ok((model.tenant(id)?.credentialHealth?.checkedAt ?? 0) >= before - 1_000, `tenant ${id} checked again`);
  });
});
