import assert from 'node:assert/strict';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';
import { ForegroundRequests } from '../../../daemon/foregroundRequests';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import { APPLY_USERS_PER_TURN } from '../../../daemon/store/lowdbUsers';
import { SEARCH_ROWS_PER_TURN } from '../../../daemon/store/tenantUserTable';
import type { ObservedUser } from '../../../daemon/store/storeTypes';
import { observed } from './storeContract';

/** Graph's largest page of `/users/delta`. */
const DELTA_PAGE_USERS = 200;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function users(count: number, change: Partial<ObservedUser> = {}, from = 0): ObservedUser[] {
  return Array.from({ length: count }, (_, i) => observed(`u${from + i}`, change));
}

describe('LowdbStore: a sync page and a text search, a slice per turn', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  /** The API requests of the daemon this store would run in. */
  let foregroundRequests: ForegroundRequests;
  let store: LowdbStore;

  function openStore(): Promise<LowdbStore> {
    return LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000, foregroundRequests });
  }

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
    clock = new ManualClock();
    foregroundRequests = new ForegroundRequests();
    store = await openStore();
  });

  afterEach(async () => {
    await store.close();
    await cleanup();
  });

  async function addTenant(name: string) {
    return store.addTenant({ tenantIdOrDomain: name, appId: 'app-1', credentialKind: 'secret', by: 'alice' });
  }

  it(`answers reads between slices of ${APPLY_USERS_PER_TURN} users while a ${DELTA_PAGE_USERS}-user page is applied`, async () => {
    const tenant = await addTenant('contoso.example');
    const other = await addTenant('fabrikam.example');
    await store.applyUserChanges(other.id, { observedAt: clock.now(), users: users(3), deltaLink: 'd-other' });
    let applied = false;
    const page = store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(DELTA_PAGE_USERS), fullRound: true }).then((summary) => {
      applied = true;
      return summary;
    });
    // What a users page of this tenant and another tenant's list answer, one turn after another.
    const seen: number[] = [];
    while (!applied) {
      await nextTurn();
      const [own, beside] = await Promise.all([store.countUsers(tenant.id), store.listUsers(other.id)]);
      assert.equal(beside.total, 3);
      if (!applied) seen.push(own.total);
    }
    assert.equal((await page).added.length, DELTA_PAGE_USERS);
    const partway = seen.filter((total) => total > 0 && total < DELTA_PAGE_USERS);
    assert.ok(new Set(partway).size >= 2, `reads answered partway: ${seen.join(', ')}`);
    for (let i = 1; i < seen.length; i++) assert.ok((seen[i] as number) - (seen[i - 1] as number) <= APPLY_USERS_PER_TURN, `more than a slice in one turn: ${seen.join(', ')}`);
    assert.equal((await store.countUsers(tenant.id)).total, DELTA_PAGE_USERS);
  });

  it('applies nothing of a page while an API request is in flight, and all of it once the request ends', async () => {
    const tenant = await addTenant('contoso.example');
    const end = foregroundRequests.begin();
    try {
      const page = store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(DELTA_PAGE_USERS), fullRound: true });
      // Far fewer turns than the bound lasts: the request is what holds the page, its first slice included.
      for (let i = 0; i < 20; i++) {
        await nextTurn();
        assert.equal((await store.countUsers(tenant.id)).total, 0, `turn ${i}: no slice before the request ends`);
      }
      end();
      assert.equal((await page).added.length, DELTA_PAGE_USERS);
    } finally {
      end();
    }
    assert.equal((await store.countUsers(tenant.id)).total, DELTA_PAGE_USERS);
  });

  it(`applies a batch of up to ${APPLY_USERS_PER_TURN} users at once, even while an API request (often its own) is in flight`, async () => {
    const tenant = await addTenant('contoso.example');
    const end = foregroundRequests.begin();
    try {
      const applied = store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(APPLY_USERS_PER_TURN), deltaLink: 'd-1' });
      // In memory on the next turn; the answer itself waits for the disk.
      await nextTurn();
      assert.equal((await store.countUsers(tenant.id)).total, APPLY_USERS_PER_TURN);
      assert.equal((await applied).added.length, APPLY_USERS_PER_TURN);
    } finally {
      end();
    }
  });

  it('gives way only to its own daemon\'s requests: another daemon\'s request in flight holds no slice', async () => {
    const tenant = await addTenant('contoso.example');
    const end = new ForegroundRequests(10_000).begin();
    try {
      const page = store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(DELTA_PAGE_USERS), fullRound: true });
      const seen: number[] = [];
      for (let i = 0; i < 20 && seen.at(-1) !== DELTA_PAGE_USERS; i++) {
        await nextTurn();
        seen.push((await store.countUsers(tenant.id)).total);
      }
      assert.equal(seen.at(-1), DELTA_PAGE_USERS, `every slice within 20 turns: ${seen.join(', ')}`);
      assert.equal((await page).added.length, DELTA_PAGE_USERS);
    } finally {
      end();
    }
  });

  it('keeps on disk a lock recorded between two slices of a page that holds the user', async () => {
    const tenant = await addTenant('contoso.example');
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(DELTA_PAGE_USERS), deltaLink: 'd-1', fullRound: true });
    // Graph read the page before the locks below: it still says every user is enabled, under a new name.
    const observedAt = clock.now();
    clock.advance(1_000);
    const page = store.applyUserChanges(tenant.id, { observedAt, users: users(DELTA_PAGE_USERS, { displayName: 'Renamed' }), deltaLink: 'd-2' });
    await nextTurn();
    // u10 is in the slice applied already, u150 in one still to come.
    assert.equal((await store.getUser(tenant.id, 'u10'))?.displayName, 'Renamed');
    assert.equal((await store.getUser(tenant.id, 'u150'))?.displayName, 'User u150');
    await Promise.all([
      store.recordUserLocked(tenant.id, 'u10', { by: 'alice', revokedSessions: false }),
      store.recordUserLocked(tenant.id, 'u150', { by: 'alice', revokedSessions: false }),
    ]);
    const summary = await page;
    assert.equal(summary.changed.length, DELTA_PAGE_USERS);

    await store.close();
    store = await openStore();
    for (const id of ['u10', 'u150']) {
      const user = await store.getUser(tenant.id, id);
      assert.equal(user?.displayName, 'Renamed', id);
      assert.equal(user?.accountEnabled, false, id);
      assert.equal(user?.lock?.by, 'alice', id);
    }
    assert.equal((await store.getUser(tenant.id, 'u11'))?.accountEnabled, true);
    assert.equal((await store.countUsers(tenant.id)).locked, 2);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-2');
  });

  it('removes every user a full round no longer lists, looking through a large tenant over several turns', async () => {
    const tenant = await addTenant('contoso.example');
    const large = 12_000;
    for (let from = 0; from < large; from += DELTA_PAGE_USERS) {
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(DELTA_PAGE_USERS, {}, from), ...(from + DELTA_PAGE_USERS >= large ? { deltaLink: 'd-1' } : {}) });
    }
    assert.equal((await store.countUsers(tenant.id)).total, large);
    // A full round again, in two pages: the first lists u0..u4, the last u5 and u6.
    clock.advance(1_000);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(5), fullRound: true });
    const last = await store.applyUserChanges(tenant.id, {
      observedAt: clock.now(),
      users: users(2, {}, 5),
      deltaLink: 'd-2',
      fullRound: true,
      earlierUserIds: new Set(['u0', 'u1', 'u2', 'u3', 'u4']),
    });
    assert.equal(last.removed.length, large - 7);
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((user) => user.id).sort(), ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']);

    await store.close();
    store = await openStore();
    assert.equal((await store.countUsers(tenant.id)).total, 7);
  });

  it('applies the pages of one tenant one after another, even when both are asked for at once', async () => {
    const tenant = await addTenant('contoso.example');
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(DELTA_PAGE_USERS), deltaLink: 'd-1', fullRound: true });
    clock.advance(1_000);
    const first = store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(DELTA_PAGE_USERS, { accountEnabled: false }), deltaLink: 'd-2' });
    // A later round that enables the last slice's users again, asked for while the first is partway.
    clock.advance(1_000);
    const tail = DELTA_PAGE_USERS - APPLY_USERS_PER_TURN;
    const second = store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users(APPLY_USERS_PER_TURN, { accountEnabled: true }, tail), deltaLink: 'd-3' });
    const [one, two] = await Promise.all([first, second]);
    assert.equal(one.changed.length, DELTA_PAGE_USERS);
    assert.equal(two.changed.length, APPLY_USERS_PER_TURN);
    assert.ok(two.changed.every((change) => change.before.accountEnabled === false && change.after.accountEnabled));
    assert.equal((await store.countUsers(tenant.id)).enabled, APPLY_USERS_PER_TURN);
    assert.equal((await store.getUser(tenant.id, `u${tail}`))?.accountEnabled, true);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-3');
  });

  it(`searches a tenant of more than ${SEARCH_ROWS_PER_TURN} users a slice per turn, finding what it holds as the search ends`, async () => {
    const tenant = await addTenant('contoso.example');
    const all = users(SEARCH_ROWS_PER_TURN * 3 + 17);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: all, deltaLink: 'd-1', fullRound: true });
    const text = 'u1';
    const expected = all.filter((user) => `${user.userPrincipalName}\n${user.displayName}`.toLowerCase().includes(text)).length;
    /** A search, and how many turns other work had while it ran. */
    async function search(limit: number, meanwhile: () => Promise<unknown> = async () => undefined) {
      let done = false;
      const searching = store.listUsers(tenant.id, { text, limit }).then((page) => {
        done = true;
        return page;
      });
      const other = meanwhile();
      let turns = 0;
      while (!done) {
        await nextTurn();
        if (!done) turns++;
      }
      await other;
      return { page: await searching, turns };
    }

    // Before any users page has put the tenant in order (as after a load); locked once the search has
    // started, one user in the slice it has looked at and one in a slice still to come.
    const first = await search(20, () => Promise.all(['u1', 'u19999'].map((id) => store.recordUserLocked(tenant.id, id, { by: 'alice', revokedSessions: false }))));
    assert.ok(first.turns >= 2, `other work ran in ${first.turns} turns during the search`);
    assert.equal(first.page.total, expected);
    assert.equal(first.page.users.length, 20);
    assert.ok(first.page.users.every((user) => user.userPrincipalName.includes(text)));
    assert.deepEqual(first.page.users.slice(0, 2).map((user) => [user.id, user.lock?.by]), [['u1', 'alice'], ['u19999', 'alice']], 'locked first, as they are when it ends');

    // With the page order kept (a users page made it), the same a slice per turn.
    await store.listUsers(tenant.id, { limit: 1 });
    const second = await search(2);
    assert.ok(second.turns >= 2, `other work ran in ${second.turns} turns during the search`);
    assert.equal(second.page.total, expected);
    assert.deepEqual(second.page.users.map((user) => user.id), ['u1', 'u19999']);
  });
});
