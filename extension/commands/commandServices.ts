import type * as vscode from 'vscode';
import type { StatusActions } from '../actions/statusActions';
import type { DaemonConnection } from '../client/daemonConnection';
import type { DaemonController } from '../client/daemonController';
import type { SharedTokenStore } from '../client/sharedTokenStore';
import type { ExtensionSettings } from '../common/extensionSettings';
import type { Logger } from '../common/logger';
import type { Timers } from '../common/timers';
import type { StatusModel } from '../model/statusModel';
import type { SystemLogFilter } from '../model/systemLogDocument';

/** What every command handler may use; built once at activation. */
export interface CommandServices {
  readonly model: StatusModel;
  /** Every call to the daemon goes through these: they own the busy state and update the model. */
  readonly actions: StatusActions;
  readonly connection: DaemonConnection;
  readonly daemon: DaemonController;
  readonly logger: Logger;
  readonly output: vscode.LogOutputChannel;
  readonly settings: () => ExtensionSettings;
  /** The engineer's shared-deployment tokens, in VS Code's secret storage. */
  readonly sharedTokens: SharedTokenStore;
  /** The extension's one clock, so what a command shows as "now" is what tests set. */
  readonly timers: Timers;
  /** The views a command opens; declared by what commands need of them, so commands do not import views. */
  readonly credentialHealth: { show(): void };
  readonly systemLog: { open(filter: SystemLogFilter): Promise<void> };
  /** A read-only plain-text report of a bulk action, such as every line's outcome of a bulk add. */
  readonly reports: { open(title: string, text: string): Promise<void> };
}

export type CommandHandler = (services: CommandServices, ...args: unknown[]) => Promise<unknown> | unknown;
