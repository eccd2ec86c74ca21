import assert from 'node:assert/strict';
import type { AppProfileView, ConsentView } from '../../../protocol/daemonApi';
import { StatusActions } from '../../../extension/actions/statusActions';
import { DaemonClient } from '../../../extension/client/daemonClient';
import { DaemonConnection } from '../../../extension/client/daemonConnection';
import { readDaemonEndpoint } from '../../../extension/client/daemonEndpoint';
import { localDaemonLocator } from '../../../extension/client/daemonLocator';
import { realTimers } from '../../../extension/common/timers';
import { StatusModel } from '../../../extension/model/statusModel';
import { adminConsentBrowser } from '../../support/adminConsentBrowser';
import type { SimTenant } from '../../support/daemonHarness';
import { DaemonHarness } from '../../support/daemonHarness';
import type { CreatedTenant } from '../../support/simHarness';
import { productRoles } from '../../support/productRoles';


/** The daemon's client, counting how often it is asked where a consent stands. */
class CountingClient extends DaemonClient {
  consentReads = 0;

  override getConsent(profileId: string, state: string): Promise<ConsentView> {
    this.consentReads++;
    return super.getConsent(profileId, state);
  }
}

/**
 * Waiting for an admin's consent with the event stream live: the `consent` event ends the wait, so the
 * daemon is not asked again and again while the admin takes their time.
 */
describe('extension actions: waiting for a consent follows the event stream', function () {
  this.timeout(120_000);
  let harness: DaemonHarness;
  let model: StatusModel;
  let connection: DaemonConnection;
  let client: CountingClient;
  let actions: StatusActions;
  let partner: SimTenant;
  let profile: AppProfileView;
  let counter = 0;

  const newCustomer = async (users: number): Promise<CreatedTenant> => {
    const { status, body } = await harness.sim.control<CreatedTenant>('POST', '/tenants', { domain: `waiting${++counter}.onmicrosoft.com`, displayName: `Waiting ${counter}`, users });
    assert.equal(status, 201);
    return body;
  };

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    model = new StatusModel({ users: { listUsers: (tenantId, query) => connection.client.listUsers(tenantId, query) }, pageSize: 200 });
    connection = new DaemonConnection(model, { locate: localDaemonLocator(() => harness.dataDir), includeAutomatedTasks: () => false, backoff: { initialMs: 50, maxMs: 400 } });
    await connection.connect();
    await harness.until(() => model.connection.kind === 'connected', 10_000, 'the event stream to connect');
    const endpoint = await readDaemonEndpoint(harness.dataDir);
    assert.ok(endpoint, 'daemon.json is there');
    client = new CountingClient({ endpoint: () => endpoint, operator: 'consent-wait-test' });
    actions = new StatusActions({ model, client });
    partner = await harness.sim.createTenant({
      domain: 'wingtip-msp.onmicrosoft.com',
      displayName: 'Wingtip MSP',
      users: 1,
      app: { multiTenant: true, redirectUris: ['http://localhost/consent'], roles: productRoles },
    });
    profile = await actions.addAppProfile({ name: 'Wingtip MSP app', partnerTenant: partner.domain, appId: partner.app.appId, credential: { kind: 'secret', clientSecret: partner.app.secret } });
  });
  after(async () => {
    connection?.dispose();
    client?.dispose();
    model?.dispose();
    await harness?.stop();
  });

  it('ends on the consent event with the tenant in the model, having asked the daemon once, though it looks every 50 ms', async () => {
    const customer = await newCustomer(2);
    const link = await actions.requestConsent(profile.id, { tenant: customer.domain, displayName: 'Waiting Co' });
    const waiting = actions.waitForConsent(profile.id, link.state, { isCancelled: () => false, timers: realTimers, intervalMs: 50 });
    // The admin takes a while: twenty looks and more, none of them a request while the stream is live.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(client.consentReads, 1, 'the daemon was asked more than once while the stream was live');
    const shown = await adminConsentBrowser(harness.sim, link.consentUrl, 'accept');
    assert.match(shown.page, /Consent recorded for Waiting Co/);
    const outcome = await waiting;
    assert.equal(outcome?.status, 'granted');
    assert.equal(client.consentReads, 1, 'the answer was read from the daemon, not taken from the event');
    const tenant = model.tenant(outcome?.tenantId ?? '');
    assert.equal(tenant?.displayName, 'Waiting Co');
    assert.equal(tenant?.tenant, customer.id);
  });
});
