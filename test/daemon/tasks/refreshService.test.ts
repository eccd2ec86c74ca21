import assert from 'node:assert/strict';
import { loadConfig } from '../../../daemon/config';
import type { AppError } from '../../../daemon/errors/AppError';
import { TenantStatusService } from '../../../daemon/services/tenantStatusService';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import type { StoredTenant } from '../../../daemon/store/storeTypes';
import type { RefreshResult } from '../../../daemon/tasks/refreshService';
import { REFRESH_ACTIVITY_NAME, RefreshService } from '../../../daemon/tasks/refreshService';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

type Previous = 'PENDING' | 'IN_PROGRESS' | 'COMPLETE' | 'ERROR' | 'ONE_COMPLETE_ONE_ERROR';

describe('tasks: refresh', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let store: LowdbStore;
  let refresher: RefreshService;
  let tenant: StoredTenant;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
    clock = new ManualClock();
    store = await LowdbStore.open({ dataDir: dir, clock });
    refresher = new RefreshService({ store, clock, dedupWindowMs: 6 * HOUR, status: new TenantStatusService(store, loadConfig({ env: {} }), clock) });
    tenant = await store.addTenant({ tenantIdOrDomain: 'contoso.example', appId: 'app-1', credentialKind: 'secret', by: 'alice' });
  });

  afterEach(async () => {
    await store.close();
    await cleanup();
  });

  async function refreshTasks() {
    return store.listTasks({ includeAutomated: true, tenantId: tenant.id });
  }

  async function refreshActivities() {
    return (await store.listActivities({ tenantId: tenant.id })).filter((a) => a.kind === 'refresh');
  }

  async function previousRefresh(state: Previous): Promise<string[]> {
    const first = await refresher.refresh(tenant.id, 'alice');
    assert.equal(first.outcome, 'queued');
    const [cache, check] = first.tasks;
    assert.ok(cache && check);
    if (state === 'PENDING') return [cache.id, check.id];
    await store.startTask(cache.id);
    if (state === 'IN_PROGRESS') return [cache.id, check.id];
    if (state === 'ERROR') {
      await store.failTask(cache.id, { code: 'GRAPH_UNAVAILABLE', message: 'Graph answered 503.' });
      return [cache.id, check.id];
    }
    await store.completeTask(cache.id);
    await store.startTask(check.id);
    if (state === 'ONE_COMPLETE_ONE_ERROR') await store.failTask(check.id, { code: 'AADSTS7000215', message: 'Invalid client secret.' });
    else await store.completeTask(check.id);
    return [cache.id, check.id];
  }

  const cases: Array<{ previous: Previous | null; after: number; queues: boolean; why: string }> = [
    { previous: null, after: 0, queues: true, why: 'there is no previous refresh' },
    { previous: 'PENDING', after: 1 * HOUR, queues: false, why: 'the previous refresh is PENDING inside the window' },
    { previous: 'IN_PROGRESS', after: 1 * HOUR, queues: false, why: 'the previous refresh is IN_PROGRESS inside the window' },
    { previous: 'COMPLETE', after: 1 * MIN, queues: false, why: 'the previous refresh is COMPLETE inside the window' },
    { previous: 'COMPLETE', after: 6 * HOUR - 1, queues: false, why: 'the previous refresh is COMPLETE 1 ms before the window ends' },
    { previous: 'COMPLETE', after: 6 * HOUR, queues: true, why: 'the previous COMPLETE refresh was queued 6 h ago (outside the window)' },
    { previous: 'COMPLETE', after: 7 * HOUR, queues: true, why: 'the previous COMPLETE refresh is outside the window' },
    { previous: 'PENDING', after: 7 * HOUR, queues: true, why: 'even a PENDING refresh stops blocking once outside the window' },
    { previous: 'ERROR', after: 1 * MIN, queues: true, why: 'the previous refresh is in ERROR inside the window' },
    { previous: 'ONE_COMPLETE_ONE_ERROR', after: 1 * MIN, queues: true, why: 'one task of the previous refresh ended in ERROR' },
  ];

  for (const { previous, after, queues, why } of cases) {
    it(`${queues ? 'queues both tasks' : 'queues nothing and names the earlier task'} when ${why}`, async () => {
      const earlierIds = previous ? await previousRefresh(previous) : [];
      clock.advance(after);
      const result: RefreshResult = await refresher.refresh(tenant.id, 'bob');

      assert.equal(result.activity.name, REFRESH_ACTIVITY_NAME);
      assert.equal(result.activity.actor, 'bob');
      assert.equal(result.activity.at, clock.now());
      assert.equal((await refreshActivities()).length, previous ? 2 : 1, 'every refresh records its activity');

      if (queues) {
        assert.equal(result.outcome, 'queued');
        assert.ok(result.outcome === 'queued');
        assert.deepEqual(result.tasks.map((t) => [t.name, t.status, t.origin]), [
          ['Update AD cache', 'PENDING', 'refresh'],
          ['Check account status', 'PENDING', 'refresh'],
        ]);
        assert.deepEqual(result.activity.taskIds, result.tasks.map((t) => t.id));
        assert.equal((await refreshTasks()).length, earlierIds.length + 2);
      } else {
        assert.equal(result.outcome, 'already-requested');
        assert.ok(result.outcome === 'already-requested');
        assert.ok(earlierIds.includes(result.earlierTask.id));
        assert.equal(result.activity.blockedByTaskId, result.earlierTask.id);
        assert.deepEqual(result.activity.taskIds, []);
        assert.match(result.activity.description, new RegExp(`task ${result.earlierTask.id}`));
        assert.match(result.activity.description, /No new task was added/);
        assert.equal((await refreshTasks()).length, 2, 'no task was added');
      }
    });
  }

  it('names the task that is running when the earlier refresh is half done', async () => {
    const [cache] = await previousRefresh('IN_PROGRESS');
    const result = await refresher.refresh(tenant.id, 'bob');
    assert.ok(result.outcome === 'already-requested');
    assert.equal(result.earlierTask.id, cache);
    assert.match(result.activity.description, /already running \(IN_PROGRESS\): "Update AD cache"/);
  });

  it('queues exactly one pair for 50 simultaneous refreshes of one tenant, and records 50 activities', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => refresher.refresh(tenant.id, `operator-${i}`)));
    const queued = results.filter((r) => r.outcome === 'queued');
    assert.equal(queued.length, 1);
    assert.equal((await refreshTasks()).length, 2);
    assert.equal((await refreshActivities()).length, 50);
    const pair = new Set(queued[0]?.outcome === 'queued' ? queued[0].tasks.map((t) => t.id) : []);
    for (const result of results) {
      if (result.outcome === 'already-requested') assert.ok(pair.has(result.earlierTask.id));
    }
    // The same holds on disk, not only in memory.
    await store.close();
    store = await LowdbStore.open({ dataDir: dir, clock });
    assert.equal((await refreshTasks()).length, 2);
    assert.equal((await refreshActivities()).length, 50);
  });

  it('keeps refreshes of different tenants independent', async () => {
    const other = await store.addTenant({ tenantIdOrDomain: 'fabrikam.example', appId: 'app-2', credentialKind: 'secret', by: 'alice' });
    const [a, b] = await Promise.all([refresher.refresh(tenant.id, 'alice'), refresher.refresh(other.id, 'alice')]);
    assert.deepEqual([a.outcome, b.outcome], ['queued', 'queued']);
  });

  it('makes a DORMANT tenant ACTIVE again, since a refresh is management activity', async () => {
    clock.advance(31 * DAY);
    await store.recordSyncSuccess(tenant.id);
    await store.recordTenantStatus(tenant.id, 'DORMANT', 'no management activity for 31 days');
    await refresher.refresh(tenant.id, 'alice');
    const after = await store.requireTenant(tenant.id);
    assert.equal(after.status, 'ACTIVE');
    assert.equal(after.lastManagementActivityAt, clock.now());
    assert.match((await store.listActivities({ tenantId: tenant.id }))[0]?.description ?? '', /DORMANT → ACTIVE/);
  });

  it('hides the refresh tasks from listings unless automated tasks are asked for', async () => {
    await refresher.refresh(tenant.id, 'alice');
    assert.deepEqual(await store.listTasks({ tenantId: tenant.id }), []);
    assert.equal((await store.listTasks({ tenantId: tenant.id, includeAutomated: true })).length, 2);
  });

  it('answers 404 for an unknown tenant and records nothing', async () => {
    const before = (await store.listActivities()).length;
    await assert.rejects(refresher.refresh('no-such-tenant', 'alice'), (error: AppError) => error.status === 404);
    assert.equal((await store.listActivities()).length, before);
  });
});
