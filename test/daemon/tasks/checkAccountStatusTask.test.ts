import assert from 'node:assert/strict';
import { AppError } from '../../../daemon/errors/AppError';
import { checkAccountStatusTask } from '../../../daemon/tasks/checkAccountStatusTask';
import { TASK_KINDS } from '../../../daemon/tasks/taskKinds';
import { SimHarness } from '../../support/simHarness';
import { RefreshTaskParts } from './fixtures/refreshTaskParts';

describe('tasks: Check account status, against the simulator', () => {
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

  async function run(app: Record<string, unknown>, secret?: string | null) {
    const simTenant = await sim.createTenant({ users: 2, app });
    const tenant = await parts.addTenant(simTenant.id, simTenant.app.appId, secret === undefined ? simTenant.app.secret : secret);
    const task = await parts.task(tenant, TASK_KINDS.checkAccountStatus);
    return { tenant, outcome: checkAccountStatusTask(parts.health)(task, parts.context()) };
  }

  it('completes when the app has every permission the product needs', async () => {
    const { tenant, outcome } = await run({});
    assert.equal(await outcome, 'Connected with every permission the product needs.');
    assert.equal((await parts.store.requireTenant(tenant.id)).credentialHealth?.canGetToken, true);
  });

  it('completes naming the permissions the app lacks', async () => {
    const { outcome } = await run({ roles: ['User.Read.All'] });
    const description = await outcome;
    assert.match(description ?? '', /^Connected; the app lacks /);
    assert.match(description ?? '', /User\.EnableDisableAccount\.All/);
    assert.match(description ?? '', /User\.RevokeSessions\.All/);
  });

  it("fails as CREDENTIAL_CHECK_FAILED when the secret is wrong, keeping Microsoft's code and the remedy", async () => {
    const { tenant, outcome } = await run({}, 'not-the-secret');
    await assert.rejects(outcome, (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'CREDENTIAL_CHECK_FAILED');
      assert.match(error.message, /\(AADSTS7000215\)$/);
      assert.equal(error.details?.['microsoftCode'], 'AADSTS7000215');
      assert.match(String(error.details?.['remedy']), /rotate/i);
      return true;
    });
    assert.equal((await parts.store.requireTenant(tenant.id)).credentialHealth?.failure?.code, 'AADSTS7000215');
  });

  it('fails as NO_ROLES when admin consent was never granted', async () => {
    const { outcome } = await run({ consentGranted: false });
    await assert.rejects(outcome, (error: unknown) => error instanceof AppError && error.code === 'NO_ROLES' && error.details?.['microsoftCode'] === undefined);
  });

  it('fails as CREDENTIALS_MISSING when no credentials are stored for the tenant', async () => {
    const { outcome } = await run({}, null);
    await assert.rejects(outcome, (error: unknown) => error instanceof AppError && error.code === 'CREDENTIALS_MISSING');
  });
});
