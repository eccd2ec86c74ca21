import * as vscode from 'vscode';
import type { AppProfileView } from '../../../protocol/daemonApi';
import { COMMANDS } from '../../common/commandTable';
import type { CommandServices } from '../commandServices';
import { pickAppProfile } from '../prompts/pickAppProfile';
import { promptCredential } from '../prompts/promptCredential';

/**
 * Replaces an app profile's secret or certificate for every tenant using it in one action; the daemon
 * checks each tenant before answering. Takes the profile's id or name (or `{profileId}`) as argument.
 */
export async function rotateAppProfileCredentialsCommand(services: CommandServices, arg?: unknown): Promise<AppProfileView | undefined> {
  const given = typeof arg === 'object' && arg !== null ? (arg as Record<string, unknown>) : {};
  const profileArg = typeof arg === 'string' ? arg : typeof given.profileId === 'string' ? given.profileId : undefined;
  const profile = await pickAppProfile(services, 'Rotate app profile credentials', profileArg);
  if (!profile) return undefined;
  const credential = await promptCredential(`Rotate the credentials of ${profile.name}`, services.timers);
  if (!credential) return undefined;
  const count = profile.credentialHealth.tenantCount;
  const rotated = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Rotating ${profile.name} and checking its ${count} ${count === 1 ? 'tenant' : 'tenants'}…` },
    () => services.actions.rotateAppProfileCredentials(profile.id, credential),
  );
  const failing = rotated.credentialHealth.failingTenants;
  if (failing.length > 0) {
    const names = failing.map((tenant) => tenant.displayName).join(', ');
    const choice = await vscode.window.showWarningMessage(
      `Rotated ${rotated.name}, but ${failing.length} of its ${rotated.credentialHealth.tenantCount} tenants still fail their check: ${names}.`,
      'Show Credential Health',
    );
    if (choice) await vscode.commands.executeCommand(COMMANDS.showCredentialHealth.id);
  } else {
    void vscode.window.showInformationMessage(`Rotated ${rotated.name}: all ${rotated.credentialHealth.tenantCount} of its tenants pass their credential check.`);
  }
  return rotated;
}
