import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppError } from '../../../daemon/errors/AppError';
import type { ObservedUser } from '../../../daemon/store/store';
import { MAIN_FILE_NAME, Store, SYSTEM_LOG_FILE_NAME, USERS_DIR_NAME } from '../../../daemon/store/store';
import { STORE_SCHEMA_VERSION } from '../../../daemon/store/storeSchema';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';

function observed(id: string, change: Partial<ObservedUser> = {}): ObservedUser {
  return {
    id,
    userPrincipalName: `${id}@contoso.example`,
    displayName: `User ${id}`,
    accountEnabled: true,
    onPremisesSyncEnabled: null,
    ...change,
  };
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

describe('store', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let store: Store;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
    clock = new ManualClock();
    store = await Store.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000 });
  });

  afterEach(async () => {
    await store.close();
    await cleanup();
  });

  async function reopen(): Promise<Store> {
    await store.close();
    store = await Store.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000 });
    return store;
  }

  async function addTenant(name = 'contoso.example') {
    return store.addTenant({ tenantIdOrDomain: name, appId: 'app-1', credentialKind: 'secret', by: 'alice' });
  }

  it('keeps tenants, users, tasks and activities across a restart, from real files', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1'), observed('u2')], deltaLink: 'https://graph/delta?token=1', fullRound: true });
    const task = await store.queueTask({ tenantId: tenant.id, kind: 'update-ad-cache', name: 'Update AD cache', description: '', origin: 'operator', automated: false });

    await reopen();
    assert.equal(store.getTenant(tenant.id)?.tenantIdOrDomain, 'contoso.example');
    assert.deepEqual(store.listUsers(tenant.id).users.map((u) => u.id), ['u1', 'u2']);
    assert.equal(store.getDeltaLink(tenant.id), 'https://graph/delta?token=1');
    assert.equal(store.getTask(task.id)?.status, 'PENDING');
    assert.equal(store.listActivities({ tenantId: tenant.id })[0]?.kind, 'tenant-added');
    assert.deepEqual(await readdir(join(dir, USERS_DIR_NAME)), [`${tenant.id}.json`]);
  });

  it('refuses to register the same tenant twice', async () => {
    await addTenant();
    await assert.rejects(addTenant('CONTOSO.example'), (error: AppError) => error.status === 409 && error.code === 'TENANT_EXISTS');
  });

  it('refuses a store written by a newer schema with a clear message, and leaves the file as it was', async () => {
    await addTenant();
    await store.close();
    const path = join(dir, MAIN_FILE_NAME);
    const data = await readJson<Record<string, unknown>>(path);
    const newer = JSON.stringify({ ...data, schemaVersion: STORE_SCHEMA_VERSION + 1 });
    await writeFile(path, newer);
    await assert.rejects(Store.open({ dataDir: dir, clock }), (error: AppError) => {
      assert.equal(error.code, 'STORE_SCHEMA_TOO_NEW');
      assert.match(error.message, /written by a newer m365-status \(store schema 2; this one understands up to 1\)/);
      return true;
    });
    assert.equal(await readFile(path, 'utf8'), newer);
    // The refused start released the lock: an older file put back opens fine.
    await writeFile(path, JSON.stringify(data));
    store = await Store.open({ dataDir: dir, clock });
  });

  it('refuses a store file whose shape is wrong, naming the field', async () => {
    await addTenant();
    await store.close();
    const path = join(dir, MAIN_FILE_NAME);
    const data = await readJson<{ tenants: Array<Record<string, unknown>> }>(path);
    const first = data.tenants[0];
    assert.ok(first);
    first['credentialKind'] = 'password';
    await writeFile(path, JSON.stringify(data));
    await assert.rejects(Store.open({ dataDir: dir, clock }), /store\.json does not have the expected shape at "tenants\.0\.credentialKind"/);
    first['credentialKind'] = 'secret';
    await writeFile(path, JSON.stringify(data));
    store = await Store.open({ dataDir: dir, clock });
  });

  it('writes every file 0600 and the data directory 0700 even under a permissive umask', async () => {
    await store.close();
    const umask = process.umask(0o000);
    try {
      const fresh = join(dir, 'fresh');
      store = await Store.open({ dataDir: fresh, clock });
      const tenant = await addTenant();
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
      await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: true });
      await store.appendSystemLog({ level: 'info', message: 'hello' });
      const files = [MAIN_FILE_NAME, SYSTEM_LOG_FILE_NAME, 'daemon.lock', join(USERS_DIR_NAME, `${tenant.id}.json`)];
      for (const file of files) {
        assert.equal(((await stat(join(fresh, file))).mode & 0o777).toString(8), '600', file);
      }
      assert.equal(((await stat(fresh)).mode & 0o777).toString(8), '700');
    } finally {
      process.umask(umask);
    }
  });

  it('answers a lock only once the users file on disk says so', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
    clock.advance(1_000);
    const { user, activity } = await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: true });
    assert.equal(user.accountEnabled, false);
    const onDisk = await readJson<{ users: Record<string, { accountEnabled: boolean; lock: unknown }> }>(join(dir, USERS_DIR_NAME, `${tenant.id}.json`));
    assert.deepEqual(onDisk.users['u1']?.lock, { by: 'alice', at: clock.now(), revokedSessions: true });
    assert.equal(onDisk.users['u1']?.accountEnabled, false);
    const main = await readJson<{ activities: Array<{ id: string }> }>(join(dir, MAIN_FILE_NAME));
    assert.ok(main.activities.some((a) => a.id === activity.id), 'the activity is on disk too');
    assert.equal(store.getTenant(tenant.id)?.lastManagementActivityAt, clock.now());
  });

  it('rewrites only the changed tenant’s users file when one user changes', async () => {
    const a = await addTenant('a.example');
    const b = await addTenant('b.example');
    await store.applyUserChanges(a.id, { observedAt: clock.now(), users: [observed('a1')], deltaLink: 'a-1' });
    await store.applyUserChanges(b.id, { observedAt: clock.now(), users: [observed('b1')], deltaLink: 'b-1' });
    const bPath = join(dir, USERS_DIR_NAME, `${b.id}.json`);
    const mainPath = join(dir, MAIN_FILE_NAME);
    const before = { b: (await stat(bPath)).ino, main: (await stat(mainPath)).ino };

    clock.advance(60_000);
    const summary = await store.applyUserChanges(a.id, { observedAt: clock.now(), users: [observed('a1', { accountEnabled: false })], deltaLink: 'a-2' });
    assert.equal(summary.written, true);
    assert.equal(summary.changed.length, 1);
    assert.equal((await stat(bPath)).ino, before.b, "the other tenant's users file was rewritten");
    assert.equal((await stat(mainPath)).ino, before.main, 'the main file was rewritten');
  });

  it('writes nothing for a sync that changed nothing, and saves its bookkeeping at the next checkpoint', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-1' });
    await store.recordSyncSuccess(tenant.id);
    await store.checkpoint();
    const usersPath = join(dir, USERS_DIR_NAME, `${tenant.id}.json`);
    const mainPath = join(dir, MAIN_FILE_NAME);
    const before = { users: (await stat(usersPath)).ino, main: (await stat(mainPath)).ino };

    clock.advance(30_000);
    store.recordSyncAttempt(tenant.id);
    const summary = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-2' });
    await store.recordSyncSuccess(tenant.id);
    await store.queueTask({ tenantId: tenant.id, kind: 'sync-users', name: 'Sync users', description: '', origin: 'poller', automated: true });
    assert.equal(summary.written, false);
    assert.equal((await stat(usersPath)).ino, before.users);
    assert.equal((await stat(mainPath)).ino, before.main);
    assert.equal(store.getTenant(tenant.id)?.lastSyncAt, clock.now(), 'memory is current at once');
    assert.equal(store.getDeltaLink(tenant.id), 'd-2');

    await clock.advanceAsync(60_000);
    assert.equal(clock.pendingTimers, 0, 'the checkpoint timer fired');
    await store.checkpoint(); // only waits for the write the timer started
    assert.equal((await readJson<{ deltaLink: string }>(usersPath)).deltaLink, 'd-2');
    const main = await readJson<{ tenants: Array<{ lastSyncAt: number }> }>(mainPath);
    assert.equal(main.tenants[0]?.lastSyncAt, clock.now() - 60_000);
  });

  it('writes pending bookkeeping when it closes', async () => {
    const tenant = await addTenant();
    clock.advance(5_000);
    await store.recordSyncSuccess(tenant.id);
    await reopen();
    assert.equal(store.getTenant(tenant.id)?.lastSyncAt, clock.now());
  });

  it('clears the product’s lock when the user is found enabled, and reports it', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
    clock.advance(1_000);
    await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false });
    clock.advance(60_000);
    const summary = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1', { accountEnabled: true })], deltaLink: null });
    assert.deepEqual(summary.locksCleared.map((u) => u.id), ['u1']);
    const user = store.getUser(tenant.id, 'u1');
    assert.equal(user?.accountEnabled, true);
    assert.equal(user?.lock, null);
    assert.equal(user?.lastChangedAt, clock.now());
  });

  it('does not let a Graph round that started before a lock undo the lock', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
    clock.advance(1_000);
    const roundStarted = clock.now();
    clock.advance(500);
    await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false });
    clock.advance(500);
    const summary = await store.applyUserChanges(tenant.id, {
      observedAt: roundStarted,
      users: [observed('u1', { accountEnabled: true, displayName: 'Renamed' })],
      deltaLink: null,
    });
    assert.deepEqual(summary.locksCleared, []);
    const user = store.getUser(tenant.id, 'u1');
    assert.equal(user?.accountEnabled, false);
    assert.equal(user?.lock?.by, 'alice');
    assert.equal(user?.displayName, 'Renamed', 'the rest of what the round saw is still applied');
  });

  it('removes users Graph reports @removed, and on a full round every user it no longer lists', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: ['u1', 'u2', 'u3'].map((id) => observed(id)), deltaLink: null });
    const removed = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], removedUserIds: ['u2'], deltaLink: null });
    assert.deepEqual(removed.removed.map((u) => u.id), ['u2']);
    const full = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd', fullRound: true });
    assert.deepEqual(full.removed.map((u) => u.id), ['u3']);
    assert.deepEqual(store.listUsers(tenant.id).users.map((u) => u.id), ['u1']);
  });

  it('lists locked users first, then disabled, then the rest; filters, searches, pages, and counts a later sync as verification', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, {
      observedAt: clock.now(),
      users: [
        observed('u1', { displayName: 'Ada Lovelace' }),
        observed('u2', { displayName: 'Alan Turing', accountEnabled: false }),
        observed('u3', { displayName: 'Grace Hopper' }),
      ],
      deltaLink: null,
    });
    await store.recordUserLocked(tenant.id, 'u3', { by: 'alice', revokedSessions: false });
    assert.deepEqual(store.listUsers(tenant.id, { state: 'locked' }).users.map((u) => u.id), ['u3']);
    assert.deepEqual(store.listUsers(tenant.id).users.map((u) => u.id), ['u3', 'u2', 'u1']);
    assert.deepEqual(store.listUsers(tenant.id, { state: 'disabled' }).users.map((u) => u.id), ['u2'], 'a locked user is "locked", not "disabled"');
    assert.deepEqual(store.listUsers(tenant.id, { state: 'enabled' }).users.map((u) => u.id), ['u1']);
    assert.deepEqual(store.listUsers(tenant.id, { text: 'TURING' }).users.map((u) => u.id), ['u2']);
    const page = store.listUsers(tenant.id, { offset: 1, limit: 1 });
    assert.deepEqual([page.users.map((u) => u.id), page.total], [['u2'], 3]);
    assert.deepEqual(store.countUsers(tenant.id), { total: 3, enabled: 1, disabled: 1, locked: 1 });

    clock.advance(120_000);
    await store.recordSyncSuccess(tenant.id);
    assert.equal(store.getUser(tenant.id, 'u1')?.lastVerifiedAt, clock.now());
  });

  it('removes a tenant with its users file, failing its pending tasks and keeping its history', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
    const task = await store.queueTask({ tenantId: tenant.id, kind: 'update-ad-cache', name: 'Update AD cache', description: '', origin: 'operator', automated: false });
    await store.removeTenant(tenant.id, 'alice');
    assert.equal(store.getTenant(tenant.id), undefined);
    assert.deepEqual(await readdir(join(dir, USERS_DIR_NAME)), []);
    assert.equal(store.getTask(task.id)?.error?.code, 'TENANT_REMOVED');
    assert.equal(store.listActivities({ tenantId: tenant.id })[0]?.kind, 'tenant-removed');
    await assert.rejects(store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], deltaLink: null }), /No tenant with id/);
  });

  it('drops an orphaned users file and leftover temp files when it opens', async () => {
    const tenant = await addTenant();
    await store.close();
    await writeFile(join(dir, USERS_DIR_NAME, 'gone.json'), '{}');
    await writeFile(join(dir, `.${MAIN_FILE_NAME}.tmp`), '{"half');
    store = await Store.open({ dataDir: dir, clock });
    assert.deepEqual(await readdir(join(dir, USERS_DIR_NAME)), []);
    assert.ok(!(await readdir(dir)).some((name) => name.endsWith('.tmp')));
    assert.ok(store.getTenant(tenant.id));
  });

  it('records a status change once, with an activity, and nothing when the status is the same', async () => {
    const tenant = await addTenant();
    const changed = await store.recordTenantStatus(tenant.id, 'STALE', 'no successful sync for 4 min');
    assert.match(changed?.description ?? '', /ACTIVE → STALE: no successful sync/);
    assert.equal(changed?.management, false);
    assert.equal(await store.recordTenantStatus(tenant.id, 'STALE', 'still'), undefined);
    assert.equal(store.listActivities({ tenantId: tenant.id }).filter((a) => a.kind === 'status-change').length, 1);
  });

  it('writes a new sync failure at once and a repeat of it only as bookkeeping', async () => {
    const tenant = await addTenant();
    const mainPath = join(dir, MAIN_FILE_NAME);
    await store.recordSyncFailure(tenant.id, { category: 'credentials', code: 'AADSTS7000215', message: 'Invalid client secret.' });
    assert.equal((await readJson<{ tenants: Array<{ lastError: { code: string } | null }> }>(mainPath)).tenants[0]?.lastError?.code, 'AADSTS7000215');
    const ino = (await stat(mainPath)).ino;
    clock.advance(60_000);
    await store.recordSyncFailure(tenant.id, { category: 'credentials', code: 'AADSTS7000215', message: 'Invalid client secret.' });
    assert.equal((await stat(mainPath)).ino, ino);
    assert.equal(store.getTenant(tenant.id)?.lastError?.at, clock.now());
    await store.recordSyncSuccess(tenant.id);
    assert.equal((await readJson<{ tenants: Array<{ lastError: unknown }> }>(mainPath)).tenants[0]?.lastError, null, 'clearing an error is written at once');
  });

  it('hides automated tasks unless asked, lists newest first, and keeps only the latest finished automated ones', async () => {
    await store.close();
    store = await Store.open({ dataDir: dir, clock, automatedTaskRetention: 3 });
    const tenant = await addTenant();
    const operator = await store.queueTask({ tenantId: tenant.id, kind: 'x', name: 'X', description: '', origin: 'operator', automated: false });
    for (let i = 0; i < 5; i++) {
      const task = await store.queueTask({ tenantId: tenant.id, kind: 'sync-users', name: 'Sync users', description: `${i}`, origin: 'poller', automated: true });
      await store.startTask(task.id);
      await store.completeTask(task.id);
    }
    assert.deepEqual(store.listTasks().map((t) => t.id), [operator.id]);
    const all = store.listTasks({ includeAutomated: true });
    assert.deepEqual(all.map((t) => t.description), ['4', '3', '2', '']);
  });

  it('keeps a bounded system log, queryable by task id, tenant and level, with details redacted', async () => {
    await store.close();
    store = await Store.open({ dataDir: dir, clock, systemLogMaxEntries: 100 });
    for (let i = 0; i < 150; i++) {
      await store.appendSystemLog({ level: i % 10 === 0 ? 'error' : 'info', message: `event ${i}`, taskId: `task-${i % 3}`, tenantId: i % 2 === 0 ? 't-even' : 't-odd' });
    }
    await store.appendSystemLog({ level: 'warn', message: 'with details', details: { clientSecret: 'hunter2hunter2', appId: 'a' } });
    await reopen();
    const all = store.querySystemLog({ limit: 1_000 });
    assert.equal(all.length, 100);
    assert.equal(all[0]?.message, 'with details');
    assert.equal(all.at(-1)?.message, 'event 51');
    assert.ok(store.querySystemLog({ taskId: 'task-1', limit: 1_000 }).every((e) => e.taskId === 'task-1'));
    assert.equal(store.querySystemLog({ taskId: 'task-1', limit: 1_000 }).length, 33);
    assert.ok(store.querySystemLog({ tenantId: 't-even', limit: 1_000 }).every((e) => e.tenantId === 't-even'));
    // Entries 51..149 are left; of those, 60, 70, ... 140 are errors.
    const atLeastWarn = store.querySystemLog({ level: 'warn', limit: 1_000 });
    assert.deepEqual([atLeastWarn.filter((e) => e.level === 'error').length, atLeastWarn.filter((e) => e.level === 'warn').length], [9, 1]);
    assert.deepEqual(all[0]?.details, { clientSecret: '[redacted]', appId: 'a' });
    assert.doesNotMatch(await readFile(join(dir, SYSTEM_LOG_FILE_NAME), 'utf8'), /hunter2/);
  });

  it('tells listeners about changes once they are written', async () => {
    const events: string[] = [];
    const unsubscribe = store.onDidChange((event) => events.push(event.type));
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
    unsubscribe();
    await store.appendSystemLog({ level: 'info', message: 'unheard' });
    assert.deepEqual(events, ['tenant', 'activity', 'users']);
  });
});
