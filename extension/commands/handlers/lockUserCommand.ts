import * as vscode from 'vscode';
import type { LockOutcome } from '../../../protocol/daemonApi';
import type { LockChoice } from '../../model/lockConfirmation';
import { isOnPremisesRefusal, lockConfirmation, lockOutcomeMessage, onPremisesOverridePrompt } from '../../model/lockConfirmation';
import { userKey } from '../../model/tenantTreeModel';
import { VIEW_IDS } from '../../common/contextKeys';
import type { CommandServices } from '../commandServices';
import { pickUser } from '../prompts/pickUser';
import { withBusy } from '../../actions/withBusy';

/**
 * Lock = disable sign-in, after a confirmation that says so and offers to revoke sessions too. A user
 * synced from on-premises needs an explicit override: asked up front when known, and again if the daemon
 * refuses for that reason.
 */
export async function lockUserCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const target = await pickUser(services.model, services.client, arg, 'lock');
  if (!target) return;
  const { tenant, user } = target;
  const confirmation = lockConfirmation(user, tenant.displayName);
  const title = await vscode.window.showWarningMessage(confirmation.message, { modal: true, detail: confirmation.detail }, ...confirmation.choices.map((choice) => choice.title));
  const choice = confirmation.choices.find((candidate) => candidate.title === title);
  if (!choice) return;

  const lock = (chosen: LockChoice): Promise<LockOutcome> =>
    withBusy(services.model, userKey(tenant.id, user.id), chosen.revokeSessions ? 'Locking and revoking sessions…' : 'Locking…', () =>
      vscode.window.withProgress({ location: { viewId: VIEW_IDS.tenants } }, () =>
        services.client.lockUser(tenant.id, user.id, {
          ...(chosen.revokeSessions ? { revokeSessions: true } : {}),
          ...(chosen.overrideOnPremises ? { overrideOnPremises: true } : {}),
        }),
      ),
    );

  let outcome: LockOutcome;
  try {
    outcome = await lock(choice);
  } catch (error) {
    if (!isOnPremisesRefusal(error) || choice.overrideOnPremises) throw error;
    const prompt = onPremisesOverridePrompt('lock', user, tenant.displayName, error.message);
    const override = await vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail }, ...prompt.choices.map((c) => c.title));
    if (!override) return;
    outcome = await lock({ ...choice, overrideOnPremises: true });
  }
  services.model.applyUser(tenant.id, outcome.user);
  void vscode.window.showInformationMessage(lockOutcomeMessage(outcome, tenant.displayName));
}
