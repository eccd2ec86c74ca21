import * as vscode from 'vscode';
import type { AppProfileView, ConsentLinkView } from '../../../protocol/daemonApi';
import { consentOutcomeMessage } from '../../model/onboardingInput';
import { validateDisplayName, validateTenant } from '../../model/tenantInputValidation';
import { COMMANDS } from '../../common/commandTable';
import type { CommandServices } from '../commandServices';
import { pickAppProfile } from '../prompts/pickAppProfile';

interface DeliveryItem extends vscode.QuickPickItem {
  delivery: 'copy' | 'open';
}

/**
 * Gets the admin-consent link of an app profile for one customer tenant, copies it or opens it, then
 * waits (cancellable) for the admin's answer: on consent the tenant is added and syncs; on failure
 * Microsoft's error is shown in plain words. An argument `{profileId, tenant, displayName?, delivery?}`
 * skips the prompts. Answers the link once delivered: the wait goes on in its own notification, so links
 * for other customers can be had meanwhile.
 */
export async function getConsentLinkCommand(services: CommandServices, arg?: unknown): Promise<ConsentLinkView | undefined> {
  const title = 'Get an admin-consent link';
  const given = typeof arg === 'object' && arg !== null ? (arg as Record<string, unknown>) : {};
  const text = (key: string): string | undefined => (typeof given[key] === 'string' ? (given[key] as string) : undefined);
  const profile = await pickAppProfile(services, title, text('profileId'));
  if (!profile) return undefined;
  const tenant =
    text('tenant') ??
    (await vscode.window.showInputBox({
      title,
      prompt: "The customer's directory (tenant) id, or a verified domain such as fabrikam.onmicrosoft.com",
      ignoreFocusOut: true,
      validateInput: validateTenant,
    }));
  if (tenant === undefined) return undefined;
  const tenantProblem = validateTenant(tenant);
  if (tenantProblem) throw new Error(`tenant: ${tenantProblem}`);
  const displayName =
    text('displayName') ??
    (given.tenant === undefined
      ? await vscode.window.showInputBox({ title, prompt: 'A name for the tenant in this list (optional)', ignoreFocusOut: true, validateInput: validateDisplayName })
      : '');
  if (displayName === undefined) return undefined;

  const link = await services.actions.requestConsent(profile.id, { tenant: tenant.trim(), ...(displayName.trim() ? { displayName: displayName.trim() } : {}) });
  const deliveryArg = text('delivery');
  const delivery =
    deliveryArg === 'copy' || deliveryArg === 'open'
      ? deliveryArg
      : (
          await vscode.window.showQuickPick<DeliveryItem>(
            [
              { delivery: 'copy', label: '$(copy) Copy the link', detail: "To send to the customer's admin" },
              { delivery: 'open', label: '$(link-external) Open it in the browser', detail: "If you can sign in as the customer's admin" },
            ],
            { title, placeHolder: `The link is valid until ${new Date(link.expiresAt).toLocaleString()}`, ignoreFocusOut: true },
          )
        )?.delivery;
  if (!delivery) return undefined;
  if (delivery === 'copy') await vscode.env.clipboard.writeText(link.consentUrl);
  else await vscode.env.openExternal(vscode.Uri.parse(link.consentUrl, true));

  const who = displayName.trim() || tenant.trim();
  void watchConsent(services, profile, link, who, delivery).catch((error: unknown) => {
    const message = `Could not follow the consent of ${who}: ${error instanceof Error ? error.message : String(error)}`;
    services.logger.error(message);
    void vscode.window.showErrorMessage(message);
  });
  return link;
}

async function watchConsent(services: CommandServices, profile: AppProfileView, link: ConsentLinkView, who: string, delivery: 'copy' | 'open'): Promise<void> {
  const consent = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `${delivery === 'copy' ? 'Link copied. ' : ''}Waiting for the admin of ${who} to consent…`,
      cancellable: true,
    },
    (_progress, token) => services.actions.waitForConsent(profile.id, link.state, { isCancelled: () => token.isCancellationRequested, timers: services.timers }),
  );
  if (!consent) {
    void vscode.window.showInformationMessage(`Stopped waiting. The link for ${who} stays valid until ${new Date(link.expiresAt).toLocaleString()}; the tenant is added when its admin consents.`);
    return;
  }
  const outcome = consentOutcomeMessage(consent, who, services.timers.now());
  services.logger.info(outcome.message);
  if (outcome.severity === 'info') void vscode.window.showInformationMessage(outcome.message);
  else if (outcome.severity === 'error') void vscode.window.showErrorMessage(outcome.message);
  else if ((await vscode.window.showWarningMessage(outcome.message, 'Show Credential Health')) !== undefined) {
    await vscode.commands.executeCommand(COMMANDS.showCredentialHealth.id);
  }
}
