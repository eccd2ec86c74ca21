import assert from 'node:assert/strict';
import type { TenantView } from '../../../protocol/daemonApi';
import { StatusModel } from '../../../extension/model/statusModel';
import { MINUTE, NOW, tenantView, userView } from '../support/viewFixtures';

const users = { listUsers: async () => ({ users: [userView({ id: 'u1' })], total: 1, offset: 0, limit: 200 }) };

describe('extension model: one picture of the daemon, raising change events', () => {
  it('raises "turned DISCONNECTED" once, on the change, not for a tenant first seen that way', () => {
    const model = new StatusModel({ users });
    const turned: string[] = [];
    model.onDidDisconnectTenant((tenant) => turned.push(tenant.id));
    model.replaceTenants([tenantView({ id: 'a' }), tenantView({ id: 'b', status: 'DISCONNECTED' })]);
    model.applyEvent({ type: 'tenant', tenant: tenantView({ id: 'a', status: 'DISCONNECTED', lastAttemptAt: NOW }) });
    model.applyEvent({ type: 'tenant', tenant: tenantView({ id: 'a', status: 'DISCONNECTED', lastAttemptAt: NOW + 1 }) });
    assert.deepEqual(turned, ['a']);
  });

  it('drops a tenant answer older than the one it holds', () => {
    const model = new StatusModel({ users });
    model.applyTenant(tenantView({ id: 'a', status: 'DISCONNECTED', lastAttemptAt: NOW }));
    model.applyTenant(tenantView({ id: 'a', status: 'ACTIVE', asOf: NOW - 10 * MINUTE, lastAttemptAt: NOW - 10 * MINUTE }));
    assert.equal(model.tenant('a')?.status, 'DISCONNECTED');
  });

  it('tells the tree which tenant rows changed, and when the list itself changed', () => {
    const model = new StatusModel({ users });
    const changes: Array<readonly string[] | undefined> = [];
    model.onDidChangeTenants((change) => changes.push(change.tenantIds));
    model.replaceTenants([tenantView({ id: 'a' })]);
    model.applyEvent({ type: 'tenant', tenant: tenantView({ id: 'a', lastAttemptAt: NOW + 1 }) });
    model.applyEvent({ type: 'tenant', tenant: tenantView({ id: 'b' }) });
    model.applyEvent({ type: 'tenant-removed', tenantId: 'b' });
    assert.deepEqual(changes, [undefined, ['a'], undefined, undefined]);
  });

  it('applies one users event to the users read and tells the tree which tenant', async () => {
    const model = new StatusModel({ users });
    model.replaceTenants([tenantView({ id: 'a' })]);
    await model.loadMoreUsers('a');
    const changed: string[] = [];
    model.onDidChangeUsers(({ tenantId }) => changed.push(tenantId));
    model.applyEvent({ type: 'users', tenantId: 'a', users: [userView({ id: 'u1', state: 'locked', accountEnabled: false, lastVerifiedAt: NOW })], removedUserIds: [] });
    assert.deepEqual(changed, ['a']);
    assert.equal(model.users('a').find('u1')?.state, 'locked');
  });

  it('reads a tenant\'s users again after users-reloaded, and keeps the users read of other tenants', async () => {
    let version = 1;
    const reads: string[] = [];
    const source = {
      listUsers: async (tenantId: string) => {
        reads.push(tenantId);
        return { users: [userView({ id: `u${version}` })], total: 1, offset: 0, limit: 200 };
      },
    };
    const model = new StatusModel({ users: source });
    model.replaceTenants([tenantView({ id: 'a' }), tenantView({ id: 'b' })]);
    await model.loadMoreUsers('a');
    await model.loadMoreUsers('b');
    const changed: string[] = [];
    model.onDidChangeUsers(({ tenantId }) => changed.push(tenantId));
    version = 2;
    model.applyEvent({ type: 'users-reloaded', tenantId: 'a' });
    assert.deepEqual(changed, ['a'], 'the tree is told to redraw that tenant');
    assert.equal(model.users('a').loaded, false, 'what was read of it is dropped');
    assert.equal(model.users('b').find('u1')?.id, 'u1', 'the other tenant keeps its users');
    await model.loadMoreUsers('a');
    assert.equal(model.users('a').find('u2')?.id, 'u2', 'read again, it shows the users as they are now');
    assert.deepEqual(reads, ['a', 'b', 'a']);
    model.applyEvent({ type: 'users-reloaded', tenantId: 'c' });
    assert.deepEqual(changed, ['a', 'a', 'a'], 'read again (told as the read starts and ends); a tenant whose users were never read needs no redraw');
  });

  it('forgets the users read when a new listing comes (changes may have been missed while disconnected)', async () => {
    const model = new StatusModel({ users });
    model.replaceTenants([tenantView({ id: 'a' })]);
    await model.loadMoreUsers('a');
    assert.equal(model.users('a').loaded, true);
    model.replaceTenants([tenantView({ id: 'a' })]);
    assert.equal(model.users('a').loaded, false);
  });

  it('says a row is busy, and when it is not any more', () => {
    const model = new StatusModel({ users });
    const keys: string[] = [];
    model.onDidChangeBusy(({ key }) => keys.push(key));
    model.setBusy('tenant/a', 'Refreshing…');
    assert.equal(model.busy('tenant/a'), 'Refreshing…');
    model.clearBusy('tenant/a');
    model.clearBusy('tenant/a');
    assert.equal(model.busy('tenant/a'), undefined);
    assert.deepEqual(keys, ['tenant/a', 'tenant/a']);
  });

  it('sorts tenants by name for every view', () => {
    const model = new StatusModel({ users });
    const named = (id: string, displayName: string): TenantView => tenantView({ id, displayName });
    model.replaceTenants([named('1', 'fabrikam'), named('2', 'Contoso'), named('3', 'Tenant 10'), named('4', 'Tenant 9')]);
    assert.deepEqual(
      model.tenants().map((tenant) => tenant.displayName),
      ['Contoso', 'fabrikam', 'Tenant 9', 'Tenant 10'],
    );
  });

  it('sorts the tenants again only when one is added, removed or renamed, not for every event of a poll round', () => {
    const model = new StatusModel({ users });
    const tenants = Array.from({ length: 1000 }, (_, index) => tenantView({ id: `t${index}`, displayName: `Tenant ${index}` }));
    model.replaceTenants(tenants);
    const changes: Array<readonly string[] | undefined> = [];
    model.onDidChangeTenants(({ tenantIds }) => changes.push(tenantIds));
    let sorts = 0;
    const sort = Array.prototype.sort;
    // Counts the sorts of a list as long as the tenants' (the model's own, whatever it is made of).
    Array.prototype.sort = function <T>(this: T[], compare?: (a: T, b: T) => number): T[] {
      if (this.length >= 999) sorts++;
      return sort.call(this, compare) as T[];
    };
    try {
      assert.equal(model.tenants()[9]?.displayName, 'Tenant 9', 'numbers in names sort as numbers');
      assert.equal(sorts, 1);
      // A poll round: an event per tenant, each followed by every view asking for the tenants.
      for (const tenant of tenants) {
        model.applyEvent({ type: 'tenant', tenant: { ...tenant, asOf: NOW } });
        assert.equal(model.tenants().length, 1000);
      }
      assert.equal(sorts, 1, 'no sort for a round that added, removed and renamed nothing');
      assert.equal(model.tenants()[0]?.asOf, NOW, 'each answer has the tenants as they are now');
      assert.equal(changes.length, 1000);
      assert.deepEqual(changes.at(-1), ['t999'], 'each event names its tenant');

      const first = tenants[0] as TenantView;
      model.applyEvent({ type: 'tenant', tenant: { ...first, displayName: 'Zeta', asOf: NOW + 1 } });
      assert.equal(changes.at(-1), undefined, 'a rename changes the order: the list itself changed');
      assert.equal(model.tenants().at(-1)?.displayName, 'Zeta');
      model.removeTenant('t1');
      assert.equal(model.tenants().length, 999);
      assert.equal(sorts, 3, 'sorted once after the rename and once after the removal');
    } finally {
      Array.prototype.sort = sort;
    }
  });
});
