import { userInfo } from 'node:os';
import * as vscode from 'vscode';
import { StatusActions } from './actions/statusActions';
import { DaemonConnection } from './client/daemonConnection';
import { DaemonController } from './client/daemonController';
import { daemonLocator } from './client/daemonLocator';
import { DaemonProcess } from './client/daemonProcess';
import { SharedTokenStore } from './client/sharedTokenStore';
import { commandHandlers } from './commands/commandHandlers';
import { registerCommands } from './commands/registerCommands';
import { COMMANDS } from './common/commandTable';
import { VIEW_IDS } from './common/contextKeys';
import { DisposableBase } from './common/disposableBase';
import type { ExtensionSettings } from './common/extensionSettings';
import { readExtensionSettings, SETTINGS_SECTION } from './common/extensionSettings';
import type { Logger } from './common/logger';
import { realTimers } from './common/timers';
import { DisconnectAlerts } from './model/disconnectAlerts';
import { sessionLabel } from './model/sessionLabel';
import { StatusModel } from './model/statusModel';
import { ActivityTreeProvider } from './views/activityTreeProvider';
import { ContextKeysController } from './views/contextKeysController';
import { CredentialHealthPanel } from './views/credentialHealthPanel';
import { outputLogger } from './views/outputLogger';
import { StatusBarController } from './views/statusBarController';
import { ReportDocumentProvider } from './views/reportDocumentProvider';
import { SystemLogContentProvider } from './views/systemLogContentProvider';
import { TenantsTreeProvider } from './views/tenantsTreeProvider';

/**
 * Everything the extension runs, owned in one place: the model and its daemon connection, the views
 * subscribed to the model, and the commands. Disposing it lets go of all of it.
 */
export class M365Extension extends DisposableBase {
  readonly #logger: Logger;
  readonly #model: StatusModel;
  readonly #connection: DaemonConnection;
  #settings: ExtensionSettings;

