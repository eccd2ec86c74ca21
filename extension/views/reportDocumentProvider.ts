import * as vscode from 'vscode';
import { DisposableBase } from '../common/disposableBase';

export const REPORT_SCHEME = 'm365-status-report';

/**
 * Reports of what a bulk action did, as read-only plain-text documents: the operator can read and copy
 * them (consent links included) but not mistake them for a file to save.
 */
export class ReportDocumentProvider extends DisposableBase implements vscode.TextDocumentContentProvider {
  readonly #texts = new Map<string, string>();
  #next = 0;

  constructor() {
    super();
    this.register(vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this));
  }

  async open(title: string, text: string): Promise<void> {
    // A fresh path each time: a second run of the same action must not show the first one's cached text.
    const path = `/${++this.#next}/${title.replace(/[/\\?#]/g, '-')}.txt`;
    this.#texts.set(path, text);
    // Reports are read once or twice; keep the recent ones only.
    for (const old of this.#texts.keys()) if (this.#texts.size > 20) this.#texts.delete(old);
    const document = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: REPORT_SCHEME, path }));
    await vscode.window.showTextDocument(document, { preview: false });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.#texts.get(uri.path) ?? 'This report is no longer available: run the action again to see a new one.';
  }
}
