import assert from 'node:assert/strict';
import type { UserListQuery, UserPage, UserView } from '../../../protocol/daemonApi';
import { compareUsers, TenantUsers } from '../../../extension/model/tenantUsers';
import { MINUTE, NOW, userView } from '../support/viewFixtures';

/** An in-memory list answering as the daemon's users route does: its order, its offset and limit. */
class ListedUsers {
  readonly requests: UserListQuery[] = [];
  constructor(public users: UserView[]) {}
  async listUsers(_tenantId: string, query: UserListQuery): Promise<UserPage> {
    this.requests.push(query);
    const sorted = [...this.users].sort(compareUsers);
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 100;
    return { users: sorted.slice(offset, offset + limit), total: sorted.length, offset, limit };
  }
}

function manyUsers(count: number): UserView[] {
  return Array.from({ length: count }, (_, index) => {
    const id = `u${String(index).padStart(5, '0')}`;
    if (index % 1000 === 7) return userView({ id, state: 'locked', accountEnabled: false, lock: { by: 'alice', at: NOW, revokedSessions: false } });
    if (index % 100 === 3) return userView({ id, state: 'disabled', accountEnabled: false });
    return userView({ id });
  });
}

describe('extension model: the users of a tenant, paged', () => {
  it('sorts locked users first, then disabled ones, then the rest, by name within each', () => {
    const users = [
      userView({ id: 'c', displayName: 'Carol' }),
      userView({ id: 'z', displayName: 'Zed', state: 'disabled', accountEnabled: false }),
      userView({ id: 'a', displayName: 'Alice' }),
      userView({ id: 'y', displayName: 'Yann', state: 'locked', accountEnabled: false }),
      userView({ id: 'b', displayName: 'Bob', state: 'disabled', accountEnabled: false }),
    ];
    assert.deepEqual(
      [...users].sort(compareUsers).map((user) => user.id),
      ['y', 'b', 'z', 'a', 'c'],
    );
  });

  it('opens a 10,000-user tenant with one page of 200, its 10 locked and 100 disabled users on top', async () => {
    const source = new ListedUsers(manyUsers(10_000));
    const users = new TenantUsers('t', source, 200);
    await users.loadMore();
    assert.equal(source.requests.length, 1, 'one request');
    assert.deepEqual(source.requests[0], { offset: 0, limit: 200 });
    const shown = users.sorted();
    assert.equal(shown.length, 200);
    assert.deepEqual(
      shown.slice(0, 10).map((user) => user.state),
      Array(10).fill('locked'),
    );
    assert.equal(shown.filter((user) => user.state === 'disabled').length, 100);
    assert.equal(users.remaining(), 9_800);
    assert.equal(users.hasMore(), true);
  });

  it('reads the next page from where the last ended, without duplicates, until none remain', async () => {
    const source = new ListedUsers(manyUsers(450));
    const users = new TenantUsers('t', source, 200);
    await users.loadMore();
    await users.loadMore();
    await users.loadMore();
    assert.deepEqual(
      source.requests.map((request) => request.offset),
      [0, 200, 400],
    );
    assert.equal(users.size, 450);
    assert.equal(users.remaining(), 0);
    assert.equal(users.hasMore(), false);
  });

  it('shares one read between concurrent "load more" calls', async () => {
    const source = new ListedUsers(manyUsers(500));
    const users = new TenantUsers('t', source, 100);
    await Promise.all([users.loadMore(), users.loadMore(), users.loadMore()]);
    assert.equal(source.requests.length, 1);
    assert.equal(users.size, 100);
  });

  it('keeps a failed read as the error to show, and clears it when a retry succeeds', async () => {
    const source = new ListedUsers(manyUsers(10));
    let fail = true;
    const flaky = { listUsers: (id: string, query: UserListQuery) => (fail ? Promise.reject(new Error('daemon gone')) : source.listUsers(id, query)) };
    const users = new TenantUsers('t', flaky, 50);
    await assert.rejects(users.loadMore(), /daemon gone/);
    assert.equal(users.error?.message, 'daemon gone');
    assert.equal(users.loaded, false);
    fail = false;
    await users.loadMore();
    assert.equal(users.error, undefined);
    assert.equal(users.size, 10);
  });

  it('moves a user that was locked by an event to the top, and ignores an older copy arriving later', async () => {
    const list = Array.from({ length: 50 }, (_, index) => userView({ id: `u${String(index).padStart(2, '0')}` }));
    const users = new TenantUsers('t', new ListedUsers(list), 100);
    await users.loadMore();
    const target = list[20] as UserView;
    const locked: UserView = { ...target, state: 'locked', accountEnabled: false, lastChangedAt: NOW, lastVerifiedAt: NOW, lock: { by: 'bob', at: NOW, revokedSessions: true } };
    assert.equal(users.apply([locked]), true);
    assert.equal(users.sorted()[0]?.id, target.id);
    assert.equal(users.apply([{ ...target, lastVerifiedAt: NOW - 5 * MINUTE }]), false, 'an older copy changes nothing');
    assert.equal(users.find(target.id)?.state, 'locked');
  });

  it('keeps the daemon offsets in step when users outside the page read so far change', async () => {
    const list = manyUsers(300);
    const source = new ListedUsers(list);
    const users = new TenantUsers('t', source, 100);
    await users.loadMore();
    // A user beyond the first page gets locked: it sorts into the part read, so it is shown now…
    const far = list[250] as UserView;
    const farLocked: UserView = { ...far, state: 'locked', accountEnabled: false, lastChangedAt: NOW, lastVerifiedAt: NOW };
    source.users = source.users.map((user) => (user.id === far.id ? farLocked : user));
    users.apply([farLocked]);
    assert.ok(users.find(far.id), 'a newly locked user shows at once');
    // …and the next page starts where the daemon's list now continues: nobody twice, nobody missed.
    await users.loadMore();
    await users.loadMore();
    const ids = users.sorted().map((user) => user.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicates');
    assert.equal(ids.length, 300);
  });

  it('drops removed users and counts them out of what remains', async () => {
    const list = manyUsers(120);
    const users = new TenantUsers('t', new ListedUsers(list), 100);
    await users.loadMore();
    const gone = (list[0] as UserView).id;
    assert.equal(users.apply([], [gone]), true);
    assert.equal(users.find(gone), undefined);
    assert.equal(users.size, 99);
    assert.equal(users.remaining(), 20, 'the next page starts one earlier in the shorter list');
  });

  it('ignores events for a tenant whose users were never read', () => {
    const users = new TenantUsers('t', new ListedUsers([]), 100);
    assert.equal(users.apply([userView({ id: 'x' })]), false);
    assert.equal(users.size, 0);
  });
});
