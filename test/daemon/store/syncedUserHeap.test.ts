import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const fixture = fileURLToPath(new URL('./fixtures/syncedUserHeap.ts', import.meta.url));

describe('storeRecords: the heap of a user as a sync builds it', () => {
  it('builds a user first seen or seen again in under 200 bytes besides its strings (built from a spread of the observed fields, 423)', async () => {
    // A process of its own, with --expose-gc, so that full collections make the measure exact.
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', fixture], { timeout: 120_000 });
    const { firstSeen, seenAgain } = JSON.parse(stdout) as { firstSeen: number; seenAgain: number };
    assert.ok(firstSeen < 200, `a user first seen costs ${firstSeen.toFixed(1)} bytes of heap`);
    assert.ok(seenAgain < 200, `a user seen again costs ${seenAgain.toFixed(1)} bytes of heap`);
  });
});
