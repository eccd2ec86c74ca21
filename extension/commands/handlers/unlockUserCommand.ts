import * as vscode from 'vscode';
import type { UserActionResult } from '../../actions/statusActions';
import { VIEW_IDS } from '../../common/contextKeys';
import { lockOutcomeMessage, onPremisesOverridePrompt, unlockConfirmation } from '../../model/lockConfirmation';
import type { CommandServices } from '../commandServices';
import { pickUser } from '../prompts/pickUser';

/** Unlock = enable sign-in; asks first only for users synced from on-premises (explicit override). */
export async function unlockUserCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const target = await pickUser(services, arg, 'unlock');
  if (!target) return;
  const { tenant, user } = target;
  let override = false;
  const confirmation = unlockConfirmation(user, tenant.displayName);
  if (confirmation) {
    const title = await vscode.window.showWarningMessage(confirmation.message, { modal: true, detail: confirmation.detail }, ...confirmation.choices.map((c) => c.title));
    if (!title) return;
    override = true;
  }
  const unlock = (overrideOnPremises: boolean): PromiseLike<UserActionResult> =>
    vscode.window.withProgress({ location: { viewId: VIEW_IDS.tenants } }, () => services.actions.unlockUser(tenant.id, user.id, { overrideOnPremises }));
  let result = await unlock(override);
  if (result.kind === 'needs-on-premises-override') {
    const prompt = onPremisesOverridePrompt('unlock', user, tenant.displayName, result.message);
    const answer = await vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail }, ...prompt.choices.map((c) => c.title));
    if (!answer) return;
    result = await unlock(true);
  }
  // With the override given, a refusal is thrown as an error: only an unlock that happened reaches here.
  if (result.kind === 'done') void vscode.window.showInformationMessage(lockOutcomeMessage(result.outcome, tenant.displayName));
}
