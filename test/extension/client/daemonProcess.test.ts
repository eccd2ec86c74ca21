import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDaemonEndpoint } from '../../../extension/client/daemonEndpoint';
import type { DaemonLaunchPlan } from '../../../extension/client/daemonLaunchPlan';
import { daemonLaunchPlan } from '../../../extension/client/daemonLaunchPlan';
import { answersHealth, DaemonProcess } from '../../../extension/client/daemonProcess';
import { defaultSettings } from '../../../extension/common/extensionSettings';
import { tempDataDir } from '../../support/tempDataDir';

const daemonMain = fileURLToPath(new URL('../../../daemon/main.ts', import.meta.url));

/** The plan the extension makes, run through tsx instead of the bundle so the test needs no build. */
function planFor(dataDirectory: string, env: Record<string, string> = {}): DaemonLaunchPlan {
  const plan = daemonLaunchPlan({
    settings: { ...defaultSettings, polling: { ...defaultSettings.polling, intervalSeconds: 30 } },
    dataDirectory,
    execPath: process.execPath,
    daemonScript: daemonMain,
    baseEnv: { ...process.env, M365_STATUS_LOG_LEVEL: 'warn', ...env },
  });
  return { ...plan, args: ['--import', 'tsx', ...plan.args] };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('extension daemon process: starting and stopping the daemon as a real process', function () {
  this.timeout(60_000);
  const started: number[] = [];
  after(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('starts the daemon detached, waits until it answers at the address it wrote, and stops it with SIGTERM', async () => {
    const { dir, cleanup } = await tempDataDir('m365-daemon-start');
    try {
      const daemons = new DaemonProcess({ startTimeoutMs: 30_000 });
      const endpoint = await daemons.start(planFor(dir), dir);
      started.push(endpoint.pid);
      assert.ok(alive(endpoint.pid));
      assert.equal(await answersHealth(endpoint), true);
      assert.deepEqual(await readDaemonEndpoint(dir), endpoint);
      assert.equal(await daemons.stop(dir), true);
      assert.equal(alive(endpoint.pid), false);
      assert.equal(existsSync(join(dir, 'daemon.json')), false, 'a clean stop removes daemon.json');
      assert.equal(await daemons.stop(dir), false, 'nothing left to stop');
    } finally {
      await cleanup();
    }
  });

  it("says why a start failed, in the daemon's own words", async () => {
    const { dir, cleanup } = await tempDataDir('m365-daemon-bad');
    try {
      const start = new DaemonProcess({ startTimeoutMs: 30_000 }).start(planFor(dir, { M365_STATUS_LOG_LEVEL: 'loud' }), dir);
      // Should it start after all, it must not outlive the test.
      start.then((endpoint) => started.push(endpoint.pid), () => undefined);
      await assert.rejects(start, (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /exited with code 2 while starting/);
        assert.match(error.message, /Invalid setting M365_STATUS_LOG_LEVEL/);
        return true;
      });
    } finally {
      await cleanup();
    }
  });

  it('leaves alone a process that holds the pid of a daemon.json left behind, even where a daemon answers on its port', async () => {
    const { dir, cleanup } = await tempDataDir('m365-daemon-stale');
    // Another program that now has the pid, and another data directory's daemon now on the port: it
    // answers /v1/health to anyone, but not the token of the daemon that wrote the file.
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/v1/health') return void response.end(JSON.stringify({ ok: true, version: '0.1.0' }));
      response.statusCode = 401;
      response.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'A valid bearer token is required.' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const pid = other.pid;
      assert.ok(pid);
      const { port } = server.address() as AddressInfo;
      await writeFile(join(dir, 'daemon.json'), JSON.stringify({ url: `http://127.0.0.1:${port}`, port, pid, token: 'the-token-of-a-daemon-gone', version: '0.1.0' }));
      assert.equal(await new DaemonProcess({ stopTimeoutMs: 2000 }).stop(dir), false, 'no daemon of ours was running');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(alive(pid), true, 'the other program was not signalled');
      assert.equal(other.exitCode, null);
      assert.equal(other.signalCode, null);
    } finally {
      other.kill('SIGKILL');
      server.close();
      await cleanup();
    }
  });
});
