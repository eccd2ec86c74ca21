import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { createDemoPartner, type DemoPartner } from '../../sim/demo/demoPartner';
import { createDemoTenants, type DemoTenant } from '../../sim/demo/demoTenants';
import { SimHarness } from '../support/simHarness';

describe('sim: the demo partner and its GDAP customers', () => {
  let harness: SimHarness;
  let demos: DemoTenant[];
  let partner: DemoPartner;
  before(async () => {
    harness = await SimHarness.start();
    demos = createDemoTenants(harness.sim.directory, harness.sim.clock);
    partner = createDemoPartner(harness.sim.directory);
  });
  after(async () => harness.stop());

  it('leaves the four demo tenants as they were, each with its own app', () => {
    assert.deepEqual(
      demos.map((d) => [d.domain, d.state]),
      [
        ['contoso.onmicrosoft.com', 'healthy'],
        ['fabrikam.onmicrosoft.com', 'wrong secret'],
        ['northwind.onmicrosoft.com', 'secret expires within 14 days'],
        ['tailspin.onmicrosoft.com', 'missing permission (cannot lock users)'],
      ],
    );
    assert.ok(demos.every((d) => d.appId !== partner.appId));
  });

  it('lists five GDAP customers to the partner app, three of which consented and give it tokens', async () => {
    const home = harness.tokens(partner.tenantId, partner.appId, { kind: 'secret', clientSecret: partner.clientSecret });
    assert.ok((await home.acquire()).roles.includes('DelegatedAdminRelationship.Read.All'));
    const listed = await harness.graph(home).api('/tenantRelationships/delegatedAdminCustomers').get();
    assert.deepEqual(
      listed.value.map((c: { tenantId: string }) => c.tenantId),
      partner.customers.map((c) => c.tenantId),
    );
    assert.equal(partner.customers.filter((c) => c.consented).length, 3);
    for (const customer of partner.customers) {
      const tokens = harness.tokens(customer.domain, partner.appId, { kind: 'secret', clientSecret: partner.clientSecret });
      if (customer.consented) {
        const token = await tokens.acquire();
        assert.equal(decodeJwt(token.accessToken).tid, customer.tenantId);
        assert.deepEqual(token.roles, ['User.Read.All', 'User.EnableDisableAccount.All', 'User.RevokeSessions.All', 'AuditLog.Read.All']);
      } else {
        await assert.rejects(tokens.acquire(), (error: { errorMessage?: string }) => /AADSTS7000229/.test(error.errorMessage ?? ''));
      }
    }
  });
});
