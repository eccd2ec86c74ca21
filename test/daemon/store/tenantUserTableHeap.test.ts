import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const fixture = fileURLToPath(new URL('./fixtures/userTableHeap.ts', import.meta.url));

describe('TenantUserTable: the heap a user costs', () => {
  it('keeps a user in under 160 bytes besides its strings (a row of nine fields and two boxed times cost 182)', async () => {
    // A process of its own, with --expose-gc, so that full collections make the measure exact.
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', fixture], { timeout: 120_000 });
    const { bytesPerUser } = JSON.parse(stdout) as { bytesPerUser: number };
    assert.ok(bytesPerUser < 160, `a user costs ${bytesPerUser.toFixed(1)} bytes of heap besides its strings`);
  });
});
