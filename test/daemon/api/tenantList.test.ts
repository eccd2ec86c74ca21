import assert from 'node:assert/strict';
import { ApiViews } from '../../../daemon/api/apiViews';
import { loadConfig } from '../../../daemon/config';
import { TenantQueries } from '../../../daemon/services/tenantQueries';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import type { Store } from '../../../daemon/store/store';
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
      await store.addTenant({ tenantIdOrDomain: `tenant${i}.example`, appId: '00000000-0000-0000-0000-000000000001', credentialKind: 'secret', by: 'alice' });
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
    const listed = await views.tenants(await queries.list());

    assert.deepEqual(listed.map((view) => view.tenant), (await store.listTenants()).map((tenant) => tenant.tenantIdOrDomain));
    for (const view of listed) assert.deepEqual(view.counts, await store.countUsers(view.id));
    assert.equal(calls.get('countUsers'), 25);
    const copies = ['getTenant', 'requireTenant', 'listTenants'].map((name) => calls.get(name) ?? 0);
    assert.deepEqual(copies, [0, 0, 0], 'getTenant, requireTenant and listTenants calls: each answers a copy of a tenant');
  });
});
