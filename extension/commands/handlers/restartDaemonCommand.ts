import * as vscode from 'vscode';
import type { CommandServices } from '../commandServices';

/** Restart, for example to apply changed poll settings: stop (cleanly) and start the bundled daemon. */
export async function restartDaemonCommand(services: CommandServices): Promise<void> {
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Restarting the m365-status daemon…' },
    () => services.daemon.restart(),
  );
}
