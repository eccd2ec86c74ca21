import assert from 'node:assert/strict';
import type { UserListQuery, UserPage } from '../../../protocol/daemonApi';
import { StatusModel } from '../../../extension/model/statusModel';
import type { TenantsNode } from '../../../extension/model/tenantTreeModel';
import { TenantTreeRedraws } from '../../../extension/model/tenantTreeRedraws';
import { manualTimers } from '../support/manualTimers';
import { NOW, tenantView, userView } from '../support/viewFixtures';

/** Users read only when the test lets each read answer. */
function heldUserSource(): { listUsers(tenantId: string, query: UserListQuery): Promise<UserPage>; answer(): void; reads: number } {
  const waiting: Array<() => void> = [];
  const all = [userView({ id: 'anna' }), userView({ id: 'bert' })];
  const source = {
    reads: 0,
    listUsers(_tenantId: string, query: UserListQuery): Promise<UserPage> {
      source.reads++;
      const offset = query.offset ?? 0;
      const limit = query.limit ?? 100;
      return new Promise((resolve) => waiting.push(() => resolve({ users: all.slice(offset, offset + limit), total: all.length, offset, limit })));
    },
    answer(): void {
      waiting.shift()?.();
    },
  };
  return source;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One tenant in the Tenants view, its users read from a held source, with every redraw recorded. */
function tenantTree(pageSize: number) {
  const source = heldUserSource();
  const model = new StatusModel({ users: source, pageSize });
  model.replaceTenants([tenantView()]);
  const timers = manualTimers();
  const redraws = new TenantTreeRedraws(model, timers);
  const redrawn: Array<TenantsNode | undefined> = [];
  redraws.onDidRedraw((node) => redrawn.push(node));
  const [tenant] = redraws.tree.roots();
  assert.ok(tenant);
  return { source, model, timers, redraws, redrawn, tenant };
}

describe('extension model: when the Tenants view redraws', () => {
  it('redraws an expanded tenant whose users were reloaded while its first page was being read, so its users show', async () => {
    const { source, model, timers, redraws, redrawn, tenant } = tenantTree(10);

    // The operator expands the tenant; a page of a resync arrives while its first page is read.
    const children = redraws.children(tenant);
    model.applyEvent({ type: 'users-reloaded', tenantId: 'tenant-1' });
    model.applyEvent({ type: 'tenant', tenant: tenantView({ asOf: NOW, counts: { total: 2, enabled: 2, disabled: 0, locked: 0 } }) });
    timers.advance(30);
    assert.equal(redrawn.length, 0, 'no redraw while the read is under way');
    source.answer();
    assert.deepEqual(await children, [], 'what was read is thrown away');

    timers.advance(30);
    assert.ok(redrawn.includes(tenant), 'the tenant is redrawn, which reads its users again');
    const again = redraws.children(tenant);
    await settle();
    source.answer();
    assert.deepEqual(
      (await again).map((node) => node.kind),
      ['user', 'user'],
    );
    redraws.dispose();
  });

  it('does not redraw a tenant a second time for the first page it has just returned', async () => {
    const { source, timers, redraws, redrawn, tenant } = tenantTree(10);
    const children = redraws.children(tenant);
    await settle();
    source.answer();
    assert.equal((await children).length, 2);
    timers.advance(30);
    assert.equal(redrawn.length, 0);
    redraws.dispose();
  });

  it('shows "Loading users…" on the "Load more" row as soon as the next page is being read', async () => {
    const { source, model, timers, redraws, redrawn, tenant } = tenantTree(1);
    const first = redraws.children(tenant);
    await settle();
    source.answer();
    await first;
    timers.advance(30);
    assert.deepEqual(redrawn, [], 'no redraw for the first page');
    const loadMore = redraws.tree.loadMoreNode('tenant-1');
    assert.equal(redraws.tree.row(loadMore).label, 'Load more users…');

    const more = model.loadMoreUsers('tenant-1');
    timers.advance(30);
    assert.deepEqual(redrawn, [tenant], 'redrawn while the page is read');
    assert.equal(redraws.tree.row(loadMore).label, 'Loading users…');
    assert.equal(redraws.tree.row(loadMore).icon?.id, 'loading~spin');
    source.answer();
    await more;
    timers.advance(30);
    assert.deepEqual(redrawn, [tenant, tenant], 'and again once it is in');
    assert.deepEqual(
      (await redraws.children(tenant)).map((node) => node.kind),
      ['user', 'user'],
    );
    redraws.dispose();
  });
});
