import assert from 'node:assert/strict';
import { commandRunKey, commandTarget } from '../../../extension/commands/commandArgs';
import { markdownText } from '../../../extension/common/markdownText';
import { daemonLaunchPlan } from '../../../extension/client/daemonLaunchPlan';
import { DisconnectAlerts } from '../../../extension/model/disconnectAlerts';
import { defaultSettings, readExtensionSettings } from '../../../extension/common/extensionSettings';
import { systemLogDocument } from '../../../extension/model/systemLogDocument';
import { noIcons, tenantPickItem } from '../../../extension/model/tenantPickItem';
import { manualTimers } from '../support/manualTimers';
import { NOW, tenantView } from '../support/viewFixtures';

describe('extension model: small decisions', () => {
  it('starts the bundled daemon with the data directory and port as flags, and the poll settings in its environment', () => {
    const plan = daemonLaunchPlan({
      settings: { ...defaultSettings, polling: { intervalSeconds: 30, staleAfterPolls: 4, inactiveAfterDays: 10, dormantAfterDays: 5 } },
      dataDirectory: '/home/op/.m365-status',
      execPath: '/usr/bin/node',
      daemonScript: '/ext/dist/daemon.js',
      baseEnv: { PATH: '/usr/bin', M365_STATUS_DATA_DIR: '/elsewhere', UNDEFINED: undefined },
    });
    assert.equal(plan.command, '/usr/bin/node');
    assert.deepEqual(plan.args, ['/ext/dist/daemon.js', '--data-dir', '/home/op/.m365-status', '--port', '0']);
    assert.equal(plan.env.M365_STATUS_POLL_INTERVAL, '30s');
    assert.equal(plan.env.M365_STATUS_STALE_AFTER_POLLS, '4');
    assert.equal(plan.env.M365_STATUS_INACTIVE_AFTER, '10d');
    assert.equal(plan.env.M365_STATUS_DORMANT_AFTER, '11d', 'kept longer than the inactive threshold, which the daemon requires');
    assert.equal(plan.env.ELECTRON_RUN_AS_NODE, '1');
    assert.equal(plan.env.M365_STATUS_DATA_DIR, undefined, 'the flag decides');
    assert.equal(plan.env.PATH, '/usr/bin');
  });

  it('reads settings with their defaults and bounds', () => {
    const values: Record<string, unknown> = { 'daemon.autoStart': false, 'polling.intervalSeconds': 2, 'users.pageSize': 'lots' };
    const settings = readExtensionSettings((key) => values[key]);
    assert.equal(settings.daemon.autoStart, false);
    assert.equal(settings.polling.intervalSeconds, 5, 'raised to the daemon minimum');
    assert.equal(settings.users.pageSize, 200, 'a wrong type falls back to the default');
  });

  it('knows what a command was run on: a tree row, a tenant id, or nothing', () => {
    assert.deepEqual(commandTarget({ kind: 'user', id: 'user/t/u', tenantId: 't', userId: 'u' }), { tenantId: 't', userId: 'u' });
    assert.deepEqual(commandTarget('t'), { tenantId: 't' });
    assert.deepEqual(commandTarget({ taskId: 'x' }), { taskId: 'x' });
    assert.deepEqual(commandTarget(undefined), {});
    assert.equal(commandRunKey('m365Status.lockUser', { tenantId: 't', userId: 'u' }), commandRunKey('m365Status.lockUser', { tenantId: 't', userId: 'u', kind: 'user' }));
    assert.notEqual(commandRunKey('m365Status.lockUser', { tenantId: 't', userId: 'u' }), commandRunKey('m365Status.lockUser', { tenantId: 't', userId: 'v' }));
  });

  it('shows tenants in quick picks with status and as-of time, and no icon smuggled in a name', () => {
    const item = tenantPickItem(tenantView({ displayName: 'Evil $(zap) Corp', status: 'STALE' }), NOW);
    assert.equal(item.label, '$(history) Evil $\u200b(zap) Corp');
    assert.equal(item.description, 'STALE · as of 2 min ago');
    assert.equal(noIcons('$(x)$(y)'), '$\u200b(x)$\u200b(y)');
  });

  it('escapes Markdown in text from a tenant', () => {
    assert.equal(markdownText('[a](command:x) *b* <i> &copy;'), '\\[a\\]\\(command:x\\) \\*b\\* &lt;i&gt; &amp;copy;');
  });

  it('writes the system log as plain lines, newest first, with tenant names and task ids', () => {
    const text = systemLogDocument(
      [
        { id: '1', at: Date.UTC(2026, 0, 1, 10), level: 'error', message: 'The client secret is wrong.\nline two', code: 'AADSTS7000215', taskId: 'task-1', tenantId: 'tenant-1' },
        { id: '2', at: Date.UTC(2026, 0, 1, 11), level: 'info', message: 'Synced', code: null, taskId: null, tenantId: null },
      ],
      { taskId: 'task-1' },
      [tenantView()],
    );
    const lines = text.split('\n');
    assert.equal(lines[0], '# System log — task task-1');
    assert.equal(lines[3], '2026-01-01T11:00:00.000Z INFO  Synced');
    assert.equal(lines[4], '2026-01-01T10:00:00.000Z ERROR tenant=Contoso task=task-1 code=AADSTS7000215 The client secret is wrong. line two');
  });

  it('raises one notification for tenants that turn DISCONNECTED together, and again only after they recover', () => {
    const timers = manualTimers();
    const alerts = new DisconnectAlerts(timers, 1000);
    const seen: string[] = [];
    alerts.onDidAlert((alert) => seen.push(alert.message));
    const a = tenantView({ id: 'a', displayName: 'Alpha', status: 'DISCONNECTED' });
    const b = tenantView({ id: 'b', displayName: 'Beta', status: 'DISCONNECTED' });
    alerts.disconnected(a);
    alerts.disconnected(b);
    alerts.disconnected(a);
    timers.advance(1000);
    assert.deepEqual(seen, ['2 tenants are DISCONNECTED (Alpha, Beta): the daemon cannot sign in to them.']);
    alerts.disconnected(a);
    timers.advance(1000);
    assert.equal(seen.length, 1, 'still the same outage: no second notification');
    alerts.seen({ ...a, status: 'ACTIVE' });
    alerts.disconnected(a);
    timers.advance(1000);
    assert.equal(seen[1], `Alpha is DISCONNECTED: ${a.statusReason}`);
    alerts.dispose();
  });
});
