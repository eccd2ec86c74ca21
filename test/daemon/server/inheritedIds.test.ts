import assert from 'node:assert/strict';
import type { UserPage } from '../../../protocol/daemonApi';
import { DaemonHarness } from '../../support/daemonHarness';

interface ErrorAnswer {
  error: { code: string; message: string };
}

// Ids in the URL are the caller's: a name every JavaScript object inherits must be as unknown as any other.
describe('daemon API: ids that are names every object inherits', function () {
  this.timeout(30_000);
  let harness: DaemonHarness;
  let tenantId: string;

  before(async () => {
    harness = await DaemonHarness.start();
    ({ id: tenantId } = await harness.registerTenant({ users: 3 }));
    await harness.until(async () => (await harness.api<UserPage>('GET', `/v1/tenants/${tenantId}/users?limit=1`)).body.total > 0);
  });
  after(async () => harness.stop());

  for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
    it(`refuses a lock or unlock of user "${name}" as a malformed user id, not a server error`, async () => {
      for (const verb of ['lock', 'unlock']) {
        const answer = await harness.api<ErrorAnswer & { error: { details?: { field?: string } } }>(
          'POST',
          `/v1/tenants/${tenantId}/users/${name}/${verb}`,
          {},
        );
        assert.equal(answer.status, 400, `${verb}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'VALIDATION_FAILED');
        assert.equal(answer.body.error.details?.field, 'userId');
      }
    });

    it(`answers 404 to a lock of user "${name}@<domain>", a well-formed name no user has`, async () => {
      const answer = await harness.api<ErrorAnswer>('POST', `/v1/tenants/${tenantId}/users/${name}@contoso.com/lock`, {});
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
    });

    it(`answers 404 to tenant "${name}"`, async () => {
      const answer = await harness.api<ErrorAnswer>('GET', `/v1/tenants/${name}`);
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, 'TENANT_NOT_FOUND');
      const users = await harness.api<ErrorAnswer>('GET', `/v1/tenants/${name}/users`);
      assert.equal(users.status, 404, JSON.stringify(users.body));
    });
  }
});
