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
