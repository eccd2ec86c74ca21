import * as vscode from 'vscode';
import type { LockOutcome } from '../../../protocol/daemonApi';
import { isOnPremisesRefusal, lockOutcomeMessage, onPremisesOverridePrompt, unlockConfirmation } from '../../model/lockConfirmation';
import { userKey } from '../../model/tenantTreeModel';
import { VIEW_IDS } from '../../common/contextKeys';
import type { CommandServices } from '../commandServices';
import { pickUser } from '../prompts/pickUser';
import { withBusy } from '../../actions/withBusy';

/** Unlock = enable sign-in; asks first only for users synced from on-premises (explicit override). */
export async function unlockUserCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const target = await pickUser(services.model, services.client, arg, 'unlock');
  if (!target) return;
  const { tenant, user } = target;
  let override = false;
  const confirmation = unlockConfirmation(user, tenant.displayName);
  if (confirmation) {
    const title = await vscode.window.showWarningMessage(confirmation.message, { modal: true, detail: confirmation.detail }, ...confirmation.choices.map((c) => c.title));
    if (!title) return;
    override = true;
  }
  const unlock = (overrideOnPremises: boolean): Promise<LockOutcome> =>
    withBusy(services.model, userKey(tenant.id, user.id), 'Unlocking…', () =>
      vscode.window.withProgress({ location: { viewId: VIEW_IDS.tenants } }, () =>
        services.client.unlockUser(tenant.id, user.id, overrideOnPremises ? { overrideOnPremises: true } : {}),
      ),
    );
  let outcome: LockOutcome;
  try {
    outcome = await unlock(override);
  } catch (error) {
    if (!isOnPremisesRefusal(error) || override) throw error;
    const prompt = onPremisesOverridePrompt('unlock', user, tenant.displayName, error.message);
    const answer = await vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail }, ...prompt.choices.map((c) => c.title));
    if (!answer) return;
    outcome = await unlock(true);
  }
  services.model.applyUser(tenant.id, outcome.user);
  void vscode.window.showInformationMessage(lockOutcomeMessage(outcome, tenant.displayName));
}
