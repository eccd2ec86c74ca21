import assert from 'node:assert/strict';
import type { AppProfileView } from '../../../protocol/daemonApi';
import { appProfileCard, credentialHealthViewModel } from '../../../extension/model/credentialHealthViewModel';
import { DAY, healthView, NOW, tenantView } from '../support/viewFixtures';

function profileView(overrides: Partial<AppProfileView> & { health?: Partial<AppProfileView['credentialHealth']> } = {}): AppProfileView {
  const { health, ...rest } = overrides;
  return {
    id: 'profile-1',
    name: 'Contoso MSP app',
    partnerTenant: 'contoso-msp.onmicrosoft.com',
    appId: '11111111-1111-4111-8111-111111111111',
    credentialKind: 'secret',
    createdAt: NOW - 100 * DAY,
    credentialsRotatedAt: null,
    tenantIds: ['t1', 't2', 't3'],
    credentialHealth: { credentialExpiresAt: NOW + 90 * DAY, expiresSoon: false, tenantCount: 3, uncheckedTenantIds: [], failingTenants: [], ...health },
    ...rest,
  };
}

describe('extension model: credential health grouped by app profile', () => {
  it('makes one card per profile with one countdown, and lists its failing tenants with the problem in plain words', () => {
    const card = appProfileCard(
      profileView({
        health: {
          credentialExpiresAt: NOW + 10 * DAY,
          expiresSoon: true,
          failingTenants: [
            { id: 't2', displayName: 'Fabrikam', failure: { code: 'INVALID_CLIENT_SECRET', message: 'The client secret is wrong.', remedy: 'Rotate the credentials.' }, missingRoles: [] },
            { id: 't3', displayName: 'Tailspin', failure: null, missingRoles: ['User.RevokeSessions.All'] },
          ],
        },
      }),
      NOW,
    );
    assert.equal(card.check, 'failing');
    assert.equal(card.result, '2 of 3 tenants failing');
    assert.equal(card.expiry.level, 'warning');
    assert.match(card.expiry.text, /^Expires in 10 days/);
    assert.deepEqual(card.failingTenants, [
      { tenantId: 't2', displayName: 'Fabrikam', problem: 'The client secret is wrong.', remedy: 'Rotate the credentials.' },
      { tenantId: 't3', displayName: 'Tailspin', problem: 'Missing User.RevokeSessions.All: grant admin consent for it in this tenant.', remedy: null },
    ]);
  });

  it('calls an expired profile credential failing for all its tenants, one expiring soon a warning, a healthy one passing', () => {
    assert.equal(appProfileCard(profileView({ health: { credentialExpiresAt: NOW - DAY } }), NOW).result, 'The client secret has expired: every one of its 3 tenants will fail');
    const soon = appProfileCard(profileView({ health: { credentialExpiresAt: NOW + 5 * DAY, expiresSoon: true } }), NOW);
    assert.equal(soon.check, 'warning');
    assert.equal(appProfileCard(profileView(), NOW).result, '3 tenants, all passing');
    assert.equal(appProfileCard(profileView({ tenantIds: [], health: { tenantCount: 0 } }), NOW).result, 'No tenant uses it yet');
    assert.equal(appProfileCard(profileView({ health: { uncheckedTenantIds: ['t1', 't2', 't3'] } }), NOW).check, 'unchecked');
  });

  it('puts failing profiles first, tells each row its profile, and keeps the banner counting every failing tenant', () => {
    const snapshot = credentialHealthViewModel(
      [
        tenantView({ id: 't1', displayName: 'On profile', appProfileId: 'profile-1', credentialHealth: healthView({ canGetToken: false }) }),
        tenantView({ id: 'own', displayName: 'Own app', appProfileId: null }),
      ],
      NOW,
      [profileView({ id: 'healthy', name: 'A healthy' }), profileView({ id: 'profile-1', name: 'Z failing', health: { failingTenants: [{ id: 't1', displayName: 'On profile', failure: null, missingRoles: ['User.Read.All'] }] } })],
    );
    assert.deepEqual(snapshot.profiles.map((card) => card.name), ['Z failing', 'A healthy']);
    assert.deepEqual(snapshot.rows.map((row) => [row.tenantId, row.appProfileId]), [['t1', 'profile-1'], ['own', null]]);
    assert.equal(snapshot.failing, 1);
    assert.match(snapshot.banner ?? '', /On profile/);
    assert.deepEqual(credentialHealthViewModel([], NOW).profiles, [], 'no profiles when none are given');
  });
});
