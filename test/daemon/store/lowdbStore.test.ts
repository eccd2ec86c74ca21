import assert from 'node:assert/strict';
import { cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../support/manualClock';
import type { AppError } from '../../../daemon/errors/AppError';
import { LOCK_FILE_NAME } from '../../../daemon/store/dataDirLock';
import { LowdbStore, MAIN_FILE_NAME, SYNC_STATE_FILE_NAME, SYSTEM_LOG_FILE_NAME, USERS_DIR_NAME } from '../../../daemon/store/lowdbStore';
import { MAIN_JOURNAL_FILE_NAME } from '../../../daemon/store/mainFileJournal';
import { SYSTEM_LOG_JOURNAL_FILE_NAME } from '../../../daemon/store/lowdbSystemLog';
import { loadStoreFile } from '../../../daemon/store/loadStoreFile';
import { DurableJsonFile } from '../../../daemon/store/durableJsonFile';
import { MAIN_FILE_SCHEMA_VERSION } from '../../../daemon/store/storeSchema';
import { z } from 'zod';
import { tempDataDir } from '../../support/tempDataDir';
import type { StoreUnderTest } from './storeContract';
import { describeStoreContract, observed } from './storeContract';
import { crashCopy } from './crashCopy';
import { usersOnDisk } from './usersOnDisk';

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The files in a fresh directory; what is durable is what a copy of the files holds. */
async function lowdbStorage(): Promise<StoreUnderTest> {
  const { dir, cleanup } = await tempDataDir();
  let open: LowdbStore | null = null;
  const copies: Array<() => Promise<void>> = [];
  return {
    async open(options) {
      await open?.close();
      open = await LowdbStore.open({ dataDir: dir, ...options });
      return open;
    },
    async openDurable(options) {
      const copy = await tempDataDir();
      copies.push(copy.cleanup);
      // Everything but the lock: the copy is another directory, owned by no one yet.
      await cp(dir, copy.dir, { recursive: true, filter: (source) => !source.endsWith(LOCK_FILE_NAME) });
      return LowdbStore.open({ dataDir: copy.dir, ...options });
    },
    async cleanup() {
      await open?.close();
      for (const remove of copies) await remove();
      await cleanup();
    },
  };
}

describeStoreContract('LowdbStore (JSON files)', lowdbStorage);

describe('LowdbStore: the files', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let store: LowdbStore;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
    clock = new ManualClock();
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000 });
  });

  afterEach(async () => {
    await store.close();
    await cleanup();
  });

  async function reopen(): Promise<LowdbStore> {
    await store.close();
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000 });
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
    assert.equal((await store.getTenant(tenant.id))?.tenantIdOrDomain, 'contoso.example');
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id), ['u1', 'u2']);
    assert.equal(await store.getDeltaLink(tenant.id), 'https://graph/delta?token=1');
    assert.equal((await store.getTask(task.id))?.status, 'PENDING');
    assert.equal((await store.listActivities({ tenantId: tenant.id }))[0]?.kind, 'tenant-added');
    assert.deepEqual(await readdir(join(dir, USERS_DIR_NAME)), [`${tenant.id}.log`]);
  });

  it('refuses a store written by a newer schema with a clear message, and leaves the file as it was', async () => {
    await addTenant();
    await store.close();
    const path = join(dir, MAIN_FILE_NAME);
    const data = await readJson<Record<string, unknown>>(path);
    const newer = JSON.stringify({ ...data, schemaVersion: MAIN_FILE_SCHEMA_VERSION + 1 });
    await writeFile(path, newer);
    await assert.rejects(LowdbStore.open({ dataDir: dir, clock }), (error: AppError) => {
      assert.equal(error.code, 'STORE_SCHEMA_TOO_NEW');
      assert.match(error.message, /written by a newer m365-status \(store schema 3; this one understands up to 2\)/);
      return true;
    });
    assert.equal(await readFile(path, 'utf8'), newer);
    // The refused start released the lock: an older file put back opens fine.
    await writeFile(path, JSON.stringify(data));
    store = await LowdbStore.open({ dataDir: dir, clock });
  });

  it('opens a store written before app profiles (schema 1): its tenants use their own app, it has no profiles, and it is written as schema 2', async () => {
    const tenant = await addTenant();
    await store.close();
    const path = join(dir, MAIN_FILE_NAME);
    const data = await readJson<{ schemaVersion: number; appProfiles?: unknown; tenants: Array<Record<string, unknown>> }>(path);
    delete data.appProfiles;
    for (const stored of data.tenants) delete stored['appProfileId'];
    data.schemaVersion = 1;
    await writeFile(path, JSON.stringify(data));
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000 });
    assert.equal((await store.requireTenant(tenant.id)).appProfileId, null);
    assert.deepEqual(await store.listAppProfiles(), []);
    const profile = await store.addAppProfile({ name: 'Partner', partnerTenant: 'partner.example', appId: 'app-2', credentialKind: 'secret', credentialExpiresAt: null, by: 'alice' });
    const written = await readJson<{ schemaVersion: number; appProfiles: Array<{ id: string }>; tenants: Array<Record<string, unknown>> }>(path);
    assert.equal(written.schemaVersion, 2);
    assert.deepEqual(written.appProfiles.map((p) => p.id), [profile.id]);
    assert.equal(written.tenants[0]?.['appProfileId'], null);
  });

  it('writes store.json with app profiles at schema 2, which a build that understands only schema 1 refuses instead of dropping the profiles', async () => {
    const tenant = await addTenant();
    const profile = await store.addAppProfile({ name: 'Partner', partnerTenant: 'partner.example', appId: 'app-2', credentialKind: 'secret', credentialExpiresAt: null, by: 'alice' });
    await store.addTenant({ tenantIdOrDomain: 'fabrikam.example', appId: 'app-2', credentialKind: 'secret', appProfileId: profile.id, by: 'alice' });
    await store.close();
    const path = join(dir, MAIN_FILE_NAME);
    const written = await readFile(path, 'utf8');
    assert.equal((JSON.parse(written) as { schemaVersion: number }).schemaVersion, 2);
    // What a build from before app profiles does with the file: the same check, knowing schema 1 and its
    // shape (a zod object, which would drop the keys it does not know).
    const beforeProfiles = z.object({ schemaVersion: z.literal(1), nextSeq: z.number(), tenants: z.array(z.object({ id: z.string() })), tasks: z.array(z.unknown()), activities: z.array(z.unknown()) });
    await assert.rejects(
      loadStoreFile(new DurableJsonFile<z.infer<typeof beforeProfiles>>(path), beforeProfiles, () => ({ schemaVersion: 1 as const, nextSeq: 1, tenants: [], tasks: [], activities: [] }), { current: 1 }),
      (error: AppError) => {
        assert.equal(error.code, 'STORE_SCHEMA_TOO_NEW');
        assert.match(error.message, /store schema 2; this one understands up to 1/);
        return true;
      },
    );
    assert.equal(await readFile(path, 'utf8'), written, 'the refused file is left as it was');
    store = await LowdbStore.open({ dataDir: dir, clock });
    assert.deepEqual((await store.listAppProfiles()).map((p) => p.id), [profile.id]);
    assert.equal((await store.requireTenant(tenant.id)).appProfileId, null);
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
    await assert.rejects(LowdbStore.open({ dataDir: dir, clock }), /store\.json does not have the expected shape at "tenants\.0\.credentialKind"/);
    first['credentialKind'] = 'secret';
    await writeFile(path, JSON.stringify(data));
    store = await LowdbStore.open({ dataDir: dir, clock });
  });

  it('writes every file 0600 and the data directory 0700 even under a permissive umask', async () => {
    await store.close();
    const umask = process.umask(0o000);
    try {
      const fresh = join(dir, 'fresh');
      store = await LowdbStore.open({ dataDir: fresh, clock });
      const tenant = await addTenant();
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
      await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: true });
      await store.appendSystemLog({ level: 'info', message: 'hello' });
      const files = [MAIN_FILE_NAME, SYSTEM_LOG_FILE_NAME, 'daemon.lock', ...(await readdir(join(fresh, USERS_DIR_NAME))).map((name) => join(USERS_DIR_NAME, name))];
      assert.ok(files.includes(join(USERS_DIR_NAME, `${tenant.id}.log`)));
      for (const file of files) {
        assert.equal(((await stat(join(fresh, file))).mode & 0o777).toString(8), '600', file);
      }
      assert.equal(((await stat(fresh)).mode & 0o777).toString(8), '700');
    } finally {
      process.umask(umask);
    }
  });

  it('answers a lock only once the users log on disk holds the user and its activity, in one write', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
    const mainBefore = await readFile(join(dir, MAIN_FILE_NAME), 'utf8');
    const recordsBefore = (await usersOnDisk(dir, tenant.id)).records.length;
    clock.advance(1_000);
    const { user, activity } = await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: true });
    assert.equal(user.accountEnabled, false);
    const { users: onDisk, records } = await usersOnDisk(dir, tenant.id);
    assert.deepEqual(onDisk.get('u1')?.lock, { by: 'alice', at: clock.now(), revokedSessions: true });
    assert.equal(onDisk.get('u1')?.accountEnabled, false);
    assert.equal(records.length, recordsBefore + 1, 'one record');
    assert.deepEqual(records.at(-1)?.activities?.map((a) => a.id), [activity.id], 'the activity is in the same record');
    assert.equal(await readFile(join(dir, MAIN_FILE_NAME), 'utf8'), mainBefore, 'store.json is not rewritten for it');
    assert.equal((await store.getTenant(tenant.id))?.lastManagementActivityAt, clock.now());

    await store.checkpoint();
    const main = await readJson<{ activities: Array<{ id: string }> }>(join(dir, MAIN_FILE_NAME));
    assert.ok(main.activities.some((a) => a.id === activity.id), 'store.json takes the activity at the next checkpoint');
  });

  it('restores the activities of locks and unlocks, and the tenant’s last management activity, from the users log when store.json was not written since', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1'), observed('u2')], deltaLink: null });
    clock.advance(1_000);
    const locked = await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false });
    clock.advance(1_000);
    const unlocked = await store.recordUserUnlocked(tenant.id, 'u1', 'bob');
    const other = await store.recordUserLocked(tenant.id, 'u2', { by: 'carol', revokedSessions: true });
    const crashed = await crashCopy(dir);
    try {
      const activities = await crashed.store.listActivities({ tenantId: tenant.id, limit: 100 });
      assert.deepEqual(
        activities.slice(0, 3).map((a) => [a.id, a.kind, a.actor]),
        [other.activity, unlocked.activity, locked.activity].map((a) => [a.id, a.kind, a.actor]),
      );
      assert.equal((await crashed.store.getTenant(tenant.id))?.lastManagementActivityAt, clock.now());
      assert.equal((await crashed.store.getUser(tenant.id, 'u1'))?.accountEnabled, true);
      assert.equal((await crashed.store.getUser(tenant.id, 'u2'))?.lock?.by, 'carol');
      // Numbering goes on after the restored ones, so the next activity is the newest.
      const next = await crashed.store.recordActivity({ tenantId: tenant.id, kind: 'refresh', name: 'Refresh', description: 'after', actor: 'dave', management: true });
      assert.ok(next.activity.seq > other.activity.seq);
    } finally {
      await crashed.close();
    }
  });

  it('keeps a lock’s activity through a compaction of the users log that comes before store.json is written', async () => {
    await store.close();
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 3_600_000, usersLogCompactionBytes: 2048 });
    const tenant = await addTenant();
    const users = Array.from({ length: 40 }, (_, i) => observed(`u${i}`));
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users, deltaLink: null });
    clock.advance(1_000);
    const locked = await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false });
    // Enough changes after it to compact the log the lock went to, more than once.
    for (let round = 0; round < 6; round++) {
      clock.advance(1_000);
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users.filter((u) => u.id !== 'u1').map((u) => ({ ...u, displayName: `${u.id} ${round}` })), deltaLink: null });
    }
    const snapshot = await readJson<{ generation: number }>(join(dir, USERS_DIR_NAME, `${tenant.id}.snap.json`));
    assert.ok(snapshot.generation >= 2, 'the log was compacted');
    const crashed = await crashCopy(dir);
    try {
      const activities = await crashed.store.listActivities({ tenantId: tenant.id, limit: 100 });
      assert.ok(activities.some((a) => a.id === locked.activity.id), 'the activity survived the compaction');
      assert.equal((await crashed.store.getUser(tenant.id, 'u1'))?.lock?.by, 'alice');
    } finally {
      await crashed.close();
    }
  });

  it('appends to the changed tenant’s users log only when one user changes', async () => {
    const a = await addTenant('a.example');
    const b = await addTenant('b.example');
    await store.applyUserChanges(a.id, { observedAt: clock.now(), users: [observed('a1')], deltaLink: 'a-1' });
    await store.applyUserChanges(b.id, { observedAt: clock.now(), users: [observed('b1')], deltaLink: 'b-1' });
    const aPath = join(dir, USERS_DIR_NAME, `${a.id}.log`);
    const bPath = join(dir, USERS_DIR_NAME, `${b.id}.log`);
    const mainPath = join(dir, MAIN_FILE_NAME);
    // The registrations' own write of the main file (from their journal, at a checkpoint) comes first.
    await store.checkpoint();
    const before = { a: await stat(aPath), b: await stat(bPath), main: (await stat(mainPath)).ino };

    clock.advance(60_000);
    const summary = await store.applyUserChanges(a.id, { observedAt: clock.now(), users: [observed('a1', { accountEnabled: false })], deltaLink: 'a-2' });
    assert.equal(summary.written, true);
    assert.equal(summary.changed.length, 1);
    const after = await stat(aPath);
    assert.equal(after.ino, before.a.ino, 'the log was replaced rather than appended to');
    assert.ok(after.size > before.a.size && after.size - before.a.size < 1024, `${after.size - before.a.size} bytes appended`);
    assert.deepEqual(await stat(bPath), before.b, "the other tenant's users log was written");
    assert.equal((await stat(mainPath)).ino, before.main, 'the main file was rewritten');
  });

  it('writes nothing for a sync that changed nothing, and saves its bookkeeping at the next checkpoint', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-1' });
    await store.recordSyncSuccess(tenant.id);
    await store.checkpoint();
    const usersPath = join(dir, USERS_DIR_NAME, `${tenant.id}.log`);
    const mainPath = join(dir, MAIN_FILE_NAME);
    const before = { users: (await stat(usersPath)).size, main: (await stat(mainPath)).ino };

    clock.advance(30_000);
    await store.recordSyncAttempt(tenant.id);
    const summary = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-2' });
    await store.recordSyncSuccess(tenant.id);
    await store.queueTask({ tenantId: tenant.id, kind: 'sync-users', name: 'Sync users', description: '', origin: 'poller', automated: true });
    assert.equal(summary.written, false);
    assert.equal((await stat(usersPath)).size, before.users);
    assert.equal((await stat(mainPath)).ino, before.main);
    assert.equal((await store.getTenant(tenant.id))?.lastSyncAt, clock.now(), 'memory is current at once');
    assert.equal(await store.getDeltaLink(tenant.id), 'd-2');

    await clock.advanceAsync(60_000);
    assert.equal(clock.pendingTimers, 0, 'the checkpoint timer fired');
    await store.checkpoint(); // only waits for the write the timer started
    assert.equal((await usersOnDisk(dir, tenant.id)).deltaLink, 'd-2');
    const syncState = await readJson<{ tenants: Record<string, { lastSyncAt: number }> }>(join(dir, SYNC_STATE_FILE_NAME));
    assert.equal(syncState.tenants[tenant.id]?.lastSyncAt, clock.now() - 60_000);
    assert.equal((await stat(mainPath)).ino, before.main, 'the checkpoint rewrote store.json for bookkeeping and the poller’s task');
  });

  it('keeps a quiet round’s delta link and "as of" in sync-state.json, and loads whichever delta link is newest', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-1' });
    clock.advance(10_000);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], deltaLink: 'd-2' });
    await store.recordSyncSuccess(tenant.id);
    await store.checkpoint();
    assert.equal((await usersOnDisk(dir, tenant.id)).deltaLink, 'd-1', 'the users files were written for a quiet round');
    const durable = await crashCopy(dir);
    assert.equal(await durable.store.getDeltaLink(tenant.id), 'd-2');
    assert.equal((await durable.store.getTenant(tenant.id))?.lastSyncAt, clock.now());
    await durable.close();

    // A change after it puts a newer link in the users log, which wins over the older quiet one.
    clock.advance(10_000);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u2')], deltaLink: 'd-3' });
    const later = await crashCopy(dir);
    assert.equal(await later.store.getDeltaLink(tenant.id), 'd-3');
    assert.deepEqual((await later.store.listUsers(tenant.id)).users.map((u) => u.id), ['u1', 'u2']);
    await later.close();
  });

  it('deletes a removed tenant’s users files', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
    assert.deepEqual(await readdir(join(dir, USERS_DIR_NAME)), [`${tenant.id}.log`]);
    await store.removeTenant(tenant.id, 'alice');
    assert.deepEqual(await readdir(join(dir, USERS_DIR_NAME)), []);
  });

  it('drops an orphaned users file and leftover temp files when it opens', async () => {
    const tenant = await addTenant();
    await store.close();
    for (const name of ['gone.json', 'gone.snap.json', 'gone.log']) await writeFile(join(dir, USERS_DIR_NAME, name), '{}');
    await writeFile(join(dir, `.${MAIN_FILE_NAME}.tmp`), '{"half');
    store = await LowdbStore.open({ dataDir: dir, clock });
    assert.deepEqual(await readdir(join(dir, USERS_DIR_NAME)), []);
    assert.ok(!(await readdir(dir)).some((name) => name.endsWith('.tmp')));
    assert.ok(await store.getTenant(tenant.id));
  });

  it('writes a new sync failure at once, to the journal, and a repeat of it only as bookkeeping', async () => {
    const tenant = await addTenant();
    await store.checkpoint();
    const mainPath = join(dir, MAIN_FILE_NAME);
    const journalPath = join(dir, MAIN_JOURNAL_FILE_NAME);
    const ino = (await stat(mainPath)).ino;
    const errorAfterCrash = async () => {
      const crashed = await crashCopy(dir);
      try {
        return (await crashed.store.getTenant(tenant.id))?.lastError ?? null;
      } finally {
        await crashed.close();
      }
    };
    await store.recordSyncFailure(tenant.id, { category: 'credentials', code: 'AADSTS7000215', message: 'Invalid client secret.' });
    assert.equal((await errorAfterCrash())?.code, 'AADSTS7000215', 'durable at once');
    const journalBytes = (await stat(journalPath)).size;
    clock.advance(60_000);
    await store.recordSyncFailure(tenant.id, { category: 'credentials', code: 'AADSTS7000215', message: 'Invalid client secret.' });
    assert.equal((await stat(journalPath)).size, journalBytes, 'a repeat appends nothing');
    assert.equal((await store.getTenant(tenant.id))?.lastError?.at, clock.now());
    await store.recordSyncSuccess(tenant.id);
    assert.equal(await errorAfterCrash(), null, 'clearing an error is durable at once');
    assert.equal((await stat(mainPath)).ino, ino, 'and none of them rewrote store.json');
  });

  it('keeps secrets out of the system log file and its journal', async () => {
    for (const message of ['first, in the file', 'second, in the journal']) {
      await store.appendSystemLog({ level: 'warn', message, details: { clientSecret: 'hunter2hunter2', appId: 'a' } });
    }
    const text = (await readFile(join(dir, SYSTEM_LOG_FILE_NAME), 'utf8')) + (await readFile(join(dir, SYSTEM_LOG_JOURNAL_FILE_NAME), 'utf8'));
    assert.match(text, /first, in the file/);
    assert.match(text, /second, in the journal/);
    assert.doesNotMatch(text, /hunter2/);
  });

  it('makes a system log entry durable with one append to its journal, and writes system-log.json at the checkpoint', async () => {
    await store.appendSystemLog({ level: 'info', message: 'the file is written once' });
    const logPath = join(dir, SYSTEM_LOG_FILE_NAME);
    const before = await readFile(logPath, 'utf8');
    const written = [];
    for (let i = 0; i < 5; i++) written.push(await store.appendSystemLog({ level: 'warn', message: `entry ${i}` }));
    assert.equal(await readFile(logPath, 'utf8'), before, 'system-log.json is not rewritten for them');

    const crashed = await crashCopy(dir);
    try {
      const kept = await crashed.store.querySystemLog({ limit: 10 });
      assert.deepEqual(kept.slice(0, 5), [...written].reverse(), 'every entry, newest first, as acknowledged');
      const next = await crashed.store.appendSystemLog({ level: 'info', message: 'after' });
      assert.ok(next.seq > (written.at(-1)?.seq ?? Infinity), 'numbering goes on after them');
    } finally {
      await crashed.close();
    }
    await store.checkpoint();
    assert.match(await readFile(logPath, 'utf8'), /entry 4/);
    assert.equal((await stat(join(dir, SYSTEM_LOG_JOURNAL_FILE_NAME))).size, 0, 'the checkpoint emptied the journal');
  });

  it('keeps a user whose id is an inherited name as an ordinary user, in memory and in its file', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('constructor'), observed('toString')], deltaLink: null });
    await store.recordUserLocked(tenant.id, 'constructor', { by: 'alice', revokedSessions: false });
    await reopen();
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => [u.id, u.lock?.by ?? null]), [['constructor', 'alice'], ['toString', null]]);
    const onDisk = (await usersOnDisk(dir, tenant.id)).users;
    assert.deepEqual([...onDisk.keys()].sort(), ['constructor', 'toString']);
  });
});
