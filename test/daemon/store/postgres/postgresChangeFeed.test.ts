import assert from 'node:assert/strict';
import pg from 'pg';
import { createLogger } from '../../../../daemon/logging/logger';
import { PostgresStore } from '../../../../daemon/store/postgres/postgresStore';
import { openSharedDatabase, type SharedDatabase } from '../../../../daemon/store/postgres/sharedDatabase';
import type { StoreEvent } from '../../../../daemon/store/storeTypes';
import { startPostgres, type PostgresServer } from '../../../support/postgresServer';
import { observed } from '../storeContract';

const logger = createLogger({ write: () => undefined });

/** Resolves with the first event `match` accepts, or rejects after `timeoutMs`. */
function nextEvent<T extends StoreEvent>(store: PostgresStore, match: (event: StoreEvent) => event is T, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching event within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = store.onDidChange((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

describe('PostgresStore: changes reach every daemon on the database', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let databases: SharedDatabase[];
  let a: PostgresStore;
  let b: PostgresStore;
  let url: string;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    url = await server.createDatabase();
    databases = [await openSharedDatabase(url, { logger }), await openSharedDatabase(url, { logger })];
    a = await PostgresStore.open({ pool: (databases[0] as SharedDatabase).pool, logger });
    b = await PostgresStore.open({ pool: (databases[1] as SharedDatabase).pool, logger });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    for (const database of databases) await database.close();
  });

  async function tenantWithUsers(count: number) {
    const tenant = await a.addTenant({ tenantIdOrDomain: 'contoso.example', appId: 'app-1', credentialKind: 'secret', by: 'alice' });
    await a.applyUserChanges(tenant.id, { observedAt: Date.now(), users: Array.from({ length: count }, (_, i) => observed(`u${i}`)), deltaLink: null });
    return tenant;
  }

  it('delivers a lock recorded by one store to another store’s listeners within a second', async () => {
    const tenant = await tenantWithUsers(3);
    const userEvent = nextEvent(b, (e): e is Extract<StoreEvent, { type: 'users' }> => e.type === 'users' && (e.users ?? []).some((u) => u.id === 'u1' && u.lock !== null), 1_000);
    const activityEvent = nextEvent(b, (e): e is Extract<StoreEvent, { type: 'activity' }> => e.type === 'activity' && e.activity.kind === 'lock', 1_000);
    const started = Date.now();
    const { activity } = await a.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false });
    const users = await userEvent;
    assert.deepEqual(users.users?.map((u) => [u.id, u.accountEnabled, u.lock?.by]), [['u1', false, 'alice']]);
    assert.equal((await activityEvent).activity.id, activity.id);
    assert.ok(Date.now() - started < 1_000);
  });

  it('tells its own listeners of its own changes once, not again through the database', async () => {
    const seen: string[] = [];
    a.onDidChange((event) => seen.push(event.type));
    const tenant = await a.addTenant({ tenantIdOrDomain: 'contoso.example', appId: 'app-1', credentialKind: 'secret', by: 'alice' });
    // B hearing the removal means the database delivered everything before it to A too.
    const removed = nextEvent(b, (e): e is Extract<StoreEvent, { type: 'tenant-removed' }> => e.type === 'tenant-removed', 2_000);
    await a.removeTenant(tenant.id, 'alice');
    await removed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen, ['tenant', 'activity', 'tenant-removed', 'activity']);
  });

  it('sends a change too large for one notification as references, which the other store reads back', async () => {
    const tenant = await a.addTenant({ tenantIdOrDomain: 'contoso.example', appId: 'app-1', credentialKind: 'secret', by: 'alice' });
    const heard = new Map<string, boolean>();
    b.onDidChange((event) => {
      if (event.type === 'users') for (const user of event.users ?? []) heard.set(user.id, user.accountEnabled);
    });
    const users = Array.from({ length: 2_000 }, (_, i) => observed(`a-rather-long-user-id-${i}-0000-0000-000000000000`, { accountEnabled: i % 2 === 0 }));
    await a.applyUserChanges(tenant.id, { observedAt: Date.now(), users, deltaLink: null });
    const until = Date.now() + 5_000;
    while (heard.size < users.length && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(heard.size, users.length, 'every user reached the other store');
    assert.ok(users.every((u) => heard.get(u.id) === u.accountEnabled), 'as they are in the database');
  });

  it('listens again after its connection is dropped', async () => {
    const tenant = await tenantWithUsers(2);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'");
      assert.equal(rowCount, 2, 'both stores were listening');
    } finally {
      await admin.end();
    }
    const until = Date.now() + 10_000;
    for (;;) {
      const heard = nextEvent(b, (e): e is Extract<StoreEvent, { type: 'users' }> => e.type === 'users', 500).then(() => true, () => false);
      await a.recordUserLocked(tenant.id, 'u0', { by: 'alice', revokedSessions: false });
      if (await heard) break;
      assert.ok(Date.now() < until, 'the other store heard changes again within 10 s');
      await a.recordUserUnlocked(tenant.id, 'u0', 'alice');
    }
  });
});
