import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { appendFile, type FileHandle, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { AppError } from '../../../daemon/errors/AppError';
import { createLogger } from '../../../daemon/logging/logger';
import { LowdbStore, MAIN_FILE_NAME, SYNC_STATE_FILE_NAME, USERS_DIR_NAME } from '../../../daemon/store/lowdbStore';
import { STORE_SCHEMA_VERSION, USERS_FILE_SCHEMA_VERSION } from '../../../daemon/store/storeSchema';
import { UsersLog, type SnapshotToWrite } from '../../../daemon/store/usersLog';
import { userOnDisk } from '../../../daemon/store/usersLogSchema';
import type { UserTuple } from '../../../daemon/store/userTuple';
import type { ObservedUser, StoredUser, StoreEvent } from '../../../daemon/store/storeTypes';
import { killHard, spawnTypeScript } from '../../support/childProcess';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';
import { withFileSizeLimit } from '../../support/withFileSizeLimit';
import { crashCopy } from './crashCopy';
import { observed } from './storeContract';

/** What the data directory holds, in bytes: what it grew by is what a change cost on disk. */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Every file under a directory with its size and modification time: what a write would change. */
async function fileStates(dir: string): Promise<Record<string, [number, number]>> {
  const states: Record<string, [number, number]> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path);
    states[path] = [info.size, info.mtimeMs];
  }
  return states;
}

function manyUsers(count: number): ObservedUser[] {
  return Array.from({ length: count }, (_, i) =>
    observed(`user-${String(i).padStart(6, '0')}-4b3f-9c1e-0d2a7e5f8b61`, {
      userPrincipalName: `person.${i}@contoso.example`,
      displayName: `Person Number ${i}`,
    }),
  );
}

/**
 * Makes the next fsync of a directory made by `method` (a name on the call's stack) fail as a disk error
 * would. The returned function puts fsync back and answers how many failed.
 */
async function failDirectorySyncOnce(method: string, dir: string): Promise<() => number> {
  const probe = await open(dir, 'r');
  const proto = Object.getPrototypeOf(probe) as { sync: (this: FileHandle) => Promise<void> };
  await probe.close();
  const { sync } = proto;
  let failed = 0;
  proto.sync = async function (this: FileHandle) {
    if (failed === 0 && (new Error().stack ?? '').includes(method) && (await this.stat()).isDirectory()) {
      failed++;
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    }
    return sync.call(this);
  };
  return () => {
    proto.sync = sync;
    return failed;
  };
}

/**
 * Makes the next append's write fail as a disk error would (EIO); whole files written and renamed into place
 * are written otherwise and still succeed. The returned function puts writes back and answers how many failed.
 */
async function failNextAppend(dir: string): Promise<() => number> {
  const probe = await open(dir, 'r');
  const proto = Object.getPrototypeOf(probe) as Record<'write' | 'writev', (this: FileHandle, ...args: unknown[]) => Promise<unknown>>;
  await probe.close();
  const { write, writev } = proto;
  let failed = 0;
  const failOnce = (original: typeof write) =>
    function (this: FileHandle, ...args: unknown[]): Promise<unknown> {
      if (failed > 0) return original.apply(this, args);
      failed++;
      return Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    };
  proto.write = failOnce(write);
  proto.writev = failOnce(writev);
  return () => {
    proto.write = write;
    proto.writev = writev;
    return failed;
  };
}

/** Runs `action` with its append failing as a disk error would: it must reject with EIO, that one write having failed. */
async function rejectsOnFailedAppend(dir: string, action: () => Promise<unknown>): Promise<void> {
  const restore = await failNextAppend(dir);
  try {
    await assert.rejects(action(), /EIO/);
  } finally {
    assert.equal(restore(), 1);
  }
}

