import assert from 'node:assert/strict';
import { DaemonApiError } from '../../../extension/client/daemonApiError';
import { isOnPremisesRefusal, lockConfirmation, lockOutcomeMessage, onPremisesOverridePrompt, unlockConfirmation } from '../../../extension/model/lockConfirmation';
import { activityView, NOW, userView } from '../support/viewFixtures';

describe('extension model: lock and unlock confirmations', () => {
  it('says what locking does and offers to revoke sessions too', () => {
    const confirmation = lockConfirmation(userView({ id: 'jane', displayName: 'Jane Doe' }), 'Contoso');
    assert.equal(confirmation.message, 'Lock Jane Doe in Contoso?');
    assert.match(confirmation.detail, /disables sign-in for jane@contoso\.onmicrosoft\.com/);
    assert.match(confirmation.detail, /stay valid until their tokens expire, unless you also revoke them/);
    assert.deepEqual(confirmation.choices, [
      { title: 'Lock', revokeSessions: false, overrideOnPremises: false },
      { title: 'Lock and Revoke Sessions', revokeSessions: true, overrideOnPremises: false },
    ]);
  });

  it('asks for the on-premises override up front when the user is known to be synced from on-premises', () => {
    const confirmation = lockConfirmation(userView({ id: 'sync', onPremisesSyncEnabled: true }), 'Contoso');
    assert.match(confirmation.detail, /synced from on-premises Active Directory/);
    assert.deepEqual(
      confirmation.choices.map((choice) => [choice.title, choice.overrideOnPremises]),
      [
        ['Lock Anyway', true],
        ['Lock Anyway and Revoke Sessions', true],
      ],
    );
    assert.equal(unlockConfirmation(userView({ id: 'cloud' }), 'Contoso'), undefined, 'a cloud user is unlocked without a question');
    assert.equal(unlockConfirmation(userView({ id: 'sync', onPremisesSyncEnabled: true }), 'Contoso')?.choices[0]?.overrideOnPremises, true);
  });

  it("recognises the daemon's on-premises refusal, and nothing else, as one to override", () => {
    const refusal = DaemonApiError.fromResponse(409, { error: { code: 'ON_PREMISES_USER', message: 'synced from on-premises', errorId: 'e' } });
    assert.equal(isOnPremisesRefusal(refusal), true);
    assert.equal(isOnPremisesRefusal(DaemonApiError.fromResponse(409, { error: { code: 'TENANT_EXISTS', message: 'x' } })), false);
    assert.equal(isOnPremisesRefusal(new Error('ON_PREMISES_USER')), false);
    const prompt = onPremisesOverridePrompt('unlock', userView({ id: 'sync' }), 'Contoso', refusal.message);
    assert.deepEqual(prompt.choices, [{ title: 'Unlock Anyway', revokeSessions: false, overrideOnPremises: true }]);
  });

  it('reports the outcome in one line', () => {
    const user = userView({ id: 'jane', displayName: 'Jane', state: 'locked', lock: { by: 'alice', at: NOW, revokedSessions: true } });
    assert.equal(lockOutcomeMessage({ outcome: 'locked', user, activity: activityView({ id: 'a' }) }, 'Contoso'), 'Locked Jane in Contoso; sign-in sessions revoked.');
    assert.equal(
      lockOutcomeMessage({ outcome: 'unchanged', user, message: 'jane@contoso is already disabled in Microsoft 365; nothing was changed.' }, 'Contoso'),
      'Jane in Contoso: jane@contoso is already disabled in Microsoft 365; nothing was changed.',
    );
  });
});
