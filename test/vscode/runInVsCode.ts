// `npm run test:vscode`: runs test/vscode/inEditorSuite.ts inside a desktop VS Code downloaded by
// @vscode/test-electron, with the extension from this checkout and the product (simulator + daemon)
// started locally. It needs to download VS Code, so it cannot run on machines without internet access;
// the code-server suite (`npm run test:e2e`) is the one CI runs.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { repoRoot } from '../../scripts/local/codeServer.mjs';
import { startLocalProduct } from '../../scripts/local/localProduct.mjs';

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'm365-vscode-tests-'));
  const product = await startLocalProduct({ dataDir: join(dir, 'product'), pollInterval: '5s' });
  try {
    const userDataDir = join(dir, 'user-data');
    await mkdir(join(userDataDir, 'User'), { recursive: true });
    await writeFile(
      join(userDataDir, 'User', 'settings.json'),
      JSON.stringify({ 'm365Status.daemon.dataDirectory': product.daemonDir, 'm365Status.daemon.autoStart': false, 'security.workspace.trust.enabled': false }),
    );
    const workspace = join(dir, 'workspace');
    await mkdir(workspace, { recursive: true });
    await runTests({
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(repoRoot, 'dist', 'test', 'vscodeSuite.cjs'),
      launchArgs: [workspace, '--disable-extensions', '--user-data-dir', userDataDir],
      extensionTestsEnv: { M365_STATUS_TEST_DAEMON_DIR: product.daemonDir },
    });
  } finally {
    await product.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
