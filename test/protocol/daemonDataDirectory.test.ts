import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDaemonEndpoint, resolveDataDirectory } from '../../extension/client/daemonEndpoint';
import { answersHealth } from '../../extension/client/daemonProcess';
import { tempDataDir } from '../support/tempDataDir';

const daemonMain = fileURLToPath(new URL('../../daemon/main.ts', import.meta.url));
// Resolved here because the daemon runs from a directory where `tsx` cannot be found by name.
const tsxLoader = import.meta.resolve('tsx');

describe('daemon contract: the data directory as two real processes see it', function () {
  this.timeout(60_000);
  let child: ChildProcess | undefined;

  it('finds a daemon started from a terminal in another directory with a relative M365_STATUS_DATA_DIR', async () => {
    const { dir, cleanup } = await tempDataDir('m365-contract');
    try {
      const home = join(dir, 'home');
      const elsewhere = join(dir, 'elsewhere');
      await mkdir(home);
      await mkdir(elsewhere);
      const env = { ...process.env, HOME: home, M365_STATUS_DATA_DIR: 'm365/relative', M365_STATUS_PORT: '0', M365_STATUS_LOG_LEVEL: 'warn' };
      child = spawn(process.execPath, ['--import', tsxLoader, daemonMain], { cwd: elsewhere, env, stdio: 'ignore' });
      const exited = new Promise<never>((_, reject) => child?.once('exit', (code) => reject(new Error(`the daemon exited with ${code}`))));
      exited.catch(() => undefined);

      const dataDirectory = resolveDataDirectory('', env, home);
      assert.equal(dataDirectory, join(home, 'm365', 'relative'));
      const deadline = Date.now() + 45_000;
      let endpoint = await readDaemonEndpoint(dataDirectory);
      while (!(endpoint && endpoint.pid === child.pid && (await answersHealth(endpoint)))) {
        assert.ok(Date.now() < deadline, `no daemon answered through ${dataDirectory}`);
        await Promise.race([new Promise((resolve) => setTimeout(resolve, 100)), exited]);
        endpoint = await readDaemonEndpoint(dataDirectory);
      }
      assert.equal(await readDaemonEndpoint(join(elsewhere, 'm365', 'relative')), undefined, 'nothing was written under the working directory');
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      await cleanup();
    }
  });
});
