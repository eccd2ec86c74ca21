import * as vscode from 'vscode';
import type { StatusActions } from '../actions/statusActions';
import type { Debounced } from '../common/debounce';
import { debounce } from '../common/debounce';
import { DisposableBase } from '../common/disposableBase';
import type { Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import type { StatusModel } from '../model/statusModel';
import type { SystemLogFilter } from '../model/systemLogDocument';
import { systemLogTitle } from '../model/systemLogDocument';

export const SYSTEM_LOG_SCHEME = 'm365-status-log';

/**
 * The daemon's system log as read-only documents, one per filter (a task id, a tenant, a level), kept
 * current by `log` events while open.
 */
export class SystemLogContentProvider extends DisposableBase implements vscode.TextDocumentContentProvider {
  readonly #onDidChange = this.register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.#onDidChange.event;
  readonly #changeSoon: Debounced;

  constructor(
    private readonly actions: StatusActions,
    private readonly model: StatusModel,
    timers: Timers = realTimers,
  ) {
    super();
    this.#changeSoon = this.register(
      debounce(timers, 500, () => {
        for (const document of vscode.workspace.textDocuments) {
          if (document.uri.scheme === SYSTEM_LOG_SCHEME) this.#onDidChange.fire(document.uri);
        }
      }),
    );
    this.register(vscode.workspace.registerTextDocumentContentProvider(SYSTEM_LOG_SCHEME, this));
    this.register(model.onDidReceiveLog(() => this.#changeSoon.schedule()));
  }

  async open(filter: SystemLogFilter): Promise<void> {
    const tenantName = filter.tenantId ? this.model.tenant(filter.tenantId)?.displayName : undefined;
    const query = new URLSearchParams();
    if (filter.taskId) query.set('taskId', filter.taskId);
    if (filter.tenantId) query.set('tenantId', filter.tenantId);
    if (filter.level) query.set('level', filter.level);
    const title = systemLogTitle(filter, tenantName).replace(/[/\\?#]/g, '-');
    const uri = vscode.Uri.from({ scheme: SYSTEM_LOG_SCHEME, path: `/${title}.log`, query: query.toString() });
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { preview: false });
    if (document.languageId !== 'log') await vscode.languages.setTextDocumentLanguage(document, 'log');
  }

  provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const level = query.get('level');
    const filter: SystemLogFilter = {
      ...(query.get('taskId') ? { taskId: query.get('taskId') as string } : {}),
      ...(query.get('tenantId') ? { tenantId: query.get('tenantId') as string } : {}),
      ...(level === 'info' || level === 'warn' || level === 'error' ? { level } : {}),
    };
    return this.actions.systemLog(filter);
  }
}