describe('LowdbStore: users as a snapshot and an append-only log', function () {
  this.timeout(120_000);
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

  /** Closes the store and opens it again on the same files; `usersLogCompactionBytes` sets when its logs compact. */
  async function reopen(options: { usersLogCompactionBytes?: number } = {}): Promise<LowdbStore> {
    await store.close();
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000, ...options });
    return store;
  }

  function addTenant(name = 'contoso.example') {
    return store.addTenant({ tenantIdOrDomain: name, appId: 'app-1', credentialKind: 'secret', by: 'alice' });
  }

  for (const size of [2_500, 100_000]) {
    it(`writes under 4 KB for one changed user in a tenant of ${size.toLocaleString('en')} users, and for a lock`, async () => {
      const tenant = await addTenant();
      const users = manyUsers(size);
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users, deltaLink: 'd-1', fullRound: true });
      await store.checkpoint(); // also waits for a compaction the first round started
      const before = await directoryBytes(dir);

      clock.advance(10_000);
      const changed = users[size / 2];
      assert.ok(changed);
      const summary = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [{ ...changed, accountEnabled: false }], deltaLink: 'd-2' });
      assert.equal(summary.changed.length, 1);
      const afterChange = await directoryBytes(dir);
      assert.ok(afterChange - before > 0 && afterChange - before < 4096, `${afterChange - before} bytes for one changed user`);

      // A lock also records an activity in store.json, which is not the users' cost: count the users' files.
      const usersBefore = await directoryBytes(join(dir, USERS_DIR_NAME));
      await store.recordUserLocked(tenant.id, changed.id, { by: 'alice', revokedSessions: false });
      const usersAfter = await directoryBytes(join(dir, USERS_DIR_NAME));
      assert.ok(usersAfter - usersBefore > 0 && usersAfter - usersBefore < 4096, `${usersAfter - usersBefore} bytes for one lock`);

      await reopen();
      assert.equal((await store.countUsers(tenant.id)).total, size);
      assert.equal((await store.getUser(tenant.id, changed.id))?.lock?.by, 'alice');
      assert.equal(await store.getDeltaLink(tenant.id), 'd-2');
    });
  }

  it('writes nothing for quiet rounds, and at a checkpoint only sync-state.json, a few hundred bytes per tenant', async () => {
    // The checkpoints below are taken by hand, every 30 rounds of 10 s (the product's 5 minutes).
    await store.close();
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 3_600_000 });
    const tenants = [await addTenant('a.example'), await addTenant('b.example'), await addTenant('c.example')];
    for (const tenant of tenants) {
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: manyUsers(500), deltaLink: `${tenant.id}-0`, fullRound: true });
    }
    await store.checkpoint();
    const usersDir = join(dir, USERS_DIR_NAME);
    const mainPath = join(dir, MAIN_FILE_NAME);
    const syncStatePath = join(dir, SYNC_STATE_FILE_NAME);
    const usersBefore = await fileStates(usersDir);
    const mainBefore = await stat(mainPath);
    const link = (round: number): string => `https://graph.microsoft.com/v1.0/users/delta?$deltatoken=${'x'.repeat(120)}${round}`;

    for (let checkpoint = 1; checkpoint <= 5; checkpoint++) {
      const dataDirBefore = await fileStates(dir);
      // A checkpoint's worth of quiet rounds as the poller records them: a new delta link each round, no
      // user changed, "as of" moved, one automated task begun and completed.
      for (let round = 0; round < 30; round++) {
        clock.advance(10_000);
        for (const tenant of tenants) {
          await store.recordSyncAttempt(tenant.id);
          const task = await store.beginTask({ tenantId: tenant.id, kind: 'sync-users', name: 'Sync users', description: '', origin: 'poller', automated: true });
          const summary = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], deltaLink: link(checkpoint * 100 + round) });
          await store.recordSyncSuccess(tenant.id, clock.now());
          await store.completeTask(task.id, 'Delta sync: no changes.');
          assert.equal(summary.written, false);
        }
      }
      assert.deepEqual(await fileStates(dir), dataDirBefore, 'quiet rounds wrote to the data directory');
      await store.checkpoint();
      assert.deepEqual(await fileStates(usersDir), usersBefore, 'a checkpoint wrote to the users files');
      assert.deepEqual(await stat(mainPath).then((s) => [s.ino, s.size, s.mtimeMs]), [mainBefore.ino, mainBefore.size, mainBefore.mtimeMs], 'a checkpoint rewrote store.json');
      const syncStateBytes = (await stat(syncStatePath)).size;
      assert.ok(syncStateBytes < tenants.length * 400, `sync-state.json is ${syncStateBytes} bytes for ${tenants.length} tenants`);
    }
    // Fifty quiet rounds each, kept as one record per tenant besides the first.
    for (const tenant of tenants) assert.ok((await store.listTasks({ tenantId: tenant.id, includeAutomated: true })).length <= 1);
    await reopen();
    for (const tenant of tenants) assert.equal(await store.getDeltaLink(tenant.id), link(529));
    for (const tenant of tenants) assert.equal((await store.getTenant(tenant.id))?.lastSyncAt, clock.now());
  });

  it('reports a failed compaction to the daemon log and the system log, and loses no append', async () => {
    await store.close();
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>), clock });
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000, usersLogCompactionBytes: 4096, logger });
    const tenant = await addTenant();
    // A directory where the snapshot goes: renaming the new snapshot onto it fails.
    const snapshotPath = join(dir, USERS_DIR_NAME, `${tenant.id}.snap.json`);
    await mkdir(snapshotPath);
    const users = manyUsers(100);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users, deltaLink: 'd-1', fullRound: true });
    await store.checkpoint(); // waits for the compaction the append started

    const logged = lines.filter((line) => line['operation'] === 'compact users log');
    assert.equal(logged.length, 1, JSON.stringify(lines));
    assert.deepEqual([logged[0]?.['level'], logged[0]?.['source'], logged[0]?.['tenantId']], ['error', 'store', tenant.id]);
    assert.match(String(logged[0]?.['msg']), /Could not compact the users log of tenant .* \(EISDIR\)/);
    const entries = await store.querySystemLog({ tenantId: tenant.id });
    assert.ok(entries.some((entry) => entry.message.startsWith('Could not compact the users log')), JSON.stringify(entries));

    // Later appends still land, and the next compaction (once the log has grown again) is not held back by the first.
    clock.advance(1_000);
    const changed = users[50];
    assert.ok(changed);
    const summary = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [{ ...changed, accountEnabled: false }], deltaLink: 'd-2' });
    assert.equal(summary.written, true);
    await rm(snapshotPath, { recursive: true });
    await reopen();
    assert.equal((await store.countUsers(tenant.id)).total, 100);
    assert.equal((await store.getUser(tenant.id, changed.id))?.accountEnabled, false);
  });

  it('keeps appending to a whole log when the directory\'s fsync fails after a compaction\'s segment took the log\'s place', async () => {
    await reopen({ usersLogCompactionBytes: 1000 });
    const tenant = await addTenant();
    const usersDir = join(dir, USERS_DIR_NAME);
    const restore = await failDirectorySyncOnce('adoptNextLog', dir);
    try {
      // The page outgrows the threshold: a compaction starts, and the lock goes to the segment meanwhile.
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: manyUsers(60), deltaLink: 'd-1' });
      await store.recordUserLocked(tenant.id, 'user-000001-4b3f-9c1e-0d2a7e5f8b61', { by: 'alice', revokedSessions: false });
      await store.checkpoint();
      assert.equal(restore(), 1, 'the directory fsync after the rename failed once');
    } finally {
      restore();
    }
    assert.deepEqual((await readdir(usersDir)).sort(), [`${tenant.id}.log`, `${tenant.id}.snap.json`]);
    clock.advance(1_000);
    await store.recordUserLocked(tenant.id, 'user-000002-4b3f-9c1e-0d2a7e5f8b61', { by: 'bob', revokedSessions: false });
    assert.deepEqual((await readdir(usersDir)).sort(), [`${tenant.id}.log`, `${tenant.id}.snap.json`], 'the lock went to the log, not to a new segment');

    const copy = await crashCopy(dir);
    try {
      assert.equal((await copy.store.getUser(tenant.id, 'user-000001-4b3f-9c1e-0d2a7e5f8b61'))?.lock?.by, 'alice');
      assert.equal((await copy.store.getUser(tenant.id, 'user-000002-4b3f-9c1e-0d2a7e5f8b61'))?.lock?.by, 'bob');
      assert.equal((await copy.store.countUsers(tenant.id)).total, 60);
    } finally {
      await copy.close();
    }
  });

  it('keeps a lock made after a compaction whose new log could not be started, and says where the changes are', async () => {
    await reopen({ usersLogCompactionBytes: 1000 });
    const tenant = await addTenant();
    const usersDir = join(dir, USERS_DIR_NAME);
    // The page outgrows the threshold: a compaction starts, and nothing is appended while it writes the snapshot.
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: manyUsers(60), deltaLink: 'd-1' });
    // A directory where the new empty log is written first: once the snapshot is in place, starting the log fails.
    const trap = join(usersDir, `.${tenant.id}.log.tmp`);
    await mkdir(trap);
    await store.checkpoint();
    await rm(trap, { recursive: true });
    const snapshot = JSON.parse(await readFile(join(usersDir, `${tenant.id}.snap.json`), 'utf8')) as { generation: number };
    assert.equal(snapshot.generation, 1, 'the snapshot is in place');
    const [failure, ...more] = await store.querySystemLog({ tenantId: tenant.id, level: 'error' });
    assert.equal(more.length, 0);
    assert.match(failure?.message ?? '', /^Could not compact the users log of tenant .* \(EISDIR\)/);
    assert.doesNotMatch(failure?.message ?? '', /safe in the log/, 'the log is not where they are');

    clock.advance(1_000);
    const locked = 'user-000007-4b3f-9c1e-0d2a7e5f8b61';
    await store.recordUserLocked(tenant.id, locked, { by: 'alice', revokedSessions: false });
    // kill -9 now: the lock was acknowledged, so a restart must find it.
    const copy = await crashCopy(dir);
    try {
      assert.equal((await copy.store.getUser(tenant.id, locked))?.lock?.by, 'alice');
      assert.equal((await copy.store.countUsers(tenant.id)).total, 60);
      assert.equal(await copy.store.getDeltaLink(tenant.id), 'd-1');
    } finally {
      await copy.close();
    }
  });

  it('after a failed append, makes no newer delta link durable before the users in memory are on disk', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1'), observed('u2')], deltaLink: 'd-1', fullRound: true });
    clock.advance(60_000);
    await rejectsOnFailedAppend(dir, () => store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1', { accountEnabled: false })], deltaLink: 'd-2' }));
    // What a restart finds now: the change is lost, but so is its link, so Graph sends the change again.
    const found = async (): Promise<[boolean | undefined, string | null]> => {
      const copy = await crashCopy(dir);
      try {
        return [(await copy.store.getUser(tenant.id, 'u1'))?.accountEnabled, await copy.store.getDeltaLink(tenant.id)];
      } finally {
        await copy.close();
      }
    };
    assert.deepEqual(await found(), [true, 'd-1']);

    // The next round starts from the link in memory and changes nothing. While its snapshot cannot be written
    // (a directory where it is written first), neither it nor a checkpoint puts a newer link on disk.
    const trap = join(dir, USERS_DIR_NAME, `.${tenant.id}.snap.json.tmp`);
    await mkdir(trap);
    clock.advance(60_000);
    await assert.rejects(store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], deltaLink: 'd-3' }), /EISDIR/);
    await assert.rejects(store.checkpoint(), /EISDIR/);
    assert.deepEqual(await found(), [true, 'd-1']);
    await rm(trap, { recursive: true });

    // Once it can, the next round writes everything memory holds, though it changed nothing itself.
    clock.advance(60_000);
    const summary = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], deltaLink: 'd-4' });
    assert.equal(summary.written, true);
    assert.deepEqual(await found(), [false, 'd-4']);
    // And the rounds after it are quiet again, writing nothing.
    clock.advance(60_000);
    assert.equal((await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], deltaLink: 'd-5' })).written, false);
    await reopen();
    assert.equal((await store.getUser(tenant.id, 'u1'))?.accountEnabled, false);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-5');
  });

  it('answers a lock whose append fails with the error, and writes it from memory at the next checkpoint', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1'), observed('u2')], deltaLink: 'd-1', fullRound: true });
    clock.advance(1_000);
    await rejectsOnFailedAppend(dir, () => store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false }));
    // Disabled in Microsoft 365 already, so the lock is kept, and written by the tenant's next write: a
    // checkpoint's, if nothing comes first.
    await store.checkpoint();
    const copy = await crashCopy(dir);
    try {
      assert.equal((await copy.store.getUser(tenant.id, 'u1'))?.lock?.by, 'alice');
      assert.deepEqual((await copy.store.listActivities({})).filter((activity) => activity.kind === 'lock').map((activity) => activity.userId), ['u1']);
    } finally {
      await copy.close();
    }
    // Appends go on as before.
    const logPath = join(dir, USERS_DIR_NAME, `${tenant.id}.log`);
    const before = (await stat(logPath)).size;
    await store.recordUserLocked(tenant.id, 'u2', { by: 'bob', revokedSessions: false });
    assert.ok((await stat(logPath)).size > before, 'the next lock was appended');
    await reopen();
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((user) => [user.id, user.lock?.by]), [['u1', 'alice'], ['u2', 'bob']]);
  });

  it('drops a torn final record on load, keeps every record before it, and appends after it again', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1'), observed('u2')], deltaLink: 'd-1' });
    clock.advance(1_000);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1', { displayName: 'Renamed' })], deltaLink: 'd-2' });
    await store.close();
    const logPath = join(dir, USERS_DIR_NAME, `${tenant.id}.log`);
    const intact = (await stat(logPath)).size;
    // Half of a record, as a crash in the middle of writing it leaves it.
    await appendFile(logPath, '0badc0de {"set":[{"id":"u3","userPrincipalName":"u3@contoso');

    await reopen();
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => [u.id, u.displayName]), [['u1', 'Renamed'], ['u2', 'User u2']]);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-2');
    assert.equal((await stat(logPath)).size, intact, 'the torn record was cut off');
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u4')], deltaLink: 'd-3' });
    await reopen();
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id), ['u1', 'u2', 'u4']);
  });

  it('writes each record as one line under the CRC-32 of its bytes, names beyond ASCII included, and reads them back', async () => {
    const tenant = await addTenant();
    const names = ['Zoë Ångström', '李小龙', 'Émile 🚀 Noël'];
    // Appended at once, so the records go out together in one write.
    await Promise.all(
      names.map((displayName, i) => store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed(`u${i}`, { displayName })], deltaLink: `d-${i}` })),
    );
    await store.close();
    const bytes = await readFile(join(dir, USERS_DIR_NAME, `${tenant.id}.log`));
    const lines: Buffer[] = [];
    for (let start = 0, end = bytes.indexOf(0x0a); end >= 0; start = end + 1, end = bytes.indexOf(0x0a, start)) lines.push(bytes.subarray(start, end));
    assert.equal(bytes.at(-1), 0x0a, 'the log ends with a whole line');
    const records = lines.slice(1).map((line) => {
      const json = line.subarray(9);
      assert.equal(line.toString('latin1', 0, 9), `${crc32(json).toString(16).padStart(8, '0')} `);
      return JSON.parse(json.toString('utf8')) as { set?: UserTuple[] };
    });
    // Each user a tuple: [id, userPrincipalName, displayName, …].
    assert.deepEqual(records.flatMap((record) => (record.set ?? []).map((user) => user[2])), names);
    await reopen();
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.displayName).sort(), [...names].sort());
    assert.equal(await store.getDeltaLink(tenant.id), 'd-2');
  });

  it('fails an append the disk took only part of, cutting it off again so that the next write and a restart find a whole log', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-1' });
    const logPath = join(dir, USERS_DIR_NAME, `${tenant.id}.log`);
    const before = (await stat(logPath)).size;
    // Room for 40 more bytes, as on a nearly full disk: the next record is longer, so the disk takes part of it.
    await withFileSizeLimit(before + 40, () =>
      assert.rejects(
        store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u2', { displayName: 'A name longer than the room left' })], deltaLink: 'd-2' }),
        (error: Error) => error.message.includes(`40 of `) && error.message.includes(logPath),
      ),
    );
    assert.equal((await stat(logPath)).size, before, 'the part written was cut off again');
    // The refused page is still in memory, with its link: the next write takes it to disk too.
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u3')], deltaLink: 'd-3' });
    await reopen();
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id).sort(), ['u1', 'u2', 'u3']);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-3');
  });

  it('drops a final record whose checksum fails, as a crash can leave it', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-1' });
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u2')], deltaLink: 'd-2' });
    await store.close();
    const logPath = join(dir, USERS_DIR_NAME, `${tenant.id}.log`);
    const text = await readFile(logPath, 'utf8');
    const lines = text.split('\n');
    const last = lines.length - 2;
    lines[last] = (lines[last] ?? '').replace('"d-2"', '"d-X"');
    await writeFile(logPath, lines.join('\n'));
    await reopen();
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id), ['u1']);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-1');
  });

  it('refuses to start, naming the file, when a record before the last one is damaged', async () => {
    const tenant = await addTenant();
    for (const id of ['u1', 'u2', 'u3']) await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed(id)], deltaLink: id });
    await store.close();
    const logPath = join(dir, USERS_DIR_NAME, `${tenant.id}.log`);
    const text = await readFile(logPath, 'utf8');
    await writeFile(logPath, text.replace('u2@', 'x2@'));
    await assert.rejects(LowdbStore.open({ dataDir: dir, clock }), (error: AppError) => {
      assert.equal(error.code, 'STORE_UNREADABLE');
      assert.ok(error.message.includes(logPath), error.message);
      assert.match(error.message, /damaged record at line 3/);
      return true;
    });
    assert.equal(await readFile(logPath, 'utf8'), text.replace('u2@', 'x2@'), 'the damaged file was left as it was');
    await writeFile(logPath, text);
    store = await LowdbStore.open({ dataDir: dir, clock });
    assert.equal((await store.countUsers(tenant.id)).total, 3);
  });

  it('writes names outside ASCII as escapes in the log and the snapshot, and reads them back as they were', async () => {
    await reopen({ usersLogCompactionBytes: 2_000 });
    const tenant = await addTenant();
    const names = ['Zoë Ångström', '山田 太郎', 'Emoji 😀 Person', 'Plain Name'];
    for (const [i, displayName] of names.entries()) {
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed(`u${i}`, { displayName, userPrincipalName: `ü${i}@contoso.example` })], deltaLink: `d-${i}` });
    }
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: manyUsers(20), deltaLink: 'd-many' });
    await store.close();
    const usersDir = join(dir, USERS_DIR_NAME);
    const files = await readdir(usersDir);
    assert.ok(files.includes(`${tenant.id}.snap.json`), `a compaction wrote a snapshot: ${files.join(', ')}`);
    for (const name of files) {
      const bytes = await readFile(join(usersDir, name));
      assert.ok(isAscii(bytes), `${name} is ASCII`);
    }
    const snapshot = await readFile(join(usersDir, `${tenant.id}.snap.json`), 'latin1');
    assert.ok(snapshot.includes('Zo\\u00eb'), 'ë is written as its escape');

    await reopen();
    const byId = new Map((await store.listUsers(tenant.id, { limit: 100 })).users.map((u) => [u.id, u]));
    for (const [i, displayName] of names.entries()) {
      assert.equal(byId.get(`u${i}`)?.displayName, displayName);
      assert.equal(byId.get(`u${i}`)?.userPrincipalName, `ü${i}@contoso.example`);
    }
    assert.equal(byId.size, names.length + 20);
  });

  it('reads a log and a snapshot written in UTF-8, as earlier versions wrote them', async () => {
    const tenant = await addTenant();
    await store.close();
    const user = (id: string, displayName: string): StoredUser => ({
      id,
      userPrincipalName: `${id}@contoso.example`,
      displayName,
      accountEnabled: true,
      onPremisesSyncEnabled: null,
      lastChangedAt: 5,
      lastVerifiedAt: 7,
      lock: null,
    });
    const line = (value: unknown): string => {
      const json = JSON.stringify(value);
      return `${crc32(Buffer.from(json, 'utf8')).toString(16).padStart(8, '0')} ${json}\n`;
    };
    const usersDir = join(dir, USERS_DIR_NAME);
    const snapshot = { schemaVersion: STORE_SCHEMA_VERSION, tenantId: tenant.id, generation: 1, deltaLink: 'd-1', users: [user('u1', 'Zoë Ångström')] };
    await writeFile(join(usersDir, `${tenant.id}.snap.json`), JSON.stringify(snapshot), 'utf8');
    const header = { schemaVersion: STORE_SCHEMA_VERSION, tenantId: tenant.id, generation: 1 };
    await writeFile(join(usersDir, `${tenant.id}.log`), line(header) + line({ set: [user('u2', '山田 太郎 😀')], deltaLink: 'd-2' }), 'utf8');
    assert.ok(!isAscii(await readFile(join(usersDir, `${tenant.id}.log`))), 'the log holds UTF-8 beyond ASCII');

    await reopen();
    const names = new Map((await store.listUsers(tenant.id)).users.map((u) => [u.id, u.displayName]));
    assert.deepEqual(names, new Map([['u1', 'Zoë Ångström'], ['u2', '山田 太郎 😀']]));
    assert.equal(await store.getDeltaLink(tenant.id), 'd-2');
  });

  it('reads users files of version 1 (users as objects), appends to their log, and writes them at version 2 (users as tuples) at the next compaction, every field kept', async () => {
    const tenant = await addTenant();
    await store.close();
    const known: StoredUser[] = [
      { id: 'u1', userPrincipalName: 'u1@contoso.example', displayName: 'User One', accountEnabled: true, onPremisesSyncEnabled: null, lastChangedAt: 5, lastVerifiedAt: 7, lock: null },
      { id: 'u2', userPrincipalName: 'u2@contoso.example', displayName: null, accountEnabled: false, onPremisesSyncEnabled: true, lastChangedAt: 6, lastVerifiedAt: 8, lock: { by: 'alice', at: 6, revokedSessions: true } },
      { id: 'u3', userPrincipalName: 'u3@contoso.example', displayName: 'User Three', accountEnabled: true, onPremisesSyncEnabled: false, lastChangedAt: 9, lastVerifiedAt: 9, lock: null },
    ];
    const line = (value: unknown): string => {
      const json = JSON.stringify(value);
      return `${crc32(Buffer.from(json, 'utf8')).toString(16).padStart(8, '0')} ${json}\n`;
    };
    const usersDir = join(dir, USERS_DIR_NAME);
    const snapshotPath = join(usersDir, `${tenant.id}.snap.json`);
    const logPath = join(usersDir, `${tenant.id}.log`);
    await writeFile(snapshotPath, JSON.stringify({ schemaVersion: 1, tenantId: tenant.id, generation: 1, deltaLink: 'd-1', users: known.slice(0, 2) }));
    await writeFile(logPath, line({ schemaVersion: 1, tenantId: tenant.id, generation: 1 }) + line({ set: known.slice(2), deltaLink: 'd-2' }));
    const everyUser = async (): Promise<StoredUser[]> => (await store.listUsers(tenant.id, { limit: 1000 })).users.sort((a, b) => a.id.localeCompare(b.id));

    await reopen();
    assert.deepEqual(await everyUser(), known);

    // An append goes on in the version 1 log, as a tuple; the log is read again with both forms in it.
    await store.applyUserChanges(tenant.id, { observedAt: 20, users: [observed('u4')] });
    const [header, ...records] = (await readFile(logPath, 'utf8')).trimEnd().split('\n').map((text) => JSON.parse(text.slice(9)) as { schemaVersion?: number; set?: unknown[] });
    assert.equal(header?.schemaVersion, 1);
    assert.ok(Array.isArray(records.at(-1)?.set?.[0]), 'the appended user is a tuple');
    const withU4 = await everyUser();
    await reopen();
    assert.deepEqual(await everyUser(), withU4);

    // Compaction writes both files at version 2, the users as tuples, and loses no field.
    await reopen({ usersLogCompactionBytes: 1 });
    await store.applyUserChanges(tenant.id, { observedAt: 30, users: manyUsers(20) });
    await store.checkpoint();
    const snapshot = JSON.parse(await readFile(snapshotPath, 'utf8')) as { schemaVersion: number; users: unknown[] };
    assert.equal(snapshot.schemaVersion, USERS_FILE_SCHEMA_VERSION);
    assert.equal(snapshot.users.length, 24);
    assert.ok(snapshot.users.every((user) => Array.isArray(user)), 'every user a tuple');
    assert.equal((JSON.parse((await readFile(logPath, 'utf8')).slice(9)) as { schemaVersion: number }).schemaVersion, USERS_FILE_SCHEMA_VERSION);
    const all = await everyUser();
    assert.deepEqual(all.slice(0, 4), withU4);
    await reopen();
    assert.deepEqual(await everyUser(), all);
  });

  it('refuses a users file of a newer version as one of a newer m365-status, naming it', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-1' });
    await store.close();
    const snapshotPath = join(dir, USERS_DIR_NAME, `${tenant.id}.snap.json`);
    const newer = USERS_FILE_SCHEMA_VERSION + 1;
    await writeFile(snapshotPath, JSON.stringify({ schemaVersion: newer, tenantId: tenant.id, generation: 0, deltaLink: null, users: [] }));
    await assert.rejects(LowdbStore.open({ dataDir: dir, clock }), (error: AppError) => {
      assert.equal(error.code, 'STORE_SCHEMA_TOO_NEW');
      assert.ok(error.message.includes(snapshotPath), error.message);
      assert.match(error.message, new RegExp(`store schema ${newer}; this one understands up to ${USERS_FILE_SCHEMA_VERSION}`));
      return true;
    });
  });

  it('loads a users file of the earlier one-file format and moves it to a snapshot', async () => {
    const tenant = await addTenant();
    await store.close();
    const user = (id: string, lock: StoredUser['lock'] = null): StoredUser => ({
      id,
      userPrincipalName: `${id}@contoso.example`,
      displayName: `User ${id}`,
      accountEnabled: lock === null,
      onPremisesSyncEnabled: null,
      lastChangedAt: 5,
      lastVerifiedAt: 7,
      lock,
    });
    const legacyPath = join(dir, USERS_DIR_NAME, `${tenant.id}.json`);
    const users = { constructor: user('constructor'), u1: user('u1', { by: 'alice', at: 5, revokedSessions: true }) };
    await writeFile(legacyPath, JSON.stringify({ schemaVersion: 1, tenantId: tenant.id, deltaLink: 'd-old', users }));

    await reopen();
    assert.deepEqual((await store.listUsers(tenant.id)).users, [users.u1, users.constructor]);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-old');
    assert.deepEqual(await store.countUsers(tenant.id), { total: 2, enabled: 1, disabled: 0, locked: 1 });
    assert.deepEqual((await readdir(join(dir, USERS_DIR_NAME))).sort(), [`${tenant.id}.snap.json`]);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u2')], deltaLink: 'd-new' });
    await reopen();
    assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id), ['u1', 'constructor', 'u2']);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-new');
  });

  it('answers a lock during the compaction of a 100,000-user tenant without waiting for the snapshot, and keeps it', async () => {
    const tenant = await addTenant();
    const users = manyUsers(100_000);
    const snapshotPath = join(dir, USERS_DIR_NAME, `${tenant.id}.snap.json`);
    const nextLogPath = join(dir, USERS_DIR_NAME, `${tenant.id}.next.log`);
    // The first full round's record is larger than the (absent) snapshot: writing it starts a compaction.
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users, deltaLink: 'd-1', fullRound: true });
    const target = users[77_777];
    assert.ok(target);
    await store.recordUserLocked(tenant.id, target.id, { by: 'alice', revokedSessions: false });

    // Answered while the snapshot is still being written: the lock went to the new segment.
    await assert.rejects(stat(snapshotPath), { code: 'ENOENT' });
    assert.match(await readFile(nextLogPath, 'utf8'), new RegExp(`\\["${target.id}".*"kind":"lock"`));
    await store.checkpoint(); // waits for the compaction
    const snapshot = JSON.parse(await readFile(snapshotPath, 'utf8')) as { generation: number; users: unknown[] };
    assert.deepEqual([snapshot.generation, snapshot.users.length], [1, 100_000]);
    await assert.rejects(stat(nextLogPath), { code: 'ENOENT' }, 'the segment became the log');

    await reopen();
    assert.equal((await store.getUser(tenant.id, target.id))?.lock?.by, 'alice');
    assert.equal((await store.countUsers(tenant.id)).total, 100_000);
  });

  it('compacts a full round once, after its last page, not page by page, and a lock meanwhile starts none', async () => {
    await reopen({ usersLogCompactionBytes: 2048 });
    const tenant = await addTenant();
    const usersDir = join(dir, USERS_DIR_NAME);
    const logPath = join(usersDir, `${tenant.id}.log`);
    const snapshotPath = join(usersDir, `${tenant.id}.snap.json`);
    const users = manyUsers(300);
    const listed = new Set<string>();
    for (let page = 0; page < 5; page++) {
      const slice = users.slice(page * 50, page * 50 + 50);
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: slice, fullRound: true });
      for (const user of slice) listed.add(user.id);
      if (page === 2) await store.recordUserLocked(tenant.id, users[10]?.id ?? '', { by: 'alice', revokedSessions: false });
      await store.checkpoint();
      assert.ok((await stat(logPath)).size > 2048 * (page + 1), 'the log is past the size that asks for a compaction');
      await assert.rejects(stat(snapshotPath), { code: 'ENOENT' }, `no compaction after page ${page + 1} of the round`);
    }
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users.slice(250), deltaLink: 'd-1', fullRound: true, earlierUserIds: listed });
    await store.checkpoint(); // waits for the compaction the last page let go
    const snapshot = JSON.parse(await readFile(snapshotPath, 'utf8')) as { generation: number; users: unknown[]; deltaLink: string };
    assert.deepEqual([snapshot.generation, snapshot.users.length, snapshot.deltaLink], [1, 300, 'd-1']);

    await reopen();
    assert.equal((await store.countUsers(tenant.id)).total, 300);
    assert.equal((await store.getUser(tenant.id, users[10]?.id ?? ''))?.lock?.by, 'alice');
    assert.equal(await store.getDeltaLink(tenant.id), 'd-1');
  });

  it('keeps a full round\'s delta link on disk with its users when the compaction its last page let go fails', async () => {
    await reopen({ usersLogCompactionBytes: 1000 });
    const tenant = await addTenant();
    const users = manyUsers(60);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users.slice(0, 30), fullRound: true });
    // A directory where the snapshot goes: the compaction the last page lets go fails.
    const snapshotPath = join(dir, USERS_DIR_NAME, `${tenant.id}.snap.json`);
    await mkdir(snapshotPath);
    const earlierUserIds = new Set(users.slice(0, 30).map((user) => user.id));
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: users.slice(30), deltaLink: 'd-1', fullRound: true, earlierUserIds });
    await store.checkpoint(); // waits for the compaction
    assert.ok((await store.querySystemLog({ tenantId: tenant.id, level: 'error' })).length > 0, 'the compaction failed');
    await rm(snapshotPath, { recursive: true });

    await reopen();
    assert.equal((await store.countUsers(tenant.id)).total, 60);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-1', 'the link came back with the users it brought');
  });

  it('loads snapshot, log and the new segment in order when a crash came before the snapshot was in place', async () => {
    await reopen({ usersLogCompactionBytes: 2048 });
    const tenant = await addTenant();
    const usersDir = join(dir, USERS_DIR_NAME);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: manyUsers(3), deltaLink: 'd-1' });
    const snapshotBefore = await readdir(usersDir);
    // The next round outgrows the threshold: its compaction is interrupted by putting a directory where the snapshot goes.
    await mkdir(join(usersDir, `${tenant.id}.snap.json`));
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: manyUsers(20), deltaLink: 'd-2' });
    clock.advance(1_000);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('after')], deltaLink: 'd-3' });
    await store.close();
    assert.ok(!snapshotBefore.some((name) => name.endsWith('.next.log')));
    assert.ok((await readdir(usersDir)).includes(`${tenant.id}.next.log`), 'the change after the failed compaction went to the segment');
    await rm(join(usersDir, `${tenant.id}.snap.json`), { recursive: true });

    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000, usersLogCompactionBytes: 2048 });
    assert.equal((await store.countUsers(tenant.id)).total, 21);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-3');
    // Appends go on in the segment, and the next compaction folds it into a snapshot and makes it the log.
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: manyUsers(40), deltaLink: 'd-4' });
    await store.checkpoint();
    assert.ok(!(await readdir(usersDir)).some((name) => name.endsWith('.next.log')));
    await reopen();
    assert.equal((await store.countUsers(tenant.id)).total, 41);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-4');
  });

  it('loads from the new snapshot and ignores the older log when a crash came between a compaction’s two steps', async () => {
    await reopen({ usersLogCompactionBytes: 2048 });
    const tenant = await addTenant();
    const logPath = join(dir, USERS_DIR_NAME, `${tenant.id}.log`);
    const snapshotPath = join(dir, USERS_DIR_NAME, `${tenant.id}.snap.json`);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: manyUsers(3), deltaLink: 'd-1' });
    const olderLog = await readFile(logPath, 'utf8');
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: manyUsers(20), deltaLink: 'd-2' });
    await store.checkpoint();
    const snapshot = JSON.parse(await readFile(snapshotPath, 'utf8')) as { generation: number; users: unknown[] };
    assert.equal(snapshot.generation, 1, 'the second round compacted the log');
    assert.equal(snapshot.users.length, 20);
    await store.close();
    // The snapshot of generation 1 is in place; the log is still generation 0's, as the crash left them.
    await writeFile(logPath, olderLog);

    store = await LowdbStore.open({ dataDir: dir, clock, usersLogCompactionBytes: 2048 });
    assert.equal((await store.countUsers(tenant.id)).total, 20);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-2');
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('after')], deltaLink: 'd-3' });
    await reopen();
    assert.equal((await store.countUsers(tenant.id)).total, 21);
    assert.equal(await store.getDeltaLink(tenant.id), 'd-3');
  });

  it('tells listeners the changed users as a read answers them, so they need not read them again', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1'), observed('u2')], deltaLink: null });
    const events: StoreEvent[] = [];
    store.onDidChange((event) => events.push(event));
    clock.advance(1_000);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1', { accountEnabled: false })], removedUserIds: ['u2'], deltaLink: null });
    await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false });
    const usersEvents = events.filter((event) => event.type === 'users');
    assert.equal(usersEvents.length, 2);
    const [changed, locked] = usersEvents;
    assert.deepEqual(changed?.userIds, ['u1', 'u2']);
    assert.deepEqual(changed?.users?.map((u) => [u.id, u.accountEnabled, u.lock]), [['u1', false, null]], 'the removed user is only an id');
    assert.deepEqual(locked?.users, [await store.getUser(tenant.id, 'u1')]);
  });

  it('searches the names as they are after a rename, and never across the two names', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('a', { displayName: 'Ann Smith' }), observed('b', { displayName: 'Bob' })], deltaLink: null });
    const search = async (text: string) => (await store.listUsers(tenant.id, { text })).users.map((u) => u.id);
    assert.deepEqual(await search('SMITH'), ['a']);
    clock.advance(1_000);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('a', { displayName: 'Ann Jones' })], deltaLink: null });
    assert.deepEqual(await search('smith'), []);
    assert.deepEqual(await search('jones'), ['a']);
    assert.deepEqual(await search('example\nann'), [], 'the end of one name and the start of the other are not one text');
  });

  it('keeps counts and the page order right through every kind of change, and after a reopen', async () => {
    const tenant = await addTenant();
    await store.applyUserChanges(tenant.id, {
      observedAt: clock.now(),
      users: [observed('a', { displayName: 'Zed' }), observed('b', { displayName: 'amy' }), observed('c', { displayName: 'Émile', accountEnabled: false }), observed('d', { displayName: null })],
      deltaLink: null,
      fullRound: true,
    });
    const state = async () => ({
      counts: await store.countUsers(tenant.id),
      order: (await store.listUsers(tenant.id)).users.map((u) => u.id),
    });
    assert.deepEqual(await state(), { counts: { total: 4, enabled: 3, disabled: 1, locked: 0 }, order: ['c', 'b', 'd', 'a'] });
    clock.advance(1_000);
    await store.recordUserLocked(tenant.id, 'a', { by: 'alice', revokedSessions: false });
    assert.deepEqual(await state(), { counts: { total: 4, enabled: 2, disabled: 1, locked: 1 }, order: ['a', 'c', 'b', 'd'] });
    clock.advance(1_000);
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('b', { displayName: 'Zoe' })], removedUserIds: ['c'], deltaLink: null });
    assert.deepEqual(await state(), { counts: { total: 3, enabled: 2, disabled: 0, locked: 1 }, order: ['a', 'd', 'b'] });
    clock.advance(1_000);
    await store.recordUserUnlocked(tenant.id, 'a', 'alice');
    assert.deepEqual(await state(), { counts: { total: 3, enabled: 3, disabled: 0, locked: 0 }, order: ['d', 'a', 'b'] });
    const before = await state();
    await reopen();
    assert.deepEqual(await state(), before);
  });
});

