import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReusedReadBuffer } from '../../../daemon/store/reusedReadBuffer';
import { tempDataDir } from '../../support/tempDataDir';

describe('ReusedReadBuffer', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir('reused-read'));
  });

  afterEach(() => cleanup());

  it('reads a file whole, and answers null for a file that is not there', async () => {
    const bytes = randomBytes(100_000);
    await writeFile(join(dir, 'a'), bytes);
    const reader = new ReusedReadBuffer();
    assert.deepEqual(await reader.read(join(dir, 'a')), bytes);
    assert.equal(await reader.read(join(dir, 'missing')), null);
    await writeFile(join(dir, 'empty'), '');
    assert.equal((await reader.read(join(dir, 'empty')))?.length, 0);
  });

  it('reads the next file into the same memory, and a smaller one after a larger shows nothing of the larger', async () => {
    const large = randomBytes(300_000);
    const small = Buffer.from('{"a":1}\n');
    await writeFile(join(dir, 'large'), large);
    await writeFile(join(dir, 'small'), small);
    const reader = new ReusedReadBuffer();
    const first = await reader.read(join(dir, 'large'));
    assert.deepEqual(first, large);
    const second = await reader.read(join(dir, 'small'));
    assert.deepEqual(second, small);
    assert.equal(second?.buffer, first?.buffer, 'the second file was read into the memory of the first');
  });

  it('grows for a file larger than any before it', async () => {
    const reader = new ReusedReadBuffer();
    for (const size of [10, 1_000, 64 * 1024 + 1, 2_000_000, 5]) {
      const bytes = randomBytes(size);
      await writeFile(join(dir, `f${size}`), bytes);
      assert.deepEqual(await reader.read(join(dir, `f${size}`)), bytes, `${size} bytes`);
    }
  });

  it('reads a pipe to its end, as it reads a file', async () => {
    const path = join(dir, 'pipe');
    execFileSync('mkfifo', [path]);
    const bytes = randomBytes(200_000);
    const writing = writeFile(path, bytes);
    assert.deepEqual(await new ReusedReadBuffer().read(path), bytes);
    await writing;
  });

  it('is an error, not an absent file, for a path it cannot read', async () => {
    await mkdir(join(dir, 'folder'));
    await assert.rejects(new ReusedReadBuffer().read(join(dir, 'folder')), { code: 'EISDIR' });
  });
});
