import assert from 'node:assert/strict';
import type { StoredUser } from '../../../daemon/store/storeTypes';
import { TenantUserTable } from '../../../daemon/store/tenantUserTable';

const collator = new Intl.Collator();

const rank = (u: StoredUser) => (u.lock ? 0 : u.accountEnabled ? 2 : 1);
/** What the order is by: users with the same key may come in any order among themselves. */
const keyOf = (u: StoredUser) => `${rank(u)}|${u.displayName ?? u.userPrincipalName}|${u.userPrincipalName}`;

/** The order `Store.listUsers` promises, computed the slow way, as keys. */
function expectedOrder(users: Iterable<StoredUser>): string[] {
  return [...users]
    .sort((a, b) => rank(a) - rank(b) || collator.compare(a.displayName ?? a.userPrincipalName, b.displayName ?? b.userPrincipalName) || collator.compare(a.userPrincipalName, b.userPrincipalName))
    .map(keyOf);
}

/** A seeded source of numbers in [0, 1), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function user(id: string, random: () => number): StoredUser {
  const state = random();
  // Few names, so many users share one: rows with equal keys lie across blocks.
  const name = `User ${Math.floor(random() * 40)}`;
  return {
    id,
    userPrincipalName: `${name.replace(' ', '.').toLowerCase()}@contoso.example`,
    displayName: random() < 0.1 ? null : name,
    accountEnabled: state >= 0.2,
    onPremisesSyncEnabled: null,
    lastChangedAt: 1,
    lastVerifiedAt: 1,
    lock: state < 0.1 ? { by: 'alice', at: 1, revokedSessions: false } : null,
  };
}

function pageKeys(table: TenantUserTable, query: Parameters<TenantUserTable['page']>[0]): string[] {
  return table.page(query, 0).users.map(keyOf);
}

describe('store: one tenant\'s users in memory, in page order', () => {
  it('keeps page order through thousands of changes read between, as one sort of the same users would give', () => {
    const random = seeded(7);
    const table = new TenantUserTable();
    const users = new Map<string, StoredUser>();
    for (let step = 0; step < 6_000; step++) {
      const id = `u${Math.floor(random() * 3_000)}`;
      if (random() < 0.15 && users.has(id)) {
        table.delete(id);
        users.delete(id);
      } else {
        const next = user(id, random);
        table.set(next);
        users.set(id, next);
      }
      // Read often enough that the order is kept by putting each change in place, as during a sync.
      if (step % 200 === 0 || step === 5_999) {
        const order = expectedOrder(users.values());
        const page = table.page({ limit: order.length }, 0).users;
        assert.deepEqual(page.map(keyOf), order, `the whole order after step ${step}`);
        assert.deepEqual(page.map((u) => u.id).sort(), [...users.keys()].sort(), 'every user once');
      }
    }
    const order = expectedOrder(users.values());
    assert.deepEqual(pageKeys(table, { offset: 1_000, limit: 200 }), order.slice(1_000, 1_200), 'a page in the middle');
    const counts = table.counts();
    assert.equal(counts.total, users.size);
    const locked = [...users.values()].filter((u) => u.lock).length;
    const disabled = [...users.values()].filter((u) => !u.lock && !u.accountEnabled).length;
    assert.deepEqual(pageKeys(table, { state: 'disabled', offset: 5, limit: 50 }), order.slice(locked + 5, locked + Math.min(disabled, 55)), 'a page of one state');
    assert.equal(table.page({ state: 'enabled', limit: 1 }, 0).total, users.size - locked - disabled);
  });

  it('sorts a table filled before its first read once, then keeps the order', () => {
    const random = seeded(11);
    const table = new TenantUserTable();
    const users = new Map<string, StoredUser>();
    for (let i = 0; i < 2_500; i++) {
      const next = user(`u${i}`, random);
      table.set(next);
      users.set(next.id, next);
    }
    assert.deepEqual(pageKeys(table, { limit: 3_000 }), expectedOrder(users.values()));
    const locked = { ...(users.get('u42') as StoredUser), accountEnabled: false, lock: { by: 'bob', at: 2, revokedSessions: true } };
    table.set(locked);
    users.set('u42', locked);
    assert.deepEqual(pageKeys(table, { limit: 3_000 }), expectedOrder(users.values()));
    assert.equal(table.page({ state: 'locked', limit: 3_000 }, 0).users.some((u) => u.id === 'u42'), true);
  });
  it('freezes every user for a snapshot as they were, whatever changes, removals and additions come after', () => {
    const table = new TenantUserTable();
    const at = (id: string, time: number, lock: StoredUser['lock'] = null): StoredUser => ({
      id,
      userPrincipalName: `${id}@contoso.example`,
      displayName: id,
      accountEnabled: lock === null,
      onPremisesSyncEnabled: null,
      lastChangedAt: time,
      lastVerifiedAt: time,
      lock,
    });
    const before = [at('ada', 10), at('bob', 20, { by: 'alice', at: 20, revokedSessions: true }), at('cy', 30)];
    for (const u of before) table.set(u);
    const frozen = table.frozen();
    // After the freeze: ada locked, bob unlocked, cy removed and dan added (taking cy's place in memory).
    table.set(at('ada', 40, { by: 'alice', at: 40, revokedSessions: false }));
    table.set(at('bob', 50));
    table.delete('cy');
    table.set(at('dan', 60));
    table.verify('ada', 70);
    assert.deepEqual(frozen.slice(0, frozen.length), before);
    assert.deepEqual(table.get('ada'), { ...at('ada', 40, { by: 'alice', at: 40, revokedSessions: false }), lastVerifiedAt: 70 });
  });
});
