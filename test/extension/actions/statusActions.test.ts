import assert from 'node:assert/strict';
import type { TenantView, UserView } from '../../../protocol/daemonApi';
import { StatusActions } from '../../../extension/actions/statusActions';
import { DaemonClient } from '../../../extension/client/daemonClient';
import { readDaemonEndpoint } from '../../../extension/client/daemonEndpoint';
import { StatusModel } from '../../../extension/model/statusModel';
import { tenantKey, userKey } from '../../../extension/model/tenantTreeModel';
import type { SimTenant } from '../../support/daemonHarness';
import { DaemonHarness } from '../../support/daemonHarness';

/**
 * The actions against a real daemon (and the simulator behind it over HTTPS), with a model that follows
 * no event stream: whatever reaches the model here was put there by the action itself.
 */
describe('extension actions: busy state, the daemon call and the answer in the model', function () {
  this.timeout(120_000);
  let harness: DaemonHarness;
  let client: DaemonClient;
  let model: StatusModel;
  let actions: StatusActions;
  let tenantId: string;
  let sim: SimTenant;
  /** Every change of busy state, in order: the row's key and its label (undefined once it ends). */
  let busy: Array<[string, string | undefined]>;

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    const endpoint = await readDaemonEndpoint(harness.dataDir);
    assert.ok(endpoint, 'daemon.json is there');
    client = new DaemonClient({ endpoint: () => endpoint, operator: 'actions-test' });
    ({ id: tenantId, sim } = await harness.registerTenant({ users: 30, userMix: { privilegedShare: 0, onPremisesShare: 0.3, disabledShare: 0 } }));
    await harness.until(async () => (await client.getTenant(tenantId)).asOf, 20_000, 'the first sync');
  });
  after(async () => {
    client?.dispose();
    await harness?.stop();
  });
  beforeEach(async () => {
    model?.dispose();
    model = new StatusModel({ users: client, pageSize: 200 });
    model.replaceTenants(await client.listTenants());
    await model.loadMoreUsers(tenantId);
    actions = new StatusActions({ model, client });
    busy = [];
    model.onDidChangeBusy(({ key }) => busy.push([key, model.busy(key)]));
  });

  const cloudUser = (state: UserView['state']): UserView => {
    const user = model.users(tenantId).sorted().find((candidate) => !candidate.onPremisesSyncEnabled && candidate.state === state);
    assert.ok(user, `a cloud-only ${state} user`);
    return user;
  };

  it('locks a user: the row is busy while the daemon works, and the model holds the locked user at once', async () => {
    const user = cloudUser('enabled');
    const result = await actions.lockUser(tenantId, user.id, { revokeSessions: true });
    assert.equal(result.kind, 'done');
    assert.deepEqual(busy, [
      [userKey(tenantId, user.id), 'Locking and revoking sessions…'],
      [userKey(tenantId, user.id), undefined],
    ]);
    assert.equal(model.users(tenantId).find(user.id)?.state, 'locked');
    assert.equal(model.users(tenantId).find(user.id)?.lock?.revokedSessions, true);
  });

  it('unlocks a user and puts the enabled user into the model', async () => {
    const user = cloudUser('enabled');
    await actions.lockUser(tenantId, user.id);
    const result = await actions.unlockUser(tenantId, user.id);
    assert.equal(result.kind, 'done');
    assert.equal(busy.at(-2)?.[1], 'Unlocking…');
    assert.equal(model.users(tenantId).find(user.id)?.state, 'enabled');
  });

  it('answers an on-premises refusal as a question for the operator, and locks once the override is given', async () => {
    const synced = model.users(tenantId).sorted().find((candidate) => candidate.onPremisesSyncEnabled && candidate.state === 'enabled');
    assert.ok(synced, 'a user synced from on-premises');
    const refused = await actions.lockUser(tenantId, synced.id);
    assert.equal(refused.kind, 'needs-on-premises-override');
    assert.ok(refused.kind === 'needs-on-premises-override' && refused.message.length > 0);
    assert.equal(model.users(tenantId).find(synced.id)?.state, 'enabled', 'nothing changed');
    assert.equal(model.busy(userKey(tenantId, synced.id)), undefined, 'the row is no longer busy');
    const locked = await actions.lockUser(tenantId, synced.id, { overrideOnPremises: true });
    assert.equal(locked.kind, 'done');
    assert.equal(model.users(tenantId).find(synced.id)?.state, 'locked');
  });

  it('passes any other refusal on as the daemon error, with the row no longer busy', async () => {
    await assert.rejects(actions.lockUser(tenantId, 'no-such-user', { overrideOnPremises: true }), (error: Error) => error.name === 'DaemonApiError');
    assert.equal(model.busy(userKey(tenantId, 'no-such-user')), undefined);
  });

  it('refreshes a tenant and puts the activity the daemon recorded into the model', async () => {
    const outcome = await actions.refreshTenant(tenantId);
    assert.deepEqual(busy, [
      [tenantKey(tenantId), 'Refreshing…'],
      [tenantKey(tenantId), undefined],
    ]);
    assert.ok(model.activity.findActivity(outcome.activity.id), 'the activity is in the model');
  });

  it('refreshes several tenants one after the other; one failing does not stop the rest, and a cancel stops them', async () => {
    const gone: TenantView = { ...(model.tenant(tenantId) as TenantView), id: 'no-such-tenant', displayName: 'Gone' };
    const seen: string[] = [];
    const results = await actions.refreshTenants([gone, model.tenant(tenantId) as TenantView], { isCancelled: () => false, onTenant: (tenant) => seen.push(tenant.displayName) });
    assert.deepEqual(seen, ['Gone', model.tenant(tenantId)?.displayName]);
    assert.equal(results.length, 2);
    assert.match(results[0]?.error ?? '', /\S/);
    assert.ok(results[1]?.outcome, 'the second tenant was refreshed');
    const cancelled = await actions.refreshTenants([gone, gone], { isCancelled: () => true, onTenant: () => undefined });
    assert.deepEqual(cancelled, []);
  });

  it('re-checks credential health and puts the new check into the model; an unknown tenant is refused by name', async () => {
    const before = model.tenant(tenantId)?.credentialHealth?.checkedAt ?? 0;
    const updated = await actions.recheckCredentialHealth(tenantId);
    assert.equal(busy[0]?.[1], 'Checking credentials…');
    assert.ok((updated.credentialHealth?.checkedAt ?? 0) >= before);
    assert.equal(model.tenant(tenantId)?.credentialHealth?.checkedAt, updated.credentialHealth?.checkedAt);
    await assert.rejects(actions.recheckCredentialHealth('no-such-tenant'), /That tenant is no longer registered\./);
  });

  it('re-checks every tenant and names the ones that could not be checked', async () => {
    model.applyTenant({ ...(model.tenant(tenantId) as TenantView), id: 'removed-elsewhere', displayName: 'Removed Elsewhere' });
    await assert.rejects(actions.recheckAllCredentialHealth(), /^Error: Could not re-check Removed Elsewhere: /);
    assert.deepEqual(
      busy.filter(([, label]) => label !== undefined).map(([key]) => key).sort(),
      [tenantKey('removed-elsewhere'), tenantKey(tenantId)].sort(),
      'both were tried',
    );
  });

  it('rotates credentials and puts the checked tenant into the model', async () => {
    const updated = await actions.rotateCredentials(tenantId, { kind: 'secret', clientSecret: sim.app.secret });
    assert.equal(busy[0]?.[1], 'Rotating credentials…');
    assert.equal(updated.credentialHealth?.canGetToken, true);
    assert.deepEqual(model.tenant(tenantId), updated);
  });

  it('adds a tenant to the model as the daemon answers it, and removes it with its row busy until gone', async () => {
    const created = await harness.sim.createTenant({ users: 3 });
    const added = await actions.addTenant({ tenant: created.id, appId: created.app.appId, displayName: 'Added Here', credential: { kind: 'secret', clientSecret: created.app.secret } });
    assert.equal(model.tenant(added.id)?.displayName, 'Added Here');
    await actions.removeTenant(added.id);
    assert.equal(model.tenant(added.id), undefined);
    assert.deepEqual(busy, [
      [tenantKey(added.id), 'Removing…'],
      [tenantKey(added.id), undefined],
    ]);
    assert.equal((await client.listTenants()).some((tenant) => tenant.id === added.id), false);
  });

  it('searches users across tenants through the daemon', async () => {
    const user = cloudUser('enabled');
    const result = await actions.searchUsers(model.tenants(), user.userPrincipalName);
    assert.deepEqual(
      result.hits.map((hit) => hit.user.id),
      [user.id],
    );
  });

  it("writes the system log as a document, and says why when the daemon cannot be read", async () => {
    const document = await actions.systemLog({});
    assert.match(document, /^# System log\n# \d+ entr(y|ies), newest first/);
    const unreachable = new DaemonClient({ endpoint: () => undefined });
    try {
      const offline = await new StatusActions({ model, client: unreachable }).systemLog({ level: 'error' });
      assert.match(offline, /^# System log — error entries\n\nCould not read the system log: \S/);
    } finally {
      unreachable.dispose();
    }
  });
});
