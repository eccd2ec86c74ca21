import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AppError } from '../../../daemon/errors/AppError';
import { acquireDataDirLock, LOCK_FILE_NAME } from '../../../daemon/store/dataDirLock';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import { killHard, spawnTypeScript, waitForLine } from '../../support/childProcess';
import { tempDataDir } from '../../support/tempDataDir';

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid;
}

describe('store: data directory lock', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
  });

  afterEach(() => cleanup());

  it('refuses a second daemon while another process holds the data directory, naming its pid', async () => {
    const other = spawnTypeScript(new URL('./fixtures/openStoreAndWait.ts', import.meta.url), [dir]);
    try {
      await waitForLine(other, /^open$/);
      await assert.rejects(LowdbStore.open({ dataDir: dir }), (error: AppError) => {
        assert.equal(error.code, 'DATA_DIR_LOCKED');
        assert.match(error.message, new RegExp(`Another m365-status daemon \\(pid ${other.pid}`));
        assert.match(error.message, /M365_STATUS_DATA_DIR/);
        return true;
      });
    } finally {
      await killHard(other);
    }
    // Once the holder is gone (even by kill -9), its lock is stale and taken over.
    const store = await LowdbStore.open({ dataDir: dir });
    await store.close();
  });

  it('refuses a second store in the same process', async () => {
    const store = await LowdbStore.open({ dataDir: dir });
    try {
      await assert.rejects(LowdbStore.open({ dataDir: dir }), /Another m365-status daemon \(pid \d+/);
    } finally {
      await store.close();
    }
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const pid = deadPid();
    await writeFile(join(dir, LOCK_FILE_NAME), JSON.stringify({ pid, hostname: hostname(), startedAt: 1, token: 'old' }));
    const lock = await acquireDataDirLock(dir);
    const held = JSON.parse(await readFile(join(dir, LOCK_FILE_NAME), 'utf8')) as { pid: number };
    assert.equal(held.pid, process.pid);
    await lock.release();
  });

  it('takes over a lock file that holds garbage', async () => {
    await writeFile(join(dir, LOCK_FILE_NAME), '');
    const lock = await acquireDataDirLock(dir);
    assert.equal(lock.holder.pid, process.pid);
    assert.equal((await stat(lock.path)).mode & 0o777, 0o600);
    await lock.release();
  });

  it('lets simultaneous starters on a stale lock end with exactly one holder, every time', async () => {
    // Many times over: the race this guards against (a live lock taken out for a moment by a starter that
    // read the stale one) shows only in some orders of the starters' steps.
    const pid = deadPid();
    for (let round = 0; round < 40; round++) {
      await writeFile(join(dir, LOCK_FILE_NAME), JSON.stringify({ pid, hostname: hostname(), startedAt: 1, token: 'old' }));
      const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => acquireDataDirLock(dir)));
      const winners = attempts.filter((a) => a.status === 'fulfilled');
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} starters hold the lock`);
      for (const attempt of attempts) {
        if (attempt.status === 'rejected') assert.equal((attempt.reason as AppError).code, 'DATA_DIR_LOCKED');
      }
      const held = JSON.parse(await readFile(join(dir, LOCK_FILE_NAME), 'utf8')) as { token: string };
      const winner = winners[0];
      assert.ok(winner?.status === 'fulfilled');
      assert.equal(held.token, winner.value.holder.token);
      await winner.value.release();
    }
  });

  it('releases only its own lock', async () => {
    const lock = await acquireDataDirLock(dir);
    await writeFile(lock.path, JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: 1, token: 'someone-else' }));
    await lock.release();
    assert.match(await readFile(lock.path, 'utf8'), /someone-else/);
  });
});
