import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { AppProfileView } from '../../protocol/daemonApi';
import type { ConnectionNote, HostMessage, PageRequest } from '../../webview/credentialHealthProtocol';
import { parsePageMessage } from '../../webview/credentialHealthProtocol';
import type { StatusActions } from '../actions/statusActions';
import { COMMANDS } from '../common/commandTable';
import { VIEW_IDS } from '../common/contextKeys';
import type { Debounced } from '../common/debounce';
import { debounce } from '../common/debounce';
import { DisposableBase } from '../common/disposableBase';
import type { Logger } from '../common/logger';
import type { Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import { credentialHealthViewModel } from '../model/credentialHealthViewModel';
import type { StatusModel } from '../model/statusModel';
import { credentialHealthHtml } from './credentialHealthHtml';

export const CREDENTIAL_HEALTH_VIEW_TYPE = VIEW_IDS.credentialHealthPanel;

/**
 * The credential-health page: one panel, filled by the page script from snapshots the host posts after
 * the page says `ready` and after every change in the model. Everything the page asks for is checked
 * against the protocol first; the daemon's token never reaches it.
 */
export class CredentialHealthPanel extends DisposableBase {
  #panel: vscode.WebviewPanel | undefined;
  #panelDisposables: vscode.Disposable[] = [];
  #ready = false;
  readonly #postSoon: Debounced;
  #appProfiles: AppProfileView[] = [];
  #profilesGeneration = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: StatusModel,
    private readonly actions: StatusActions,
    private readonly logger: Logger,
    private readonly timers: Timers = realTimers,
  ) {
    super();
    this.#postSoon = this.register(debounce(timers, 100, () => this.#post()));
    this.register(model.onDidChangeTenants(() => this.#postWhenShown()));
    this.register(model.onDidChangeConnection(() => this.#postWhenShown()));
    this.register(
      vscode.window.registerWebviewPanelSerializer(CREDENTIAL_HEALTH_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => this.#adopt(panel),
      }),
    );
    this.register({ dispose: () => void this.#panel?.dispose() });
  }

  show(): void {
    if (this.#panel) {
      this.#panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(CREDENTIAL_HEALTH_VIEW_TYPE, 'Credential Health', vscode.ViewColumn.Active, this.#webviewOptions());
    this.#adopt(panel);
  }

  #webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview')],
    };
  }

  #adopt(panel: vscode.WebviewPanel): void {
    this.#panel = panel;
    this.#ready = false;
    panel.webview.options = this.#webviewOptions();
    const script = panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'credentialHealth.js'));
    panel.webview.html = credentialHealthHtml({ cspSource: panel.webview.cspSource, nonce: randomBytes(18).toString('base64'), scriptUri: script.toString() });
    this.#panelDisposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.#receive(raw)),
      panel.onDidDispose(() => {
        for (const disposable of this.#panelDisposables.splice(0)) disposable.dispose();
        this.#panel = undefined;
        this.#ready = false;
      }),
    );
  }

  async #receive(raw: unknown): Promise<void> {
    const message = parsePageMessage(raw);
    if (!message) {
      this.logger.warn('credential health: ignored a message from the page that does not follow the protocol');
      return;
    }
    if (message.type === 'ready') {
      this.#ready = true;
      this.#post();
      return;
    }
    try {
      const note = await this.#handle(message.request);
      this.#send({ type: 'reply', requestId: message.requestId, ok: true, message: note });
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.logger.error(`credential health: ${message.request.kind} failed: ${text}`);
      this.#send({ type: 'reply', requestId: message.requestId, ok: false, message: text });
    }
  }

  async #handle(request: PageRequest): Promise<string | null> {
    switch (request.kind) {
      case 'recheck':
        await this.actions.recheckCredentialHealth(request.tenantId);
        return null;
      case 'recheckAll':
        await this.actions.recheckAllCredentialHealth();
        return null;
      case 'rotate':
        if (!this.model.tenant(request.tenantId)) throw new Error('That tenant is no longer registered.');
        await vscode.commands.executeCommand(COMMANDS.rotateCredentials.id, request.tenantId);
        return null;
      case 'rotateProfile':
        await vscode.commands.executeCommand(COMMANDS.rotateAppProfileCredentials.id, { profileId: request.profileId });
        this.#post();
        return null;
    }
  }

  #postWhenShown(): void {
    if (!this.#panel || !this.#ready) return;
    this.#postSoon.schedule();
  }

  #post(): void {
    if (!this.#ready) return;
    const send = (): void =>
      this.#send({ type: 'snapshot', snapshot: credentialHealthViewModel(this.model.tenants(), this.timers.now(), this.#appProfiles), connection: this.#connectionNote() });
    send();
    // App profiles are an admin's business in a shared deployment: others are not shown them.
    const session = this.model.session;
    if (session && session.mode === 'shared' && session.engineer.role !== 'admin') return;
    // Profiles are not in the event stream: read them with every update, and draw again once they are in.
    const generation = ++this.#profilesGeneration;
    this.actions.appProfiles().then(
      (profiles) => {
        if (generation !== this.#profilesGeneration) return;
        this.#appProfiles = profiles;
        send();
      },
      (error: unknown) => this.logger.debug(`credential health: could not read app profiles: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  #connectionNote(): ConnectionNote {
    const connection = this.model.connection;
    switch (connection.kind) {
      case 'connected':
        return { live: true, text: 'Live' };
      case 'reconnecting':
        return { live: false, text: `Not live: reconnecting to the daemon (${connection.reason}). Shown as last known.` };
      case 'unreachable':
        return { live: false, text: 'Not live: no daemon is reachable.' };
      case 'signInNeeded':
        return { live: false, text: 'Not live: sign in to the shared deployment again.' };
      case 'connecting':
      case 'starting':
        return { live: false, text: 'Connecting to the daemon…' };
    }
  }

  #send(message: HostMessage): void {
    void this.#panel?.webview.postMessage(message);
  }
}
