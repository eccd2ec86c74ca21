import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../../daemon/logging/logger';
import { LowdbStore, USERS_DIR_NAME } from '../../../daemon/store/lowdbStore';
import { INTERRUPTED_BY_RESTART, TaskRunner } from '../../../daemon/tasks/taskRunner';
import { killHard, spawnTypeScript } from '../../support/childProcess';
import { tempDataDir } from '../../support/tempDataDir';

const ROUNDS = 6;

interface Acknowledged {
  users: string[];
  tasks: string[];
  logs: string[];
}

/**
 * Runs a hammer fixture, hands each line it prints (split into words) to `onLine`, and kills it with
 * SIGKILL the first time `onLine` answers true: mid-stream on purpose, while more writes are in flight.
 */
async function runUntilKilled(fixture: string, args: string[], onLine: (words: string[]) => boolean): Promise<void> {
  const child = spawnTypeScript(new URL(`./fixtures/${fixture}`, import.meta.url), args);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        // Lines already printed were acknowledged before the kill: each is handed on, even after it.
        if (onLine(line.split(' ')) && !child.killed) {
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
}

/** Runs the hammer until it has acknowledged `count` changes, kills it with SIGKILL, returns its acks. */
async function hammerAndKill(dataDir: string, firstIndex: number, count: number): Promise<Acknowledged> {
  const acked: Acknowledged = { users: [], tasks: [], logs: [] };
  let seen = 0;
  await runUntilKilled('storeHammer.ts', [dataDir, String(firstIndex)], ([kind, value = '']) => {
    if (kind === 'user') acked.users.push(value);
    else if (kind === 'task') acked.tasks.push(value);
    else if (kind === 'log') acked.logs.push(`log ${value}`);
    else return false;
    return ++seen === count;
  });
  return acked;
}

describe('store: kill -9 durability (real child processes)', function () {
  this.timeout(60_000);

  it('loads after SIGKILL at random moments, keeps every acknowledged change, and leaves no task IN_PROGRESS', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const all: Acknowledged = { users: [], tasks: [], logs: [] };
      for (let round = 0; round < ROUNDS; round++) {
        const acked = await hammerAndKill(dir, round * 100_000, 10 + Math.floor(Math.random() * 60));
        all.users.push(...acked.users);
        all.tasks.push(...acked.tasks);
        all.logs.push(...acked.logs);

        // Every file parses and validates, and nothing acknowledged is missing.
        const store = await LowdbStore.open({ dataDir: dir });
        try {
          const tenant = (await store.listTenants())[0];
          assert.ok(tenant, `round ${round}: the tenant is gone`);
          const present = await Promise.all(all.users.map((id) => store.getUser(tenant.id, id)));
          const missingUsers = all.users.filter((_id, i) => !present[i]);
          assert.deepEqual(missingUsers, [], `round ${round}: acknowledged users lost`);
          const recorded = await Promise.all(all.tasks.map((id) => store.getTask(id)));
          const missingTasks = all.tasks.filter((_id, i) => !recorded[i]);
          assert.deepEqual(missingTasks, [], `round ${round}: acknowledged tasks lost`);
          const messages = new Set((await store.querySystemLog({ limit: 1_000_000 })).map((e) => e.message));
          assert.deepEqual(all.logs.filter((m) => !messages.has(m)), [], `round ${round}: acknowledged log entries lost`);

          const runner = new TaskRunner({ store, logger: createLogger({ write: () => undefined }), maxConcurrent: 1 });
          await runner.recoverInterruptedTasks();
          assert.deepEqual(await store.listTasks({ includeAutomated: true, status: 'IN_PROGRESS', limit: 1_000_000 }), []);
          for (const id of acked.tasks) {
            const task = await store.getTask(id);
            assert.equal(task?.status, 'ERROR');
            assert.equal(task?.error?.message, INTERRUPTED_BY_RESTART);
          }
        } finally {
          await store.close();
        }
      }
      assert.ok(all.users.length > 0 && all.tasks.length > 0 && all.logs.length > 0);
      const leftovers = [...(await readdir(dir)), ...(await readdir(join(dir, USERS_DIR_NAME)))].filter((n) => n.endsWith('.tmp'));
      assert.deepEqual(leftovers, []);
      assert.match(await readFile(join(dir, 'store.json'), 'utf8'), /"schemaVersion": 2/);
    } finally {
      await cleanup();
    }
  });
  it('keeps every acknowledged lock and unlock, with its activity, through SIGKILL before store.json is written and during compactions', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const activityIds: string[] = [];
      const touched = new Set<string>();
      for (let round = 0; round < ROUNDS; round++) {
        const want = 10 + Math.floor(Math.random() * 80);
        let seen = 0;
        await runUntilKilled('lockHammer.ts', [dir, String(round * 100_000)], ([verb, userId, activityId]) => {
          if ((verb !== 'lock' && verb !== 'unlock') || !userId || !activityId) return false;
          touched.add(userId);
          activityIds.push(activityId);
          return ++seen === want;
        });

        const store = await LowdbStore.open({ dataDir: dir, checkpointIntervalMs: 3_600_000 });
        try {
          const tenant = (await store.listTenants())[0];
          assert.ok(tenant, `round ${round}: the tenant is gone`);
          const activities = await store.listActivities({ tenantId: tenant.id, limit: 1_000_000 });
          const kept = new Set(activities.map((a) => a.id));
          assert.deepEqual(activityIds.filter((id) => !kept.has(id)), [], `round ${round}: activities of acknowledged locks lost`);
          // A change cut by the kill may be on disk or not, but never the user's state without its activity:
          // each user is as the newest activity about it says.
          for (const userId of touched) {
            const newest = activities.find((a) => a.userId === userId);
            const user = await store.getUser(tenant.id, userId);
            assert.equal(user?.lock !== null && user?.accountEnabled === false, newest?.kind === 'lock', `round ${round}: ${userId} disagrees with its newest activity`);
          }
          const seqs = activities.map((a) => a.seq);
          assert.equal(new Set(seqs).size, seqs.length, `round ${round}: two activities share a number`);
        } finally {
          // Closing writes store.json, so each round starts from one that holds what the earlier rounds restored.
          await store.close();
        }
      }
      assert.ok(activityIds.length > 0);
    } finally {
      await cleanup();
    }
  });

  it('keeps every acknowledged registration and removal through SIGKILL in the middle of journal appends and store.json writes', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const added = new Set<string>();
      const removed = new Set<string>();
      const removing = new Set<string>();
      for (let round = 0; round < ROUNDS; round++) {
        const want = 10 + Math.floor(Math.random() * 80);
        let seen = 0;
        await runUntilKilled('registrationHammer.ts', [dir, String(round * 100_000)], ([verb, id]) => {
          if (!id) return false;
          if (verb === 'removing') removing.add(id);
          if (verb === 'removed') removed.add(id);
          if (verb !== 'added') return false;
          added.add(id);
          return ++seen === want;
        });

        const store = await LowdbStore.open({ dataDir: dir, checkpointIntervalMs: 3_600_000 });
        try {
          const present = new Set((await store.listTenants()).map((t) => t.id));
          // A removal cut by the kill may have reached the disk or not; any other tenant is as acknowledged.
          const settled = [...added].filter((id) => !removing.has(id) || removed.has(id));
          assert.deepEqual(settled.filter((id) => !removed.has(id) && !present.has(id)), [], `round ${round}: acknowledged registrations lost`);
          assert.deepEqual([...removed].filter((id) => present.has(id)), [], `round ${round}: removed tenants came back`);
          const seqs = (await store.listActivities({ limit: 1_000_000 })).map((a) => a.seq);
          assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), `round ${round}: activities out of order`);
          assert.equal(new Set(seqs).size, seqs.length, `round ${round}: two activities share a number`);
          for (const id of removing) if (!present.has(id)) removed.add(id);
          removing.clear();
        } finally {
          await store.close();
        }
      }
      assert.ok(added.size > 0 && removed.size > 0);
    } finally {
      await cleanup();
    }
  });

  it('keeps every acknowledged lock and rename through SIGKILL in the middle of a compaction, with appends going on meanwhile', async function () {
    this.timeout(180_000);
    const { dir, cleanup } = await tempDataDir();
    try {
      const activityIds: string[] = [];
      const touched = new Set<string>();
      let lastRound = 0;
      let killsMidCompaction = 0;
      for (let kill = 0; kill < 12 && (kill < 4 || killsMidCompaction === 0); kill++) {
        const want = 5 + Math.floor(Math.random() * 40);
        let seen = 0;
        await runUntilKilled('compactionHammer.ts', [dir, String(kill * 100_000)], ([verb, id, activityId, compacting]) => {
          if (verb === 'round' && id) lastRound = Number(id);
          if ((verb !== 'lock' && verb !== 'unlock') || !id || !activityId) return false;
          touched.add(id);
          activityIds.push(activityId);
          // Right after an append acknowledged during a compaction, more are in flight and the snapshot is not yet in place.
          return ++seen >= want && (compacting === 'compacting' || seen >= want + 500);
        });
        // The segment appends go to while a snapshot is written: there only until the compaction finishes.
        const files = await readdir(join(dir, USERS_DIR_NAME));
        if (files.some((name) => name.endsWith('.next.log'))) killsMidCompaction++;

        const store = await LowdbStore.open({ dataDir: dir, checkpointIntervalMs: 3_600_000 });
        try {
          const tenant = (await store.listTenants())[0];
          assert.ok(tenant, `kill ${kill}: the tenant is gone`);
          const activities = await store.listActivities({ tenantId: tenant.id, limit: 1_000_000 });
          const kept = new Set(activities.map((a) => a.id));
          assert.deepEqual(activityIds.filter((id) => !kept.has(id)), [], `kill ${kill}: activities of acknowledged locks lost`);
          for (const userId of touched) {
            const newest = activities.find((a) => a.userId === userId);
            const user = await store.getUser(tenant.id, userId);
            assert.equal(user?.lock !== null && user?.accountEnabled === false, newest?.kind === 'lock', `kill ${kill}: ${userId} disagrees with its newest activity`);
          }
          assert.equal((await store.countUsers(tenant.id)).total, 5_000, `kill ${kill}: users lost`);
          const renamedIn = Number((await store.getUser(tenant.id, 'p4999'))?.displayName?.split(' round ')[1] ?? -1);
          assert.ok(renamedIn >= lastRound, `kill ${kill}: the last acknowledged rename (round ${lastRound}) was lost (${renamedIn})`);
        } finally {
          await store.close();
        }
      }
      assert.ok(killsMidCompaction > 0, 'no kill landed in the middle of a compaction');
    } finally {
      await cleanup();
    }
  });
});