  constructor(context: vscode.ExtensionContext) {
    super();
    const output = this.register(vscode.window.createOutputChannel('M365 Status', { log: true }));
    this.#logger = outputLogger(output);
    this.#settings = this.#readSettings();
    // The one clock of the extension; tests of the parts below pass a fake one.
    const timers = realTimers;
    const settings = (): ExtensionSettings => this.#settings;

    const daemon = new DaemonController({
      settings,
      process: new DaemonProcess({ logger: this.#logger, timers }),
      daemonScript: vscode.Uri.joinPath(context.extensionUri, 'dist', 'daemon.cjs').fsPath,
      logger: this.#logger,
    });
    this.#model = this.register(
      new StatusModel({
        // The connection's client reads the current daemon address on every call.
        users: { listUsers: (tenantId, query) => this.#connection.client.listUsers(tenantId, query) },
        pageSize: this.#settings.users.pageSize,
      }),
    );
    const sharedTokens = new SharedTokenStore(context.secrets);
    this.#connection = this.register(
      new DaemonConnection(this.#model, {
        locate: daemonLocator({
          sharedUrl: () => this.#settings.shared.url,
          caFile: () => this.#settings.shared.caFile,
          token: (url) => sharedTokens.get(url),
          dataDirectory: () => daemon.dataDirectory(),
        }),
        ...(this.#settings.daemon.autoStart ? { startDaemon: daemon.launch } : {}),
        includeAutomatedTasks: () => this.#settings.activity.showAutomatedTasks,
        logger: this.#logger,
        timers,
        operator: operatorName(),
      }),
    );
    daemon.attach(this.#connection);
    const actions = new StatusActions({ model: this.#model, client: this.#connection.client });

    const tenantsProvider = this.register(new TenantsTreeProvider(this.#model, timers));
    const tenantsView = this.register(vscode.window.createTreeView(VIEW_IDS.tenants, { treeDataProvider: tenantsProvider, showCollapseAll: true }));
    const activityProvider = this.register(new ActivityTreeProvider(this.#model, timers));
    const activityView = this.register(vscode.window.createTreeView(VIEW_IDS.activity, { treeDataProvider: activityProvider }));
    const describeViews = (): void => {
      const connection = this.#model.connection;
      tenantsView.message =
        connection.kind === 'reconnecting' && this.#model.tenantCount > 0
          ? `Not live: reconnecting to the daemon (${connection.reason}). Shown as last known.`
          : undefined;
      activityView.description = this.#settings.activity.showAutomatedTasks ? 'automated tasks shown' : undefined;
      tenantsView.description = connection.kind === 'connected' ? sessionLabel(this.#model.session) : undefined;
    };
    this.register(this.#model.onDidChangeConnection(describeViews));
    this.register(this.#model.onDidChangeSession(describeViews));
    describeViews();

    const mode = (): 'local' | 'shared' => (this.#settings.shared.url ? 'shared' : 'local');
    this.register(new StatusBarController(this.#model, timers, mode));
    const contextKeys = this.register(new ContextKeysController(this.#model, settings));
    const credentialHealth = this.register(new CredentialHealthPanel(context.extensionUri, this.#model, actions, this.#logger, mode, timers));
    const systemLog = this.register(new SystemLogContentProvider(actions, this.#model, timers));
    const reports = this.register(new ReportDocumentProvider());

    const alerts = this.register(new DisconnectAlerts(timers));
    this.register(this.#model.onDidDisconnectTenant((tenant) => alerts.disconnected(tenant)));
    this.register(
      this.#model.onDidChangeTenants(({ tenantIds }) => {
        // A poll round brings an event per tenant: look at the one that changed, not at all of them.
        const changed = tenantIds ? tenantIds.map((id) => this.#model.tenant(id)) : this.#model.tenants();
        for (const tenant of changed) if (tenant) alerts.seen(tenant);
      }),
    );
    this.register(
      alerts.onDidAlert((alert) => {
        this.#logger.warn(alert.message);
        // The emitter drops a listener's promise, so a failure here must be caught here.
        vscode.window
          .showErrorMessage(alert.message, 'Show Credential Health')
          .then((choice) => (choice ? vscode.commands.executeCommand(COMMANDS.showCredentialHealth.id) : undefined))
          .then(undefined, (error: unknown) => this.#logger.error(`Could not open credential health: ${error instanceof Error ? error.message : String(error)}`));
      }),
    );

    for (const disposable of registerCommands(
      { model: this.#model, actions, connection: this.#connection, daemon, logger: this.#logger, output, settings, sharedTokens, timers, credentialHealth, systemLog, reports },
      commandHandlers,
    )) {
      this.register(disposable);
    }

    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!event.affectsConfiguration(SETTINGS_SECTION)) return;
        const before = this.#settings;
        this.#settings = this.#readSettings();
        contextKeys.update();
        describeViews();
        if (before.activity.showAutomatedTasks !== this.#settings.activity.showAutomatedTasks && this.#model.connection.kind === 'connected') {
          void this.#connection.reloadActivity().catch((error: unknown) => this.#logger.error(`reading activity failed: ${String(error)}`));
        }
        if (before.shared.url !== this.#settings.shared.url || before.shared.caFile !== this.#settings.shared.caFile) {
          this.#connection.reconnect().catch((error: unknown) => this.#logger.error(`connecting to the daemon failed: ${String(error)}`));
          return;
        }
        if (this.#settings.shared.url) return;
        if (before.daemon.dataDirectory !== this.#settings.daemon.dataDirectory) this.#connection.restartWatching('the data directory setting changed');
        if (JSON.stringify(before.polling) !== JSON.stringify(this.#settings.polling) || before.daemon.port !== this.#settings.daemon.port) {
          void this.#offerRestart();
        }
      }),
    );
  }

  /** Connects (starting the bundled daemon if allowed and needed); activation does not wait for it. */
  start(): void {
    this.#connection.connect().catch((error: unknown) => this.#logger.error(`connecting to the daemon failed: ${String(error)}`));
  }

  #readSettings(): ExtensionSettings {
    const configuration = vscode.workspace.getConfiguration(SETTINGS_SECTION);
    return readExtensionSettings((key) => configuration.get(key));
  }

  async #offerRestart(): Promise<void> {
    const choice = await vscode.window.showInformationMessage(
      'The daemon reads its poll interval, thresholds and port when it starts. Restart it now to apply the new settings?',
      'Restart Daemon',
    );
    if (choice) await vscode.commands.executeCommand(COMMANDS.restartDaemon.id);
  }
}

/** The operator as activities name them: the OS account running VS Code. */
function operatorName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}
