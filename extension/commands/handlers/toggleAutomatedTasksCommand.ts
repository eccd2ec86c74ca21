import * as vscode from 'vscode';
import { SETTINGS_SECTION } from '../../common/extensionSettings';
import type { CommandServices } from '../commandServices';

/** Flips "Display automated tasks"; the settings listener reloads the Activity view. */
export async function toggleAutomatedTasksCommand(services: CommandServices): Promise<void> {
  const next = !services.settings().activity.showAutomatedTasks;
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('activity.showAutomatedTasks', next, vscode.ConfigurationTarget.Global);
}
