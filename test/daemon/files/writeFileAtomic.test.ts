import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempPathFor, writeFileAtomic } from '../../../daemon/files/writeFileAtomic';
import { tempDataDir } from '../../support/tempDataDir';

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
});
