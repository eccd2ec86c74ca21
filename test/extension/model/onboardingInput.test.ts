import assert from 'node:assert/strict';
import type { AppProfileView } from '../../../protocol/daemonApi';
import { consentOutcomeMessage, findAppProfile } from '../../../extension/model/onboardingInput';

describe('consent outcomes and app profiles, as the operator reads them', () => {
  const base = { state: 's', appProfileId: 'p', tenant: 'fabrikam.onmicrosoft.com', expiresAt: 10_000, tenantId: null, missingRoles: [], missingOptionalRoles: [], error: null };

  it("tells a declined consent with Microsoft's code and description, a partial one with the roles missing, an expired one as such", () => {
    const failed = consentOutcomeMessage(
      { ...base, status: 'failed', error: { code: 'access_denied', description: 'AADSTS65004: User declined to consent', message: 'The admin declined to consent to the app.' } },
      'Fabrikam',
      0,
    );
    assert.equal(failed.severity, 'error');
    assert.equal(failed.message, 'Consent for Fabrikam failed: The admin declined to consent to the app. (Microsoft said access_denied: AADSTS65004: User declined to consent). Nothing was added.');
    const partial = consentOutcomeMessage({ ...base, status: 'granted', tenantId: 't', missingRoles: ['User.RevokeSessions.All'] }, undefined, 0);
    assert.equal(partial.severity, 'warning');
    assert.match(partial.message, /^The admin of fabrikam\.onmicrosoft\.com consented, but did not grant User\.RevokeSessions\.All\./);
    assert.equal(consentOutcomeMessage({ ...base, status: 'pending' }, 'F', 10_000).severity, 'error');
    assert.equal(consentOutcomeMessage({ ...base, status: 'granted', tenantId: 't' }, 'F', 0).severity, 'info');
  });

  it('finds a profile by id or by its name in any case', () => {
    const profile = (id: string, name: string): AppProfileView => ({
      id,
      name,
      partnerTenant: 'contoso-msp.onmicrosoft.com',
      appId: '00000000-0000-4000-8000-000000000001',
      credentialKind: 'secret',
      createdAt: 0,
      credentialsRotatedAt: null,
      tenantIds: [],
      credentialHealth: { credentialExpiresAt: null, expiresSoon: false, tenantCount: 0, uncheckedTenantIds: [], failingTenants: [] },
    });
    const profiles = [profile('id-1', 'Contoso MSP app'), profile('id-2', 'Other')];
    assert.equal(findAppProfile(profiles, 'id-2')?.name, 'Other');
    assert.equal(findAppProfile(profiles, ' contoso msp APP ')?.id, 'id-1');
    assert.equal(findAppProfile(profiles, 'nope'), undefined);
  });
});
