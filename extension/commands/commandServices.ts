import type * as vscode from 'vscode';
import type { Logger } from '../common/logger';
import type { DaemonClient } from '../client/daemonClient';
import type { DaemonConnection } from '../client/daemonConnection';
import type { DaemonController } from '../client/daemonController';
import type { ExtensionSettings } from '../common/extensionSettings';
import type { StatusModel } from '../model/statusModel';
import type { CredentialHealthPanel } from '../views/credentialHealthPanel';
import type { SystemLogContentProvider } from '../views/systemLogContentProvider';

/** What every command handler may use; built once at activation. */
export interface CommandServices {
  readonly model: StatusModel;
  readonly client: DaemonClient;
  readonly connection: DaemonConnection;
  readonly daemon: DaemonController;
  readonly logger: Logger;
  readonly output: vscode.LogOutputChannel;
  readonly settings: () => ExtensionSettings;
  readonly credentialHealth: CredentialHealthPanel;
  readonly systemLog: SystemLogContentProvider;
}

export type CommandHandler = (services: CommandServices, ...args: unknown[]) => Promise<unknown> | unknown;
