import assert from 'node:assert/strict';
import { daemonLaunchPlan } from '../../../extension/client/daemonLaunchPlan';
import { defaultSettings } from '../../../extension/common/extensionSettings';

describe('extension client: how the bundled daemon is started', () => {
  it('starts the bundled daemon with the data directory and port as flags, and the poll settings in its environment', () => {
    const plan = daemonLaunchPlan({
      settings: { ...defaultSettings, polling: { intervalSeconds: 30, staleAfterPolls: 4, inactiveAfterDays: 10, dormantAfterDays: 5 } },
      dataDirectory: '/home/op/.m365-status',
      execPath: '/usr/bin/node',
      daemonScript: '/ext/dist/daemon.cjs',
      baseEnv: { PATH: '/usr/bin', M365_STATUS_DATA_DIR: '/elsewhere', UNDEFINED: undefined },
    });
    assert.equal(plan.command, '/usr/bin/node');
    assert.deepEqual(plan.args, ['/ext/dist/daemon.cjs', '--data-dir', '/home/op/.m365-status', '--port', '0']);
    assert.equal(plan.env.M365_STATUS_POLL_INTERVAL, '30s');
    assert.equal(plan.env.M365_STATUS_STALE_AFTER_POLLS, '4');
    assert.equal(plan.env.M365_STATUS_INACTIVE_AFTER, '10d');
    assert.equal(plan.env.M365_STATUS_DORMANT_AFTER, '11d', 'kept longer than the inactive threshold, which the daemon requires');
    assert.equal(plan.env.ELECTRON_RUN_AS_NODE, '1');
    assert.equal(plan.env.M365_STATUS_DATA_DIR, undefined, 'the flag decides');
    assert.equal(plan.env.PATH, '/usr/bin');
  });
});
