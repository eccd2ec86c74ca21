import assert from 'node:assert/strict';
import { DisconnectAlerts } from '../../../extension/model/disconnectAlerts';
import { systemLogDocument } from '../../../extension/model/systemLogDocument';
import { noIcons, tenantPickItem } from '../../../extension/model/tenantPickItem';
import { manualTimers } from '../support/manualTimers';
import { NOW, tenantView } from '../support/viewFixtures';

describe('extension model: small decisions', () => {
  it('shows tenants in quick picks with status and as-of time, and no icon smuggled in a name', () => {
    const item = tenantPickItem(tenantView({ displayName: 'Evil $(zap) Corp', status: 'STALE' }), NOW);
    assert.equal(item.label, '$(history) Evil $\u200b(zap) Corp');
    assert.equal(item.description, 'STALE · as of 2 min ago');
    assert.equal(noIcons('$(x)$(y)'), '$\u200b(x)$\u200b(y)');
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
