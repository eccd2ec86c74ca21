import assert from 'node:assert/strict';
import { ActivityTimeline } from '../../../daemon/services/activityTimeline';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import type { Store } from '../../../daemon/store/store';
import type { StoredTenant } from '../../../daemon/store/storeTypes';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';

describe('services: activity timeline', () => {
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let store: Store;
  let timeline: ActivityTimeline;
  let tenant: StoredTenant;

  beforeEach(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDataDir());
    clock = new ManualClock();
    store = await LowdbStore.open({ dataDir: dir, clock });
    timeline = new ActivityTimeline(store);
    tenant = await store.addTenant({ tenantIdOrDomain: 'contoso.example', appId: 'app-1', credentialKind: 'secret', by: 'alice' });
  });

  afterEach(async () => {
    await store.close();
    await cleanup();
  });

  async function refreshWithTasks(at: number) {
    clock.set(at);
    return store.recordActivity(
      { tenantId: tenant.id, kind: 'refresh', name: 'Updating account status', description: 'queued', actor: 'alice', management: true },
      [{ tenantId: tenant.id, kind: 'update-ad-cache', name: 'Update AD cache', description: 'by alice', origin: 'refresh', automated: true }],
    );
  }

  async function pollerTask(at: number) {
    clock.set(at);
    return store.beginTask({ tenantId: tenant.id, kind: 'sync-users', name: 'Sync users', description: 'scheduled', origin: 'poller', automated: true });
  }

  it('lists activities and the tasks not shown under one, newest first', async () => {
    const start = clock.now();
    const refresh = await refreshWithTasks(start + 1_000);
    const poll = await pollerTask(start + 2_000);
    const entries = await timeline.list({ tenantId: tenant.id, includeAutomated: true });
    const shown = entries.map((entry) => (entry.type === 'activity' ? `activity ${entry.activity.id}` : `task ${entry.task.id}`));
    assert.ok(shown.indexOf(`task ${poll.id}`) < shown.indexOf(`activity ${refresh.activity.id}`), JSON.stringify(shown));
    assert.ok(!shown.includes(`task ${refresh.tasks[0]?.id}`), 'a refresh task shows under its activity only');
    assert.deepEqual(entries.map((entry) => entry.at), [...entries.map((entry) => entry.at)].sort((a, b) => b - a));
  });

  it("leaves out the poller's tasks unless asked for them", async () => {
    const poll = await pollerTask(clock.now() + 1_000);
    const plain = await timeline.list({ tenantId: tenant.id, includeAutomated: false });
    assert.ok(plain.every((entry) => entry.type === 'activity'), JSON.stringify(plain.map((entry) => entry.type)));
    const all = await timeline.list({ tenantId: tenant.id, includeAutomated: true });
    assert.ok(all.some((entry) => entry.type === 'task' && entry.task.id === poll.id));
  });

  it('keeps only the newest entries up to the limit', async () => {
    const start = clock.now();
    for (let i = 1; i <= 4; i++) await refreshWithTasks(start + i * 1_000);
    for (let i = 5; i <= 7; i++) await pollerTask(start + i * 1_000);
    const entries = await timeline.list({ tenantId: tenant.id, includeAutomated: true, limit: 3 });
    assert.equal(entries.length, 3);
    assert.deepEqual(entries.map((entry) => entry.type), ['task', 'task', 'task']);
    assert.deepEqual(entries.map((entry) => entry.at), [start + 7_000, start + 6_000, start + 5_000]);
  });
});
