import * as vscode from 'vscode';
import { sharedDeploymentUrl } from '../../client/sharedDeploymentUrl';
import { SETTINGS_SECTION } from '../../common/extensionSettings';
import type { CommandServices } from '../commandServices';

/** Forgets the token, clears the URL setting, and so goes back to the daemon on this machine. */
export async function signOutOfSharedDeploymentCommand(services: CommandServices): Promise<void> {
  const setting = services.settings().shared.url;
  if (!setting) {
    void vscode.window.showInformationMessage('This window is not signed in to a shared deployment; it uses the daemon on this machine.');
    return;
  }
  let url = setting;
  try {
    url = sharedDeploymentUrl(setting);
  } catch {
    // A URL typed into the settings by hand may not parse; nothing can have been kept under it then.
  }
  await services.sharedTokens.delete(url);
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('shared.url', undefined, vscode.ConfigurationTarget.Global);
  services.logger.info(`signed out of the shared deployment at ${url}`);
  void vscode.window.showInformationMessage(`Signed out of ${url}; this window uses the daemon on this machine again.`);
}
