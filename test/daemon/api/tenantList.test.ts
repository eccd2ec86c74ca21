import assert from 'node:assert/strict';
import type { TenantView } from '../../../protocol/daemonApi';
import { ApiViews } from '../../../daemon/api/apiViews';
import { loadConfig } from '../../../daemon/config';
import { TenantQueries } from '../../../daemon/services/tenantQueries';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import type { Store } from '../../../daemon/store/store';
import type { StoredTenant } from '../../../daemon/store/storeTypes';
import { observed } from '../store/storeContract';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';

/** Calls to the real file store, by name. */
function counting(store: LowdbStore, calls: Map<PropertyKey, number>): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('api: the tenant list as GET /v1/tenants answers it (the real file store)', function () {
  let store: LowdbStore;
  let cleanup: () => Promise<void>;
  const calls = new Map<PropertyKey, number>();
  let queries: TenantQueries;
  let views: ApiViews;
  const clock = new ManualClock();

  before(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDataDir('m365-tenant-list'));
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 24 * 60 * 60_000 });
    for (let i = 0; i < 25; i++) {
      // Names outside ASCII too: the kept views are UTF-8 bytes, joined without being decoded.
      const displayName = i % 5 === 0 ? `Zürich Äpfel ${i} 株式会社` : undefined;
      await store.addTenant({ tenantIdOrDomain: `tenant${i}.example`, appId: '00000000-0000-0000-0000-000000000001', credentialKind: 'secret', by: 'alice', ...(displayName ? { displayName } : {}) });
    }
    const counted = counting(store, calls);
    queries = new TenantQueries(counted);
    views = new ApiViews(counted, loadConfig({ env: {} }), () => clock.now());
  });

  after(async () => {
    await store.close();
    await cleanup();
  });

  it('shows every tenant with its counts, copying no tenant and counting each tenant\'s users once', async () => {
    calls.clear();
    const listed = (JSON.parse((await views.tenantsJson(await queries.list())).toString('utf8')) as { tenants: TenantView[] }).tenants;

    assert.deepEqual(listed.map((view) => view.tenant), (await store.listTenants()).map((tenant) => tenant.tenantIdOrDomain));
    for (const view of listed) assert.deepEqual(view.counts, await store.countUsers(view.id));
    assert.equal(calls.get('countUsers'), 25);
    const copies = ['getTenant', 'requireTenant', 'listTenants'].map((name) => calls.get(name) ?? 0);
    assert.deepEqual(copies, [0, 0, 0], 'getTenant, requireTenant and listTenants calls: each answers a copy of a tenant');
  });

  it('answers GET /v1/tenants as the same JSON text as serializing every view, after each kind of change', async () => {
    const tenants = await store.listTenants();
    const [synced, attempted, failing, checked, populated] = tenants.map((tenant) => tenant.id) as [string, string, string, string, string];
    // Every view made afresh, as GET /v1/tenants/:id makes one, and serialized.
    const serialized = async (list: ReadonlyArray<Readonly<StoredTenant>>): Promise<string> => JSON.stringify({ tenants: await Promise.all(list.map((tenant) => views.tenant(tenant))) });
    const same = async (what: string): Promise<void> => {
      const text = (await views.tenantsJson(await queries.list())).toString('utf8');
      assert.equal(text, await serialized(await queries.list()), what);
      const some = (await queries.list()).slice(0, 3);
      const textOfSome = (await views.tenantsJson(some)).toString('utf8');
      assert.equal(textOfSome, await serialized(some), `${what}, a list of some tenants`);
    };
    await same('as registered');
    await store.recordSyncSuccess(synced);
    await same('after a sync');
    clock.advance(1000);
    await store.recordSyncAttempt(attempted);
    await same('after a sync attempt');
    await store.recordSyncFailure(failing, { category: 'credentials', code: 'invalid_client', message: 'The secret is wrong.' });
    await same('after a failure');
    clock.advance(1000);
    await store.recordSyncFailure(failing, { category: 'credentials', code: 'invalid_client', message: 'The secret is wrong.' });
    await same('after the same failure again');
    await store.recordCredentialHealth(checked, { checkedAt: clock.now(), canGetToken: true, failure: null, grantedRoles: ['User.Read.All'], missingRoles: [], missingOptionalRoles: [], credentialExpiresAt: null });
    await same('after a credential-health check');
    await store.applyUserChanges(populated, { observedAt: clock.now(), users: [observed('u1'), observed('u2')], deltaLink: 'https://graph/delta?token=1', fullRound: true });
    await same('after users arrived');
    await store.recordUserLocked(populated, 'u1', { by: 'alice', revokedSessions: false });
    await same('after a lock');
    clock.advance(10 * 60_000);
    await same('once time alone made them STALE');
    clock.advance(60_000);
    await same('a minute later, when the reason names a longer time');
    await store.removeTenant(synced, 'alice');
    await same('after a tenant was removed');
  });

  it('serializes a tenant\'s view again only when something it shows changed', async () => {
    const made = () => views.tenantViewJson.madeCount;
    const list = async () => views.tenantsJson(await queries.list());
    const [first, second] = (await store.listTenants()).map((tenant) => tenant.id) as [string, string];
    const unchanged = await list();
    const before = made();
    await list();
    assert.equal(await list(), unchanged, 'the same answer, not joined again, when nothing changed');
    assert.equal(made() - before, 0, 'views serialized when nothing changed');

    await store.recordSyncSuccess(first);
    const synced = await list();
    assert.notEqual(synced, unchanged, 'a new answer once a tenant changed');
    assert.equal(made() - before, 1, 'views serialized after one tenant synced');

    await store.applyUserChanges(second, { observedAt: clock.now(), users: [observed('u9')], deltaLink: 'https://graph/delta?token=2' });
    await list();
    assert.equal(made() - before, 2, 'views serialized after another tenant\'s users changed');

    const tenantCount = (await store.listTenants()).length;
    clock.advance(30 * 24 * 60 * 60_000);
    await list();
    assert.equal(made() - before, 2 + tenantCount, 'views serialized once time alone changed every status');
  });
});
