import * as vscode from 'vscode';
import type { CommandServices } from '../commandServices';

export async function stopDaemonCommand(services: CommandServices): Promise<void> {
  const answer = await vscode.window.showWarningMessage(
    'Stop the m365-status daemon?',
    { modal: true, detail: 'Tenants are not watched while it is stopped, in this window or any other, until it starts again. Work under way is finished or recorded first.' },
    'Stop',
  );
  if (answer !== 'Stop') return;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Stopping the m365-status daemon…' },
    () => services.daemon.stop(),
  );
  void vscode.window.showInformationMessage(result === 'stopped' ? 'The m365-status daemon stopped.' : 'No m365-status daemon was running.');
}