describe('UsersLog on its own', function () {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
  });

  afterEach(async () => {
    await cleanup();
  });

  describe('a load given a listing of the users directory', () => {
    const noCompaction = (): SnapshotToWrite => {
      throw new Error('no compaction in this test');
    };

    it('looks only for the files the listing showed, reads those as before, and takes an unlisted file as absent', async () => {
      const user: StoredUser = { ...observed('u1'), lastChangedAt: 1, lastVerifiedAt: 1, lock: null };
      const written = new UsersLog(dir, 't1', noCompaction);
      await written.load(async () => null);
      await written.append({ set: [user] });
      const listed = new Set(await readdir(dir));
      assert.deepEqual([...listed], ['t1.log'], 'a log and no snapshot: the common case after a first sync');

      const asked: string[] = [];
      const loaded = await new UsersLog(dir, 't1', noCompaction).load(async () => null, undefined, (path) => {
        asked.push(basename(path));
        return listed.has(basename(path));
      });
      assert.deepEqual(loaded.records.map((record) => record.set?.map(userOnDisk)), [[user]]);
      assert.deepEqual([...new Set(asked)].sort(), ['t1.log', 't1.next.log', 't1.snap.json'], 'the listing answers for the tenant\'s three files');

      const unlisted = await new UsersLog(dir, 't1', noCompaction).load(async () => null, undefined, () => false);
      assert.deepEqual(unlisted.records, [], 'not listed means not there: the disk is not asked');
    });
  });

  describe('a snapshot on request', () => {
    it('takes its snapshot after the compaction under way, which froze memory before the request', async () => {
      const user = (id: string): StoredUser => ({ ...observed(id), lastChangedAt: 1, lastVerifiedAt: 1, lock: null });
      const memory: StoredUser[] = [];
      let taken = 0;
      const takeSnapshot = (): SnapshotToWrite => {
        taken++;
        const frozen = [...memory];
        return { schemaVersion: USERS_FILE_SCHEMA_VERSION, tenantId: 't1', generation: 0, deltaLink: `d-${taken}`, users: { length: frozen.length, slice: (start, end) => frozen.slice(start, end) } };
      };
      const log = new UsersLog(dir, 't1', takeSnapshot, 100);
      await log.load(async () => null);
      memory.push(user('u1'));
      // Past 100 bytes: a compaction starts as the append ends, and is writing its snapshot when this goes on.
      await log.append({ set: [user('u1')] });
      assert.equal(taken, 1);
      memory.push(user('u2'));
      await log.snapshotNow();
      assert.equal(taken, 2, 'a snapshot of its own, taken after the one under way');
      const snapshot = JSON.parse(await readFile(join(dir, 't1.snap.json'), 'utf8')) as { generation: number; deltaLink: string; users: UserTuple[] };
      assert.deepEqual([snapshot.generation, snapshot.deltaLink, snapshot.users.map((tuple) => tuple[0])], [2, 'd-2', ['u1', 'u2']]);
      await log.idle();
      assert.deepEqual((await readdir(dir)).sort(), ['t1.log', 't1.snap.json']);
    });
  });
});

