import type * as vscode from 'vscode';
import { M365Extension } from './m365Extension';

/** VS Code's entry point (bundled to dist/extension.cjs). */
export function activate(context: vscode.ExtensionContext): void {
  const host = new M365Extension(context);
  context.subscriptions.push(host);
  host.start();
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions; the daemon keeps running for other windows.
}
