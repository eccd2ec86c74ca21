import * as vscode from 'vscode';
import type { SessionView } from '../../../protocol/daemonApi';
import { sharedDaemonLocator } from '../../client/daemonLocator';
import { sharedDeploymentUrl } from '../../client/sharedDeploymentUrl';
import { sharedToken } from '../../client/sharedToken';
import { verifySharedToken } from '../../client/verifySharedToken';
import { SETTINGS_SECTION } from '../../common/extensionSettings';
import type { CommandServices } from '../commandServices';

/**
 * Asks the shared deployment's URL (prefilled) and the engineer's token (hidden), checks the token with
 * the deployment before keeping it, keeps it in secret storage under the URL, saves the URL setting for
 * every window, and reconnects. Automation passes both: `(url, token)` or `({ url, token })`.
 */
export async function signInToSharedDeploymentCommand(services: CommandServices, urlArg?: unknown, tokenArg?: unknown): Promise<SessionView | undefined> {
  const given = signInArguments(urlArg, tokenArg);
  const before = services.settings().shared.url;
  const urlText =
    given.url ??
    (await vscode.window.showInputBox({
      title: 'Sign In to Shared Deployment (1/2)',
      prompt: "The shared deployment's URL, as your team gave it",
      placeHolder: 'https://m365.example.net:8443',
      value: before || 'https://',
      ignoreFocusOut: true,
      validateInput: (value) => problemWith(() => sharedDeploymentUrl(value)),
    }));
  if (urlText === undefined) return undefined;
  const url = sharedDeploymentUrl(urlText);
  const tokenText =
    given.token ??
    (await vscode.window.showInputBox({
      title: 'Sign In to Shared Deployment (2/2)',
      prompt: `Your own token for ${url} (m365s_…), as an admin issued it with m365-status users add`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => problemWith(() => sharedToken(value)),
    }));
  if (tokenText === undefined) return undefined;
  const token = sharedToken(tokenText);

  const session = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Checking the token with ${url}…` }, async () => {
    const location = await sharedDaemonLocator({ url, caFile: services.settings().shared.caFile, token: () => Promise.resolve(token) })();
    if (!location) throw new Error(`Could not reach ${url}.`);
    return verifySharedToken(location);
  });
  await services.sharedTokens.store(url, token);
  // Global: the token is the engineer's, whatever folder is open; the setting is machine-scoped anyway.
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('shared.url', url, vscode.ConfigurationTarget.Global);
  // A changed URL reconnects through the settings listener; signing in again to the same one does not change it.
  if (before === url) await services.connection.reconnect();
  services.logger.info(`signed in to the shared deployment at ${url} as ${session.engineer.name} (${session.engineer.role})`);
  void vscode.window.showInformationMessage(`Signed in to ${url} as ${session.engineer.name} (${session.engineer.role}).`);
  return session;
}

function signInArguments(urlArg: unknown, tokenArg: unknown): { url?: string; token?: string } {
  if (typeof urlArg === 'object' && urlArg !== null) {
    const record = urlArg as Record<string, unknown>;
    return {
      ...(typeof record.url === 'string' ? { url: record.url } : {}),
      ...(typeof record.token === 'string' ? { token: record.token } : {}),
    };
  }
  return {
    ...(typeof urlArg === 'string' ? { url: urlArg } : {}),
    ...(typeof tokenArg === 'string' ? { token: tokenArg } : {}),
  };
}

function problemWith(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
