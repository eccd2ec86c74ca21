import assert from 'node:assert/strict';
import type { AppProfileView, ConsentLinkView, ConsentView, CustomerListView, TenantBatchView, TenantView } from '../../../protocol/daemonApi';
import { adminConsentBrowser } from '../../support/adminConsentBrowser';
import { DaemonHarness, type SimTenant } from '../../support/daemonHarness';
import type { CreatedTenant } from '../../support/simHarness';
import { productRoles } from '../../support/productRoles';

const gdapRole = 'DelegatedAdminRelationship.Read.All';

// A tenant is one tenant whether it was given by its domain or by its directory id: discovery lists
// customers by id, while an operator's CSV file names them by domain.
describe('daemon API: a customer added by domain is the same customer listed by id, and the reverse', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;
  let partner: SimTenant;
  let profile: AppProfileView;
  let counter = 0;

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    partner = await harness.sim.createTenant({
      domain: 'fourthcoffee-msp.onmicrosoft.com',
      displayName: 'Fourth Coffee MSP',
      users: 2,
      app: { multiTenant: true, redirectUris: ['http://localhost/consent'], roles: [...productRoles, gdapRole] },
    });
    const added = await harness.api<AppProfileView>('POST', '/v1/app-profiles', {
      name: 'Fourth Coffee MSP app',
      partnerTenant: partner.domain,
      appId: partner.app.appId,
      credential: { kind: 'secret', clientSecret: partner.app.secret },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    profile = added.body;
  });
  after(async () => harness.stop());

  const newCustomer = async (consented: boolean): Promise<CreatedTenant> => {
    const domain = `samecustomer${++counter}.onmicrosoft.com`;
    const { status, body } = await harness.sim.control<CreatedTenant>('POST', '/tenants', { domain, displayName: `Same Customer ${counter}`, users: 3 });
    assert.equal(status, 201);
    if (consented) assert.equal((await harness.sim.control('POST', `/tenants/${body.id}/servicePrincipals`, { appId: partner.app.appId })).status, 201);
    assert.equal((await harness.sim.control('POST', `/tenants/${partner.id}/customers`, { tenantId: body.id })).status, 201);
    return body;
  };
  const batch = (tenants: unknown[]) => harness.api<TenantBatchView>('POST', '/v1/tenants:batch', { tenants });
  const tenantsOf = async (customer: CreatedTenant) =>
    (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants.filter((t) => [customer.id, customer.domain].includes(t.tenant));

  it('marks a customer added by its domain as added when discovery lists it by id, and adds it no second time by id', async () => {
    const customer = await newCustomer(true);
    const byDomain = await batch([{ tenant: customer.domain, profile: profile.id }]);
    assert.equal(byDomain.body.counts.added, 1, JSON.stringify(byDomain.body));
    const first = byDomain.body.results[0];
    assert.ok(first?.outcome === 'added');

    const listed = await harness.api<CustomerListView>('GET', `/v1/app-profiles/${profile.id}/customers`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const shown = listed.body.customers.find((c) => c.tenantId === customer.id);
    assert.equal(shown?.added, true);
    assert.equal(shown?.addedAs, first.tenantView.id);

    const byId = await batch([{ tenant: customer.id, profile: profile.id }]);
    assert.deepEqual(byId.body.counts, { added: 0, alreadyPresent: 1, invalid: 0, needsConsent: 0 });
    assert.deepEqual(byId.body.results[0], { line: 1, tenant: customer.id, outcome: 'alreadyPresent', tenantId: first.tenantView.id });
    assert.equal((await tenantsOf(customer)).length, 1);
  });

  it('answers "already present" for a customer given by domain that was added by its id', async () => {
    const customer = await newCustomer(true);
    const byId = await batch([{ tenant: customer.id, profile: profile.id }]);
    assert.equal(byId.body.counts.added, 1, JSON.stringify(byId.body));
    const first = byId.body.results[0];
    assert.ok(first?.outcome === 'added');

    const byDomain = await batch([{ tenant: customer.domain.toUpperCase(), profile: profile.id }]);
    assert.deepEqual(byDomain.body.results[0], { line: 1, tenant: customer.domain.toUpperCase(), outcome: 'alreadyPresent', tenantId: first.tenantView.id });
    assert.equal((await tenantsOf(customer)).length, 1);
  });

  it('re-checks the tenant added by domain when its admin consents through a link asked for by id, registering none twice', async () => {
    const customer = await newCustomer(false);
    // Added by domain while not consented: a consent link; the admin consents later through another
    // link, asked for by the id discovery showed.
    const byDomain = await batch([{ tenant: customer.domain, profile: profile.id }]);
    assert.equal(byDomain.body.counts.needsConsent, 1);
    assert.equal((await harness.sim.control('POST', `/tenants/${customer.id}/servicePrincipals`, { appId: partner.app.appId })).status, 201);
    const added = await batch([{ tenant: customer.domain, profile: profile.id }]);
    assert.equal(added.body.counts.added, 1, JSON.stringify(added.body));
    const registered = added.body.results[0];
    assert.ok(registered?.outcome === 'added');

    const link = await harness.api<ConsentLinkView>('POST', `/v1/app-profiles/${profile.id}/consents`, { tenant: customer.id });
    assert.equal(link.status, 201);
    const page = await adminConsentBrowser(harness.sim, link.body.consentUrl, 'accept');
    assert.equal(page.status, 200);
    assert.match(page.page, /Consent recorded/);
    const outcome = (await harness.api<ConsentView>('GET', `/v1/app-profiles/${profile.id}/consents/${link.body.state}`)).body;
    assert.equal(outcome.status, 'granted');
    assert.equal(outcome.tenantId, registered.tenantView.id, 'the consent names the tenant added by domain');
    assert.equal((await tenantsOf(customer)).length, 1);
  });

  it('still tells two different customers apart, and adds one whose domain Microsoft does not know as invalid, not as a match', async () => {
    const one = await newCustomer(true);
    const other = await newCustomer(true);
    assert.equal((await batch([{ tenant: one.domain, profile: profile.id }])).body.counts.added, 1);
    const answer = await batch([
      { tenant: other.id, profile: profile.id },
      { tenant: 'nosuchcustomer.onmicrosoft.com', profile: profile.id },
    ]);
    assert.equal(answer.body.results.find((r) => r.line === 1)?.outcome, 'added');
    const unknown = answer.body.results.find((r) => r.line === 2);
    assert.equal(unknown?.outcome, 'invalid', JSON.stringify(unknown));
    assert.equal((await tenantsOf(one)).length, 1);
    assert.equal((await tenantsOf(other)).length, 1);
  });
});
