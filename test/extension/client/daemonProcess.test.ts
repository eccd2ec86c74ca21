import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
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
});
