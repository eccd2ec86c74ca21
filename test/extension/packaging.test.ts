import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('packaging (.vscodeignore, as vsce sees it)', function () {
  this.timeout(60_000);

  it('puts the bundled extension, daemon and webview in the .vsix, and no source, test or simulator', async () => {
    const { stdout } = await run(process.execPath, ['node_modules/@vscode/vsce/vsce', 'ls', '--no-dependencies'], { cwd: repoRoot });
    const files = stdout.split('\n').map((line) => line.trim()).filter(Boolean).sort();
    assert.deepEqual(files, ['LICENSE', 'README.md', 'dist/daemon.cjs', 'dist/extension.cjs', 'dist/webview/credentialHealth.js', 'package.json']);
  });
});
