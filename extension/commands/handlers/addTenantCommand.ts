import * as vscode from 'vscode';
import { validateAppId, validateDisplayName, validateTenant } from '../../model/tenantInputValidation';
import type { CommandServices } from '../commandServices';
import { promptCredential } from '../prompts/promptCredential';
import { showTenantOutcome } from './tenantOutcome';

/** Registers a tenant: its id or domain, the app's client id, a name, and a secret or certificate. */
export async function addTenantCommand(services: CommandServices): Promise<void> {
  const title = 'Add a tenant';
  const tenant = await vscode.window.showInputBox({
    title,
    prompt: "The customer's directory (tenant) id, or a verified domain such as contoso.onmicrosoft.com",
    placeHolder: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    ignoreFocusOut: true,
    validateInput: validateTenant,
  });
  if (tenant === undefined) return;
  const appId = await vscode.window.showInputBox({
    title,
    prompt: "The application (client) id of the app registration consented to in the customer's tenant",
    ignoreFocusOut: true,
    validateInput: validateAppId,
  });
  if (appId === undefined) return;
  const displayName = await vscode.window.showInputBox({
    title,
    prompt: 'A name for the tenant in this list (optional: without one, the tenant id or domain above is shown)',
    ignoreFocusOut: true,
    validateInput: validateDisplayName,
  });
  if (displayName === undefined) return;
  const credential = await promptCredential(title, services.timers);
  if (!credential) return;

  const added = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Adding ${displayName.trim() || tenant.trim()} and checking its credentials…` },
    () =>
      services.actions.addTenant({
        tenant: tenant.trim(),
        appId: appId.trim(),
        ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
        credential,
      }),
  );
  await showTenantOutcome(added, 'Added', services.timers.now());
}
