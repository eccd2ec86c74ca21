import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { HostMessage, PageRequest } from '../../webview/credentialHealthProtocol';
import { parsePageMessage } from '../../webview/credentialHealthProtocol';
import type { StatusActions } from '../actions/statusActions';
import { COMMANDS } from '../common/commandTable';
import { VIEW_IDS } from '../common/contextKeys';
import { DisposableBase } from '../common/disposableBase';
import type { Logger } from '../common/logger';
import type { Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import { CredentialHealthFeed } from '../model/credentialHealthFeed';
import type { StatusModel } from '../model/statusModel';
import { credentialHealthHtml } from './credentialHealthHtml';

export const CREDENTIAL_HEALTH_VIEW_TYPE = VIEW_IDS.credentialHealthPanel;

/**
 * The credential-health page: one panel, filled by the page script from snapshots the feed posts after
 * the page says `ready` and after changes in the model while it is in sight. Everything the page asks for
 * is checked against the protocol first; the daemon's token never reaches it.
 */
export class CredentialHealthPanel extends DisposableBase {
  #panel: vscode.WebviewPanel | undefined;
  #panelDisposables: vscode.Disposable[] = [];
  #ready = false;
  readonly #feed: CredentialHealthFeed;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: StatusModel,
    private readonly actions: StatusActions,
    private readonly logger: Logger,
    mode: () => 'local' | 'shared',
    private readonly timers: Timers = realTimers,
  ) {
    super();
    this.#feed = this.register(
      new CredentialHealthFeed({ model, readAppProfiles: () => actions.appProfiles(), post: (message) => this.#send(message), mode, timers, logger }),
    );
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
      // Hidden behind another editor it is sent nothing; shown again, it is brought up to date.
      panel.onDidChangeViewState(() => this.#feed.setShown(this.#ready && panel.visible)),
      panel.onDidDispose(() => {
        for (const disposable of this.#panelDisposables.splice(0)) disposable.dispose();
        this.#panel = undefined;
        this.#ready = false;
        this.#feed.setShown(false);
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
      this.#feed.pageLoaded();
      this.#feed.setShown(this.#panel?.visible ?? false);
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
        return null;
    }
  }

  #send(message: HostMessage): void {
    void this.#panel?.webview.postMessage(message);
  }
}
