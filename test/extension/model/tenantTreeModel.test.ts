import assert from 'node:assert/strict';
import type { UserListQuery, UserPage, UserView } from '../../../protocol/daemonApi';
import { COMMANDS } from '../../../extension/common/commandTable';
import { StatusModel } from '../../../extension/model/statusModel';
import { TenantTreeModel, tenantRow, tenantTooltip, userRow } from '../../../extension/model/tenantTreeModel';
import { compareUsers } from '../../../extension/model/tenantUsers';
import { NOW, tenantView, userView } from '../support/viewFixtures';

function modelWith(users: Record<string, UserView[]>, pageSize = 3): StatusModel {
  return new StatusModel({
    pageSize,
    users: {
      listUsers: async (tenantId: string, query: UserListQuery): Promise<UserPage> => {
        const all = [...(users[tenantId] ?? [])].sort(compareUsers);
        const offset = query.offset ?? 0;
        const limit = query.limit ?? 100;
        return { users: all.slice(offset, offset + limit), total: all.length, offset, limit };
      },
    },
  });
}

describe('extension model: the Tenants tree', () => {
  it('lists tenants by name, each with its status in contextValue and a stable id', () => {
    const model = modelWith({});
    model.replaceTenants([
      tenantView({ id: 'b', displayName: 'Fabrikam', status: 'STALE' }),
      tenantView({ id: 'a', displayName: 'contoso', status: 'DISCONNECTED' }),
    ]);
    const tree = new TenantTreeModel(model, () => NOW);
    const rows = tree.roots().map((node) => tree.row(node));
    assert.deepEqual(
      rows.map((row) => [row.label, row.contextValue, row.id]),
      [
        ['contoso', 'tenant:DISCONNECTED', 'tenant/a'],
        ['Fabrikam', 'tenant:STALE', 'tenant/b'],
      ],
    );
    assert.equal(tree.roots()[0], tree.roots()[0], 'the same node object comes back for the same row');
  });

  it("shows a tenant's status, counts and as-of time, with the status icon in the theme's colour", () => {
    const row = tenantRow(tenantView({ status: 'STALE', counts: { total: 2500, enabled: 2400, disabled: 97, locked: 3 } }), undefined, NOW);
    assert.equal(row.description, 'STALE · 2,500 users · 3 locked · as of 2 min ago');
    assert.deepEqual(row.icon, { id: 'history', color: 'list.warningForeground' });
    assert.equal(row.collapsible, 'collapsed');
    const disconnected = tenantRow(tenantView({ status: 'DISCONNECTED' }), undefined, NOW);
    assert.deepEqual(disconnected.icon, { id: 'debug-disconnect', color: 'list.errorForeground' });
  });

  it("says what a status means without thresholds of its own when the daemon gives no reason: they are the daemon's settings", () => {
    for (const status of ['ACTIVE', 'STALE', 'INACTIVE', 'DORMANT', 'DISCONNECTED'] as const) {
      const tooltip = tenantTooltip(tenantView({ status, statusReason: '' }), NOW);
      const meaning = tooltip.split('\n').find((line) => line.startsWith(`**${status}**: `));
      assert.ok(meaning && meaning.length > `**${status}**: `.length, status);
      assert.doesNotMatch(meaning, /\d|hourly|daily/, status);
    }
    const told = tenantTooltip(tenantView({ status: 'DORMANT', statusReason: 'no management activity for 45 days' }), NOW);
    assert.match(told, /\*\*DORMANT\*\*: no management activity for 45 days/, "the daemon's own reason comes first");
  });

  it('shows a busy tenant with a spinning icon and its action, and marks contextValue busy', () => {
    const row = tenantRow(tenantView(), 'Refreshing…', NOW);
    assert.equal(row.description, 'Refreshing…');
    assert.deepEqual(row.icon, { id: 'loading~spin' });
    assert.equal(row.contextValue, 'tenant:ACTIVE:busy');
  });

  it('lists users locked first with a red lock, disabled ones with another icon, then the rest, and "Load more"', async () => {
    const users = [
      userView({ id: 'e1', displayName: 'Anna' }),
      userView({ id: 'd1', displayName: 'Dora', state: 'disabled', accountEnabled: false }),
      userView({ id: 'l1', displayName: 'Lars', state: 'locked', accountEnabled: false, lock: { by: 'alice', at: NOW, revokedSessions: true } }),
      userView({ id: 'e2', displayName: 'Bert' }),
      userView({ id: 'e3', displayName: 'Cleo', onPremisesSyncEnabled: true }),
    ];
    const model = modelWith({ t: users }, 3);
    model.replaceTenants([tenantView({ id: 't' })]);
    const tree = new TenantTreeModel(model, () => NOW);
    const tenant = tree.tenantNode('t');
    assert.equal(tree.needsUsers(tenant), true);
    await model.loadMoreUsers('t');
    let rows = tree.children(tenant).map((node) => tree.row(node));
    assert.deepEqual(
      rows.map((row) => [row.label, row.contextValue, row.icon?.id, row.icon?.color]),
      [
        ['Lars', 'user:locked', 'lock', 'charts.red'],
        ['Dora', 'user:disabled', 'circle-slash', 'disabledForeground'],
        ['Anna', 'user:enabled', 'account', undefined],
        ['Load more users…', 'loadMore', 'ellipsis', undefined],
      ],
    );
    assert.equal(rows[3]?.description, '2 more');
    assert.deepEqual(rows[3]?.command, { id: COMMANDS.loadMoreUsers.id, title: COMMANDS.loadMoreUsers.title, args: ['t'] });
    await model.loadMoreUsers('t');
    rows = tree.children(tenant).map((node) => tree.row(node));
    assert.deepEqual(
      rows.map((row) => row.label),
      ['Lars', 'Dora', 'Anna', 'Bert', 'Cleo'],
    );
    assert.equal(rows[4]?.contextValue, 'user:enabled:onPremises');
  });

  it("shows a failed read of the users as a row that retries, not as an empty tenant", async () => {
    const model = new StatusModel({ users: { listUsers: () => Promise.reject(new Error('connect ECONNREFUSED')) } });
    model.replaceTenants([tenantView({ id: 't' })]);
    const tree = new TenantTreeModel(model, () => NOW);
    await model.loadMoreUsers('t').catch(() => undefined);
    const [row] = tree.children(tree.tenantNode('t')).map((node) => tree.row(node));
    assert.equal(row?.label, 'Could not read the users');
    assert.match(row?.description ?? '', /ECONNREFUSED — click to try again/);
    assert.equal(row?.command?.id, COMMANDS.loadMoreUsers.id);
  });

  it('says what a locked user row cannot: who locked it, when, and whether sessions were revoked', () => {
    const row = userRow(
      userView({ id: 'u', displayName: 'Lars', state: 'locked', accountEnabled: false, lock: { by: 'alice', at: NOW - 3_600_000, revokedSessions: true }, onPremisesSyncEnabled: true }),
      tenantView(),
      undefined,
      NOW,
    );
    assert.match(row.tooltip ?? '', /Locked by alice 60 min ago .*sign-in sessions revoked/);
    assert.match(row.tooltip ?? '', /Synced from on-premises AD/);
    assert.equal(row.description, 'u@contoso.onmicrosoft.com · locked · on-premises');
  });

  it('escapes Markdown and markup from a tenant in tooltips', () => {
    const hostile = '<img src=x onerror=alert(1)> [click](command:m365Status.removeTenant) **bold**';
    const row = userRow(userView({ id: 'u', displayName: hostile }), tenantView({ displayName: hostile }), undefined, NOW);
    assert.equal(row.label, hostile, 'labels are plain text already');
    assert.ok(!(row.tooltip ?? '').includes('<img'), 'no raw markup');
    assert.ok(!(row.tooltip ?? '').includes('[click]('), 'no live link');
    assert.ok((row.tooltip ?? '').includes('&lt;img src=x onerror=alert\\(1\\)&gt;'));
  });

  it('marks a user busy while an action runs on it', async () => {
    const model = modelWith({ t: [userView({ id: 'u1' })] });
    model.replaceTenants([tenantView({ id: 't' })]);
    await model.loadMoreUsers('t');
    const tree = new TenantTreeModel(model, () => NOW);
    const node = tree.userNode('t', 'u1');
    model.setBusy(node.id, 'Locking…');
    const row = tree.row(node);
    assert.equal(row.description, 'Locking…');
    assert.equal(row.contextValue, 'user:enabled:busy');
    assert.deepEqual(row.icon, { id: 'loading~spin' });
    model.clearBusy(node.id);
    assert.equal(tree.row(node).contextValue, 'user:enabled');
  });

  it('drops the rows of a tenant that was removed', () => {
    const model = modelWith({});
    model.replaceTenants([tenantView({ id: 'a' }), tenantView({ id: 'b', displayName: 'B' })]);
    const tree = new TenantTreeModel(model, () => NOW);
    assert.equal(tree.roots().length, 2);
    model.applyEvent({ type: 'tenant-removed', tenantId: 'a' });
    assert.deepEqual(
      tree.roots().map((node) => node.tenantId),
      ['b'],
    );
  });
});
