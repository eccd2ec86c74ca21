import assert from 'node:assert/strict';
import type { UserView } from '../../../protocol/daemonApi';
import { DaemonConnection } from '../../../extension/client/daemonConnection';
import { localDaemonLocator } from '../../../extension/client/daemonLocator';
import type { ConnectionState } from '../../../extension/client/connectionState';
import { StatusModel } from '../../../extension/model/statusModel';
import { TenantTreeModel } from '../../../extension/model/tenantTreeModel';
import { DaemonHarness } from '../../support/daemonHarness';
import { tempDataDir } from '../../support/tempDataDir';

describe('extension model: kept true by a real daemon through its API and event stream', function () {
  this.timeout(120_000);
  let harness: DaemonHarness;
  let model: StatusModel;
  let connection: DaemonConnection;
  const connectionStates: ConnectionState['kind'][] = [];

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    model = new StatusModel({ users: { listUsers: (tenantId, query) => connection.client.listUsers(tenantId, query) }, pageSize: 200 });
    model.onDidChangeConnection((state) => connectionStates.push(state.kind));
    connection = new DaemonConnection(model, {
      locate: localDaemonLocator(() => harness.dataDir),
      includeAutomatedTasks: () => false,
      backoff: { initialMs: 50, maxMs: 400 },
      operator: 'model-test',
    });
  });
  after(async () => {
    connection?.dispose();
    model?.dispose();
    await harness?.stop();
  });

  it('connects through daemon.json and reads tenants and activity', async () => {
    await harness.registerTenant({ users: 8, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    await connection.connect();
    await harness.until(() => model.connection.kind === 'connected', 10_000, 'connected');
    assert.equal(model.tenantsLoaded, true);
    assert.equal(model.tenants().length, 1);
  });

  it('opens a 10,000-user tenant at once: one page of 200 with its locked users on top', async () => {
    const { id } = await harness.registerTenant({ users: 10_000, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0.05 } });
    await harness.until(() => (model.tenant(id)?.counts.total ?? 0) === 10_000, 60_000, 'the 10,000 users to sync');
    const users = (await connection.client.listUsers(id, { state: 'enabled', offset: 5000, limit: 2 })).users;
    for (const user of users) await connection.client.lockUser(id, user.id);
    const started = performance.now();
    await model.loadMoreUsers(id);
    const elapsed = performance.now() - started;
    const tree = new TenantTreeModel(model);
    const rows = tree.children(tree.tenantNode(id)).map((node) => tree.row(node));
    assert.equal(rows.length, 201, '200 users and "Load more"');
    assert.deepEqual(
      rows.slice(0, 2).map((row) => row.contextValue),
      ['user:locked', 'user:locked'],
    );
    assert.equal(rows[2]?.contextValue, 'user:disabled');
    assert.equal(rows[200]?.description, '9,800 more');
    assert.ok(elapsed < 1000, `the first page took ${Math.round(elapsed)} ms`);
  });

  it('follows a lock made elsewhere into the users read and the tenant counts, from one event', async () => {
    const tenant = model.tenants().find((candidate) => candidate.counts.total === 8);
    assert.ok(tenant);
    await model.loadMoreUsers(tenant.id);
    const target = model.users(tenant.id).sorted()[0] as UserView;
    await connection.client.lockUser(tenant.id, target.id);
    await harness.until(() => model.users(tenant.id).find(target.id)?.state === 'locked', 10_000, 'the lock to reach the model');
    await harness.until(() => model.tenant(tenant.id)?.counts.locked === 1, 10_000, 'the counts to follow');
    assert.equal(model.users(tenant.id).sorted()[0]?.id, target.id, 'a locked user is listed first');
  });

  it('records a refresh in the activity it holds, live', async () => {
    const tenant = model.tenants()[0];
    assert.ok(tenant);
    await connection.client.refreshTenant(tenant.id);
    await harness.until(
      () => model.activity.list().some((entry) => entry.type === 'activity' && entry.activity.tenantId === tenant.id && entry.activity.tasks.length === 2),
      10_000,
      'the refresh activity with its two tasks',
    );
  });

  it('says it is reconnecting when the daemon restarts, then reads everything again', async () => {
    connectionStates.length = 0;
    await harness.restart();
    await harness.until(() => connectionStates.includes('reconnecting') && model.connection.kind === 'connected', 20_000, 'reconnected');
    assert.equal(model.tenants().length, 2);
  });

  it('is unreachable where no daemon ever ran, and keeps looking', async () => {
    const { dir, cleanup } = await tempDataDir('m365-no-daemon');
    const lonelyModel = new StatusModel({ users: { listUsers: () => Promise.reject(new Error('none')) } });
    const lonely = new DaemonConnection(lonelyModel, { locate: localDaemonLocator(() => dir), includeAutomatedTasks: () => false, backoff: { initialMs: 20, maxMs: 50 } });
    try {
      await lonely.connect();
      await harness.until(() => lonelyModel.connection.kind === 'unreachable', 5_000, 'unreachable');
      assert.equal(lonelyModel.tenants().length, 0);
    } finally {
      lonely.dispose();
      lonelyModel.dispose();
      await cleanup();
    }
  });
});
