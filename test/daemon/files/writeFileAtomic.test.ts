import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { tempPathFor, writeFileAtomic } from '../../../daemon/files/writeFileAtomic';
import { tempDataDir } from '../../support/tempDataDir';
import { withFileSizeLimit } from '../../support/withFileSizeLimit';

describe('files: writeFileAtomic', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let umask: number;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
    // The most permissive umask there is: a plain writeFile would create 0666.
    umask = process.umask(0o000);
  });

  afterEach(async () => {
    process.umask(umask);
    await cleanup();
  });

  it('creates the file with mode 0600 whatever the umask, and replaces it keeping 0600', async () => {
    const path = join(dir, 'data.json');
    await writeFileAtomic(path, '{"a":1}');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    await writeFileAtomic(path, '{"a":2}');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), '{"a":2}');
    assert.deepEqual(await readdir(dir), ['data.json'], 'no temp file is left behind');
  });

  it('resets the mode of a temp file a crashed run left with another mode', async () => {
    const path = join(dir, 'data.json');
    await writeFile(tempPathFor(path), 'half-written', { mode: 0o666 });
    await writeFileAtomic(path, 'whole');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), 'whole');
  });

  it('writes content given in pieces whole, strings and bytes, across several flushes to disk', async () => {
    const path = join(dir, 'snapshot.json');
    const pieces: Array<string | Buffer> = [];
    // Over three mebibytes, so that it reaches the disk in more than one step.
    for (let i = 0; i < 50; i++) pieces.push(i % 2 === 0 ? `{"n":${i},"name":"Zoë ${'x'.repeat(70_000)}"},` : Buffer.from('y'.repeat(65_000)));
    await writeFileAtomic(path, pieces);
    const expected = Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
    assert.ok(expected.length > 3 * 1024 * 1024);
    assert.deepEqual(await readFile(path), expected);
    assert.deepEqual(await readdir(dir), ['snapshot.json'], 'no temp file is left behind');
  });

  it('fails, keeping the old file, when the disk takes only part of the last piece', async () => {
    const path = join(dir, 'snapshot.json');
    await writeFile(path, 'the old snapshot');
    // The limit falls inside the second piece: its write takes 500 of its 1,000 bytes, and no error says so.
    await assert.rejects(
      withFileSizeLimit(1_500, () => writeFileAtomic(path, ['a'.repeat(1_000), Buffer.from('b'.repeat(1_000))])),
      { code: 'EFBIG' },
    );
    assert.equal(await readFile(path, 'utf8'), 'the old snapshot');
    assert.deepEqual(await readdir(dir), ['snapshot.json'], 'the unfinished temp file is removed');
  });

  it('closes every file and directory it opens, though it resolves before the closes end', async function () {
    // Where the open descriptors can be counted.
    if (process.platform !== 'linux') this.skip();
    const open = async () => (await readdir('/proc/self/fd')).length;
    const path = join(dir, 'data.json');
    await writeFileAtomic(path, 'warm');
    await sleep(50);
    const before = await open();
    for (let i = 0; i < 50; i++) await writeFileAtomic(path, `{"n":${i}}`);
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'data.json'), 'x'), { code: 'ENOENT' });
    await sleep(50);
    assert.equal(await open(), before);
    assert.equal(await readFile(path, 'utf8'), '{"n":49}');
  });
});
