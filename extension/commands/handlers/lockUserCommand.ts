import * as vscode from 'vscode';
import type { UserActionResult } from '../../actions/statusActions';
import { VIEW_IDS } from '../../common/contextKeys';
import type { LockChoice } from '../../model/lockConfirmation';
import { lockConfirmation, lockOutcomeMessage, onPremisesOverridePrompt } from '../../model/lockConfirmation';
import type { CommandServices } from '../commandServices';
import { pickUser } from '../prompts/pickUser';

/**
 * Lock = disable sign-in, after a confirmation that says so and offers to revoke sessions too. A user
 * synced from on-premises needs an explicit override: asked up front when known, and again if the daemon
 * refuses for that reason.
 */
export async function lockUserCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const target = await pickUser(services, arg, 'lock');
  if (!target) return;
  const { tenant, user } = target;
  const confirmation = lockConfirmation(user, tenant.displayName);
  const title = await vscode.window.showWarningMessage(confirmation.message, { modal: true, detail: confirmation.detail }, ...confirmation.choices.map((choice) => choice.title));
  const choice = confirmation.choices.find((candidate) => candidate.title === title);
  if (!choice) return;

  const lock = (chosen: LockChoice): PromiseLike<UserActionResult> =>
    vscode.window.withProgress({ location: { viewId: VIEW_IDS.tenants } }, () => services.actions.lockUser(tenant.id, user.id, chosen));

  let result = await lock(choice);
  if (result.kind === 'needs-on-premises-override') {
    const prompt = onPremisesOverridePrompt('lock', user, tenant.displayName, result.message);
    const override = await vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail }, ...prompt.choices.map((c) => c.title));
    if (!override) return;
    result = await lock({ ...choice, overrideOnPremises: true });
  }
  // With the override given, a refusal is thrown as an error: only a lock that happened reaches here.
  if (result.kind === 'done') void vscode.window.showInformationMessage(lockOutcomeMessage(result.outcome, tenant.displayName));
}
