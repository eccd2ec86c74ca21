import * as vscode from 'vscode';
import type { AddAppProfileRequest, AppProfileView } from '../../../protocol/daemonApi';
import { validateAppProfileName } from '../../model/onboardingInput';
import { validateAppId, validateTenant } from '../../model/tenantInputValidation';
import type { CommandServices } from '../commandServices';
import { promptCredential } from '../prompts/promptCredential';

/**
 * Registers a multi-tenant app once (name, partner tenant, client id, secret or certificate) for many
 * customer tenants to sign in with. An argument `{name, partnerTenant, appId}` skips those boxes; the
 * credential is always asked for, so it never travels through a command argument.
 */
export async function addAppProfileCommand(services: CommandServices, arg?: unknown): Promise<AppProfileView | undefined> {
  const title = 'Add an app profile';
  const given = typeof arg === 'object' && arg !== null ? (arg as Record<string, unknown>) : {};
  const text = (key: string): string | undefined => (typeof given[key] === 'string' ? (given[key] as string) : undefined);
  const name =
    text('name') ??
    (await vscode.window.showInputBox({
      title,
      prompt: 'A name for the app, as tenant lists and bulk-add files will name it',
      placeHolder: 'Contoso MSP app',
      ignoreFocusOut: true,
      validateInput: validateAppProfileName,
    }));
  if (name === undefined) return undefined;
  const partnerTenant =
    text('partnerTenant') ??
    (await vscode.window.showInputBox({
      title,
      prompt: 'Your (partner) tenant, where the multi-tenant app is registered: its directory id or a verified domain',
      placeHolder: 'contoso-msp.onmicrosoft.com',
      ignoreFocusOut: true,
      validateInput: validateTenant,
    }));
  if (partnerTenant === undefined) return undefined;
  const appId =
    text('appId') ??
    (await vscode.window.showInputBox({
      title,
      prompt: 'The application (client) id of the multi-tenant app registration',
      ignoreFocusOut: true,
      validateInput: validateAppId,
    }));
  if (appId === undefined) return undefined;
  for (const [problem, field] of [
    [validateAppProfileName(name), 'name'],
    [validateTenant(partnerTenant), 'partnerTenant'],
    [validateAppId(appId), 'appId'],
  ] as const) {
    if (problem) throw new Error(`${field}: ${problem}`);
  }
  const credential = await promptCredential(title, services.timers);
  if (!credential) return undefined;
  const request: AddAppProfileRequest = { name: name.trim(), partnerTenant: partnerTenant.trim(), appId: appId.trim(), credential };
  const profile = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Adding the app profile ${request.name}…` },
    () => services.actions.addAppProfile(request),
  );
  void vscode.window.showInformationMessage(
    `Added the app profile ${profile.name}. Add customers with Discover Customers, Add Tenants from File, or Get Admin-Consent Link.`,
  );
  return profile;
}
