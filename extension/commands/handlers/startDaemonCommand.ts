import * as vscode from 'vscode';
import type { CommandServices } from '../commandServices';

export async function startDaemonCommand(services: CommandServices): Promise<void> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Starting the m365-status daemon…' },
    () => services.daemon.start(),
  );
  if (result === 'already-running') {
    const running = await services.daemon.running();
    void vscode.window.showInformationMessage(`The m365-status daemon is already running${running ? ` (pid ${running.pid}, ${running.url})` : ''}.`);
  }
}
