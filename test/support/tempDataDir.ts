import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory on the real file system, removed by `cleanup`. */
export async function tempDataDir(label = 'm365-status'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `${label}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
