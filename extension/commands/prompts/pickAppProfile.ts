import * as vscode from 'vscode';
import type { AppProfileView } from '../../../protocol/daemonApi';
import { COMMANDS } from '../../common/commandTable';
import { appProfilePickItem, findAppProfile } from '../../model/onboardingInput';
import type { CommandServices } from '../commandServices';

interface ProfileItem extends vscode.QuickPickItem {
  profile: AppProfileView;
}

/**
 * The app profile a command works on: the one named by id or name in its argument (so a flow can drive
 * the command without prompts), the only one, or the operator's pick. Undefined when there is none.
 */
export async function pickAppProfile(services: CommandServices, title: string, idOrName?: string): Promise<AppProfileView | undefined> {
  const profiles = await services.actions.appProfiles();
  if (idOrName !== undefined) {
    const named = findAppProfile(profiles, idOrName);
    if (!named) throw new Error(`No app profile with the id or name "${idOrName.slice(0, 128)}".`);
    return named;
  }
  if (profiles.length === 0) {
    const choice = await vscode.window.showInformationMessage(
      'No app profile yet: add the multi-tenant app your customers consent to first.',
      COMMANDS.addAppProfile.title,
    );
    if (choice) await vscode.commands.executeCommand(COMMANDS.addAppProfile.id);
    return undefined;
  }
  if (profiles.length === 1) return profiles[0];
  const items: ProfileItem[] = profiles.map((profile) => ({ ...appProfilePickItem(profile), profile }));
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Which app profile?', matchOnDescription: true, matchOnDetail: true });
  return picked?.profile;
}
