import * as vscode from 'vscode';
import { CONTEXT_KEYS } from '../common/contextKeys';
import { DisposableBase } from '../common/disposableBase';
import type { ExtensionSettings } from '../common/extensionSettings';
import type { StatusModel } from '../model/statusModel';

/** Keeps the context keys that welcome content and menus depend on in step with the model. */
export class ContextKeysController extends DisposableBase {
  readonly #values = new Map<string, unknown>();

  constructor(
    private readonly model: StatusModel,
    private readonly settings: () => ExtensionSettings,
  ) {
    super();
    this.register(model.onDidChangeConnection(() => this.update()));
    this.register(model.onDidChangeTenants(() => this.update()));
    this.register(model.onDidChangeSession(() => this.update()));
    this.update();
  }

  update(): void {
    this.#set(CONTEXT_KEYS.connection, this.model.connection.kind);
    this.#set(CONTEXT_KEYS.hasTenants, this.model.tenantCount > 0);
    this.#set(CONTEXT_KEYS.showAutomatedTasks, this.settings().activity.showAutomatedTasks);
    const shared = this.settings().shared.url !== '';
    this.#set(CONTEXT_KEYS.mode, shared ? 'shared' : 'local');
    // One's own local daemon lets one do everything; a shared deployment says what the token may do.
    this.#set(CONTEXT_KEYS.role, this.model.session?.engineer.role ?? (shared ? 'unknown' : 'admin'));
  }

  #set(key: string, value: unknown): void {
    if (this.#values.get(key) === value) return;
    this.#values.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }
}
