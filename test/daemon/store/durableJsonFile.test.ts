import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableJsonFile } from '../../../daemon/store/durableJsonFile';
import { tempDataDir } from '../../support/tempDataDir';

describe('store: DurableJsonFile (lowdb adapter)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
  });

  afterEach(() => cleanup());

  it('coalesces a burst of writes into at most two, and each caller resolves with its state on disk', async () => {
    const file = new DurableJsonFile<{ n: number }>(join(dir, 'a.json'));
    const acknowledged: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, n) => {
        await file.write({ n });
        const onDisk = JSON.parse(await readFile(file.path, 'utf8')) as { n: number };
        assert.ok(onDisk.n >= n, `write ${n} resolved before a state containing it was on disk (found ${onDisk.n})`);
        acknowledged.push(n);
      }),
    );
    assert.equal(acknowledged.length, 50);
    assert.ok(file.writeCount <= 2, `expected at most 2 writes, got ${file.writeCount}`);
    assert.deepEqual(JSON.parse(await readFile(file.path, 'utf8')), { n: 49 });
  });

  it('does not touch the file when the state has not changed', async () => {
    const file = new DurableJsonFile<{ n: number }>(join(dir, 'a.json'));
    await file.write({ n: 1 });
    const before = await stat(file.path);
    await file.write({ n: 1 });
    const reopened = new DurableJsonFile<{ n: number }>(file.path);
    assert.deepEqual(await reopened.read(), { n: 1 });
    await reopened.write({ n: 1 });
    const after = await stat(file.path);
    assert.equal(after.ino, before.ino, 'the file was replaced');
    assert.equal(file.writeCount, 1);
    assert.equal(reopened.writeCount, 0);
  });

  it('writes each state as its own bytes: a shorter one after a longer, names outside ASCII, one queued behind another', async () => {
    const file = new DurableJsonFile<{ name: string }>(join(dir, 'a.json'));
    const onDisk = async () => readFile(file.path, 'utf8');
    await file.write({ name: 'x'.repeat(5_000) });
    await file.write({ name: 'short' });
    assert.equal(await onDisk(), JSON.stringify({ name: 'short' }), 'bytes of the longer state were left behind');
    // As many characters as an ASCII state before it, more bytes: the length in bytes decides what is written.
    await file.write({ name: 'a'.repeat(18) });
    await file.write({ name: 'Zoë Łukasiewicz 東京' });
    assert.deepEqual(JSON.parse(await onDisk()), { name: 'Zoë Łukasiewicz 東京' });
    // The second write is queued while the first is on its way to the disk, then written after it.
    const longer = JSON.stringify({ name: 'first '.repeat(10_000) });
    const first = file.write({ name: 'first '.repeat(10_000) });
    const second = file.write({ name: 'second' });
    await first;
    // By now the second may have replaced it, but neither may hold bytes of the other.
    assert.ok([longer, JSON.stringify({ name: 'second' })].includes(await onDisk()), 'the write in flight was changed by the one queued behind it');
    await second;
    assert.equal(await onDisk(), JSON.stringify({ name: 'second' }));
    assert.equal(file.writeCount, 6);
  });

  it('refuses to read a file that is not JSON, naming it', async () => {
    const path = join(dir, 'broken.json');
    await new DurableJsonFile<string>(path).write('x');
    await writeFile(path, '{"tenants": [');
    await assert.rejects(new DurableJsonFile(path).read(), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'STORE_UNREADABLE');
      assert.match(error.message, /broken\.json is not valid JSON/);
      return true;
    });
  });
});