describe('LowdbStore: users log through kill -9 (real child processes)', function () {
  this.timeout(120_000);

  it('loads after SIGKILL during appends and compactions with every acknowledged round', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      let lastAcked = -1;
      const acked: number[] = [];
      for (let kill = 0; kill < 8; kill++) {
        const child = spawnTypeScript(new URL('./fixtures/usersHammer.ts', import.meta.url), [dir, String(kill * 10_000)]);
        const want = 20 + Math.floor(Math.random() * 80);
        await new Promise<void>((resolve, reject) => {
          let buffered = '';
          let seen = 0;
          let stderr = '';
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
          child.stdout.on('data', (chunk: Buffer) => {
            buffered += chunk.toString('utf8');
            const lines = buffered.split('\n');
            buffered = lines.pop() ?? '';
            for (const line of lines) {
              const match = /^round (\d+)$/.exec(line);
              if (!match) continue;
              lastAcked = Number(match[1]);
              acked.push(lastAcked);
              if (++seen === want) {
                child.kill('SIGKILL');
                resolve();
              }
            }
          });
          child.once('exit', (code, signal) => {
            if (signal !== 'SIGKILL') reject(new Error(`hammer exited on its own (${code}): ${stderr}`));
          });
        });
        await killHard(child);

        const store = await LowdbStore.open({ dataDir: dir });
        try {
          const tenant = (await store.listTenants())[0];
          assert.ok(tenant);
          const missing: string[] = [];
          for (const round of acked) {
            for (let k = 0; k < 10; k++) if (!(await store.getUser(tenant.id, `u${round}-${k}`))) missing.push(`u${round}-${k}`);
          }
          assert.deepEqual(missing, [], `after kill ${kill}: acknowledged users lost`);
          const renamed = Number((await store.getUser(tenant.id, 'renamed'))?.displayName?.replace('round ', '') ?? -1);
          assert.ok(renamed >= lastAcked, `after kill ${kill}: the last acknowledged rename (${lastAcked}) was lost (${renamed})`);
          const counts = await store.countUsers(tenant.id);
          assert.equal(counts.total, (await store.listUsers(tenant.id, { limit: 1_000_000 })).users.length);
        } finally {
          await store.close();
        }
      }
      const snapshot = JSON.parse(await readFile(join(dir, USERS_DIR_NAME, `${(await usersTenantId(dir))}.snap.json`), 'utf8')) as { generation: number };
      // At least 160 rounds of about 2 KB against a 16 KB threshold that grows with the snapshot: several compactions.
      assert.ok(snapshot.generation > 2, `only ${snapshot.generation} compactions happened`);
    } finally {
      await cleanup();
    }
  });
});

async function usersTenantId(dir: string): Promise<string> {
  const log = (await readdir(join(dir, USERS_DIR_NAME))).find((name) => name.endsWith('.log') && !name.endsWith('.next.log'));
  assert.ok(log);
  return log.slice(0, -'.log'.length);
}
