import assert from 'node:assert/strict';
import { COMMANDS } from '../../../extension/common/commandTable';
import { statusBarPresentation } from '../../../extension/model/statusBarPresentation';
import { NOW, tenantView } from '../support/viewFixtures';

const connected = { kind: 'connected', version: '0.1.0' } as const;

describe('extension model: what the status bar says', () => {
  it('says quietly that all tenants are ACTIVE, without a colour', () => {
    const shown = statusBarPresentation(connected, [tenantView({ id: 'a' }), tenantView({ id: 'b' })], NOW);
    assert.equal(shown.text, '$(pass) M365: 2');
    assert.equal(shown.background, undefined);
    assert.match(shown.tooltip, /All 2 tenants are ACTIVE/);
  });

  it('counts the tenants that need attention, in the warning colour when any is STALE, INACTIVE or DORMANT', () => {
    for (const status of ['STALE', 'INACTIVE', 'DORMANT'] as const) {
      const shown = statusBarPresentation(connected, [tenantView({ id: 'a', status }), tenantView({ id: 'b' })], NOW);
      assert.equal(shown.text, '$(warning) 1 tenant needs attention');
      assert.equal(shown.background, 'warning', status);
      assert.equal(shown.command, COMMANDS.refreshStaleTenants.id);
    }
  });

  it('uses the error colour when any tenant is DISCONNECTED, and lists the worst first with status and as-of time', () => {
    const shown = statusBarPresentation(
      connected,
      [
        tenantView({ id: 'a', displayName: 'Alpha', status: 'STALE', asOf: NOW - 10 * 60_000 }),
        tenantView({ id: 'b', displayName: 'Beta', status: 'DISCONNECTED', asOf: null }),
        tenantView({ id: 'c', displayName: 'Gamma' }),
      ],
      NOW,
    );
    assert.equal(shown.text, '$(error) 2 tenants need attention');
    assert.equal(shown.background, 'error');
    assert.deepEqual(
      shown.attention.map((tenant) => tenant.displayName),
      ['Beta', 'Alpha'],
    );
    const lines = shown.tooltip.split('\n').filter((line) => line.startsWith('- '));
    assert.match(lines[0] ?? '', /\*\*Beta\*\* — DISCONNECTED, never synced/);
    assert.match(lines[1] ?? '', /\*\*Alpha\*\* — STALE, as of .* \(10 min ago\)/);
    assert.match(shown.tooltip, /Click to refresh them/);
  });

  it('escapes a tenant name in the tooltip', () => {
    const shown = statusBarPresentation(connected, [tenantView({ displayName: '[x](command:evil)', status: 'STALE' })], NOW);
    assert.ok(!shown.tooltip.includes('[x](command:evil)'));
  });

  it('says when no daemon is reachable, and offers to start it', () => {
    const shown = statusBarPresentation({ kind: 'unreachable', reason: 'nothing is listening' }, [], NOW);
    assert.equal(shown.text, '$(debug-disconnect) M365: no daemon');
    assert.equal(shown.command, COMMANDS.startDaemon.id);
    assert.equal(shown.background, 'warning');
  });

  it('says it is reconnecting, when, and that what is shown is as of the loss', () => {
    const shown = statusBarPresentation({ kind: 'reconnecting', reason: 'the daemon closed the event stream', retryAt: NOW + 8000 }, [tenantView()], NOW);
    assert.equal(shown.text, '$(debug-disconnect) M365: reconnecting');
    assert.match(shown.tooltip, /Trying again in 8 s/);
    assert.equal(shown.command, COMMANDS.reload.id);
  });

  it('offers to add a tenant when none is registered', () => {
    const shown = statusBarPresentation(connected, [], NOW);
    assert.equal(shown.text, '$(organization) M365: no tenants');
    assert.equal(shown.command, COMMANDS.addTenant.id);
  });

  it('offers adding a tenant only to an admin: a reader or an operator of a shared deployment is shown the view', () => {
    for (const role of ['reader', 'operator'] as const) {
      const shown = statusBarPresentation(connected, [], NOW, { mode: 'shared', session: { mode: 'shared', engineer: { name: 'bob', role, tenants: null } } });
      assert.notEqual(shown.command, COMMANDS.addTenant.id, role);
      assert.doesNotMatch(shown.tooltip, /Click to add/, role);
    }
    const admin = statusBarPresentation(connected, [], NOW, { mode: 'shared', session: { mode: 'shared', engineer: { name: 'ann', role: 'admin', tenants: null } } });
    assert.equal(admin.command, COMMANDS.addTenant.id);
  });

  it('says who is signed in to a shared deployment, and adds nothing for a local daemon', () => {
    const tenants = [tenantView({ id: 'a' })];
    const shared = statusBarPresentation(connected, tenants, NOW, { mode: 'shared', session: { mode: 'shared', engineer: { name: 'alice', role: 'operator', tenants: null } } });
    assert.equal(shared.text, '$(pass) M365: 1 · shared · alice (operator)');
    assert.match(shared.tooltip, /Signed in to the shared deployment as \*\*alice\*\* \(operator\)\.$/);
    const local = statusBarPresentation(connected, tenants, NOW, { mode: 'local', session: { mode: 'local', engineer: { name: 'op', role: 'admin', tenants: null } } });
    assert.deepEqual(local, statusBarPresentation(connected, tenants, NOW));
  });

  it("draws no icon from an engineer's name", () => {
    const shown = statusBarPresentation(connected, [tenantView()], NOW, { mode: 'shared', session: { mode: 'shared', engineer: { name: '$(zap)', role: 'reader', tenants: null } } });
    assert.ok(!shown.text.includes('$(zap)'), shown.text);
    assert.ok(shown.text.endsWith('shared · $\u200b(zap) (reader)'), 'the name is still shown, as text');
  });

  it('offers a retry, not a daemon start, when a shared deployment does not answer', () => {
    const shown = statusBarPresentation({ kind: 'unreachable', reason: 'nothing is listening there' }, [], NOW, { mode: 'shared' });
    assert.equal(shown.text, '$(debug-disconnect) M365: shared deployment unreachable');
    assert.equal(shown.command, COMMANDS.reload.id);
    assert.match(shown.tooltip, /nothing is listening there/);
  });

  it('offers to sign in again when the token was refused', () => {
    const shown = statusBarPresentation({ kind: 'signInNeeded', reason: 'the shared deployment refused the token' }, [tenantView()], NOW, { mode: 'shared' });
    assert.equal(shown.text, '$(account) M365: sign in');
    assert.equal(shown.command, COMMANDS.signInToSharedDeployment.id);
    assert.equal(shown.background, 'warning');
    assert.deepEqual(shown.attention, []);
  });
});
