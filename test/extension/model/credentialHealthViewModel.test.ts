import assert from 'node:assert/strict';
import { credentialHealthRow, credentialHealthViewModel } from '../../../extension/model/credentialHealthViewModel';
import { expiryCountdown } from '../../../webview/expiryCountdown';
import { DAY, healthView, NOW, tenantView } from '../support/viewFixtures';

describe('extension model: credential health view-model', () => {
  it('counts down to expiry, warning from 30 days before', () => {
    assert.deepEqual(expiryCountdown(NOW + 45 * DAY, NOW).level, 'ok');
    assert.match(expiryCountdown(NOW + 45 * DAY, NOW).text, /^Expires in 45 days \(2026-03-01 \d\d:\d\d\)$/);
    assert.equal(expiryCountdown(NOW + 30 * DAY + 1000, NOW).level, 'ok');
    assert.equal(expiryCountdown(NOW + 29 * DAY, NOW).level, 'warning');
    assert.match(expiryCountdown(NOW + 1 * DAY + 1000, NOW).text, /^Expires in 1 day/);
    assert.match(expiryCountdown(NOW + 5 * 3_600_000, NOW).text, /^Expires in 5 h/);
    assert.equal(expiryCountdown(NOW - 3 * DAY, NOW).level, 'expired');
    assert.match(expiryCountdown(NOW - 3 * DAY, NOW).text, /^Expired 3 days ago/);
    assert.deepEqual(expiryCountdown(null, NOW), { level: 'unknown', text: 'Expiry not known' });
  });

  it('passes a tenant whose token carries every required role', () => {
    const row = credentialHealthRow(tenantView(), NOW);
    assert.equal(row.check, 'passing');
    assert.equal(row.failure, null);
    assert.deepEqual(
      row.roles.map((role) => [role.name, role.required, role.granted]),
      [
        ['User.Read.All', true, true],
        ['User.EnableDisableAccount.All', true, true],
        ['User.RevokeSessions.All', true, true],
        ['AuditLog.Read.All', false, true],
      ],
    );
  });

  it("fails a tenant without a token, in the daemon's plain words with the fix", () => {
    const failure = {
      code: 'AADSTS7000222',
      message: 'The client secret has expired.',
      remedy: 'Create a new client secret in the app registration and rotate the credentials here.',
    };
    const row = credentialHealthRow(tenantView({ status: 'DISCONNECTED', credentialHealth: healthView({ canGetToken: false, failure, grantedRoles: [] }) }), NOW);
    assert.equal(row.check, 'failing');
    assert.equal(row.result, 'Cannot get a token');
    assert.deepEqual(row.failure, failure);
  });

  it('fails a tenant whose app lacks a required role, saying what the daemon cannot do and how to grant it', () => {
    const row = credentialHealthRow(
      tenantView({ credentialHealth: healthView({ grantedRoles: ['User.Read.All'], missingRoles: ['User.EnableDisableAccount.All', 'User.RevokeSessions.All'], missingOptionalRoles: ['AuditLog.Read.All'] }) }),
      NOW,
    );
    assert.equal(row.check, 'failing');
    assert.match(row.failure?.message ?? '', /cannot lock and unlock users, revoke sign-in sessions when locking/);
    assert.match(row.failure?.remedy ?? '', /grant admin consent/);
    assert.deepEqual(
      row.roles.filter((role) => !role.granted).map((role) => role.name),
      ['User.EnableDisableAccount.All', 'User.RevokeSessions.All', 'AuditLog.Read.All'],
    );
  });

  it('warns about a secret that expires within 30 days, and fails one that has expired', () => {
    assert.equal(credentialHealthRow(tenantView({ credentialHealth: healthView({ credentialExpiresAt: NOW + 10 * DAY }) }), NOW).check, 'warning');
    const expired = credentialHealthRow(tenantView({ credentialHealth: healthView({ credentialExpiresAt: NOW - DAY }) }), NOW);
    assert.equal(expired.check, 'failing');
    assert.match(expired.failure?.remedy ?? '', /rotate the credentials/);
  });

  it('names roles granted beyond what the product needs', () => {
    const row = credentialHealthRow(tenantView({ credentialHealth: healthView({ grantedRoles: ['User.ReadWrite.All', 'User.Read.All', 'Directory.ReadWrite.All'] }) }), NOW);
    assert.deepEqual(row.extraRoles, ['Directory.ReadWrite.All', 'User.ReadWrite.All']);
  });

  it('raises a red banner naming the failing tenants, and lists them first', () => {
    const snapshot = credentialHealthViewModel(
      [
        tenantView({ id: 'a', displayName: 'Alpha' }),
        tenantView({ id: 'b', displayName: 'Beta', credentialHealth: healthView({ canGetToken: false }) }),
        tenantView({ id: 'c', displayName: 'Gamma', credentialHealth: null }),
        tenantView({ id: 'd', displayName: 'Delta', credentialHealth: healthView({ credentialExpiresAt: NOW + 3 * DAY }) }),
      ],
      NOW,
    );
    assert.deepEqual(
      snapshot.rows.map((row) => [row.displayName, row.check]),
      [
        ['Beta', 'failing'],
        ['Delta', 'warning'],
        ['Gamma', 'unchecked'],
        ['Alpha', 'passing'],
      ],
    );
    assert.equal(snapshot.failing, 1);
    assert.equal(snapshot.warnings, 1);
    assert.match(snapshot.banner ?? '', /^1 credential is failing: Beta\./);
    assert.equal(credentialHealthViewModel([tenantView()], NOW).banner, null);
  });
});
