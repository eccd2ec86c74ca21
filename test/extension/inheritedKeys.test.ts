import assert from 'node:assert/strict';
import { StatusModel } from '../../extension/model/statusModel';
import { tenantView, userView } from './support/viewFixtures';

/** Names every plain object inherits: as tenant or user ids they must be ids like any other. */
const builtInNames = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'];

describe('extension model: ids named like built-in object properties', () => {
  it('knows no tenant or user by such a name until the daemon sends one, then keeps each apart', async () => {
    const model = new StatusModel({
      users: { listUsers: async (tenantId) => ({ users: builtInNames.map((id) => userView({ id, userPrincipalName: `${id}@${tenantId}.example` })), total: builtInNames.length, offset: 0, limit: 200 }) },
    });
    for (const name of builtInNames) {
      assert.equal(model.tenant(name), undefined, name);
      assert.equal(model.busy(name), undefined, name);
    }
    model.replaceTenants(builtInNames.map((id) => tenantView({ id, displayName: `tenant ${id}` })));
    assert.deepEqual(model.tenants().map((t) => t.id).sort(), [...builtInNames].sort());
    for (const name of builtInNames) {
      assert.equal(model.tenant(name)?.displayName, `tenant ${name}`);
      await model.loadMoreUsers(name);
      const users = model.users(name);
      assert.equal(users.size, builtInNames.length);
      for (const userId of builtInNames) assert.equal(users.find(userId)?.userPrincipalName, `${userId}@${name}.example`);
    }
    model.applyEvent({ type: 'tenant-removed', tenantId: '__proto__' });
    assert.equal(model.tenant('__proto__'), undefined);
    assert.equal(model.tenants().length, builtInNames.length - 1);
  });
});
