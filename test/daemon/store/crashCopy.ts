import { cp } from 'node:fs/promises';
import { LOCK_FILE_NAME } from '../../../daemon/store/dataDirLock';
import { LowdbStore, type LowdbStoreOptions } from '../../../daemon/store/lowdbStore';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';

/**
 * The store a crash would leave: a copy of the files in `dir` as they are now (without the lock, so the copy is
 * another directory owned by no one yet), opened. `close` closes it and removes the copy. Temp files are left
 * out: a start removes them anyway, and one renamed into place while the copy is made would fail it.
 */
export async function crashCopy(dir: string, options: Omit<LowdbStoreOptions, 'dataDir'> = {}): Promise<{ store: LowdbStore; dir: string; close: () => Promise<void> }> {
  const copy = await tempDataDir();
  await cp(dir, copy.dir, { recursive: true, filter: (source) => !source.endsWith(LOCK_FILE_NAME) && !source.endsWith('.tmp') });
  const store = await LowdbStore.open({ clock: new ManualClock(), ...options, dataDir: copy.dir });
  return {
    store,
    dir: copy.dir,
    close: async () => {
      await store.close();
      await copy.cleanup();
    },
  };
}
