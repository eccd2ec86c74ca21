import assert from 'node:assert/strict';
import { AppError } from '../../../daemon/errors/AppError';
import { TASK_KINDS } from '../../../daemon/tasks/taskKinds';
import { updateAdCacheTask } from '../../../daemon/tasks/updateAdCacheTask';
import { SimHarness } from '../../support/simHarness';
import { RefreshTaskParts } from './fixtures/refreshTaskParts';

describe('tasks: Update AD cache, against the simulator', () => {
  let sim: SimHarness;
  let parts: RefreshTaskParts;
  before(async () => {
    sim = await SimHarness.start();
  });
  after(async () => sim.stop());
  beforeEach(async () => {
    parts = await RefreshTaskParts.open(sim);
  });
  afterEach(async () => parts.close());

  it('reads every user again even after a delta round, and says how many', async () => {
    const simTenant = await sim.createTenant({ users: 12 });
    const tenant = await parts.addTenant(simTenant.id, simTenant.app.appId, simTenant.app.secret);
    const first = await parts.sync.sync(tenant.id, { source: 'poller' });
    assert.ok(first.ok);
    const task = await parts.task(tenant, TASK_KINDS.updateAdCache);
    const description = await updateAdCacheTask(parts.sync)(task, parts.context());
    assert.equal(description, 'Read all 12 users from Microsoft 365.');
    assert.equal((await parts.store.listUsers(tenant.id)).total, 12);
  });

  it("fails as TENANT_DISCONNECTED when the secret is wrong, keeping Microsoft's code", async () => {
    const simTenant = await sim.createTenant({ users: 3 });
    const tenant = await parts.addTenant(simTenant.id, simTenant.app.appId, 'not-the-secret');
    const task = await parts.task(tenant, TASK_KINDS.updateAdCache);
    await assert.rejects(updateAdCacheTask(parts.sync)(task, parts.context()), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'TENANT_DISCONNECTED');
      assert.match(error.message, /secret/i);
      assert.match(error.message, /\(AADSTS7000215\)$/);
      assert.equal(error.details?.['microsoftCode'], 'AADSTS7000215');
      return true;
    });
    assert.equal((await parts.store.requireTenant(tenant.id)).lastError?.code, 'AADSTS7000215', 'the tenant quotes what Microsoft answered');
    assert.equal((await parts.store.listUsers(tenant.id)).total, 0);
  });

  it('fails as CREDENTIALS_MISSING when no credentials are stored for the tenant', async () => {
    const simTenant = await sim.createTenant({ users: 3 });
    const tenant = await parts.addTenant(simTenant.id, simTenant.app.appId, null);
    const task = await parts.task(tenant, TASK_KINDS.updateAdCache);
    await assert.rejects(updateAdCacheTask(parts.sync)(task, parts.context()), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'CREDENTIALS_MISSING');
      assert.equal(error.details?.['microsoftCode'], undefined);
      return true;
    });
  });
});
