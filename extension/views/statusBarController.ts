import * as vscode from 'vscode';
import { debounce } from '../common/debounce';
import { DisposableBase } from '../common/disposableBase';
import { every } from '../common/every';
import type { Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import { statusBarPresentation } from '../model/statusBarPresentation';
import type { StatusModel } from '../model/statusModel';

/** The status-bar item: how many tenants need attention, driven by the model's events. */
export class StatusBarController extends DisposableBase {
  readonly #item: vscode.StatusBarItem;

  constructor(
    private readonly model: StatusModel,
    private readonly timers: Timers = realTimers,
    private readonly mode: () => 'local' | 'shared' = () => 'local',
  ) {
    super();
    this.#item = this.register(vscode.window.createStatusBarItem('m365Status.status', vscode.StatusBarAlignment.Left, 50));
    this.#item.name = 'M365 Status';
    // A poll round brings an event per tenant: draw once per burst.
    const updateSoon = this.register(debounce(timers, 100, () => this.update()));
    this.register(model.onDidChangeTenants(() => updateSoon.schedule()));
    this.register(model.onDidChangeConnection(() => this.update()));
    this.register(model.onDidChangeSession(() => this.update()));
    // The tooltip's "as of" and the reconnect countdown move on by themselves.
    this.register(every(timers, 30_000, () => this.update()));
    this.update();
    this.#item.show();
  }

  update(): void {
    const presentation = statusBarPresentation(this.model.connection, this.model.tenants(), this.timers.now(), { mode: this.mode(), session: this.model.session });
    this.#item.text = presentation.text;
    // No theme icons: a tenant named `$(zap)` must not draw one.
    const tooltip = new vscode.MarkdownString(presentation.tooltip);
    tooltip.isTrusted = false;
    this.#item.tooltip = tooltip;
    this.#item.backgroundColor =
      presentation.background === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : presentation.background === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    this.#item.command = presentation.command;
  }
}
