import type { DaemonEndpointFile, DaemonEvent, TaskListEntry, TenantView } from '../../protocol/daemonApi';
import { DisposableBase } from '../common/disposableBase';
import type { Logger } from '../common/logger';
import { silentLogger } from '../common/logger';
import type { Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import type { ConnectionState } from './connectionState';
import { DaemonClient } from './daemonClient';
import { readDaemonEndpoint } from './daemonEndpoint';
import { DaemonEventStream } from './daemonEventStream';
import { answersHealth } from './daemonProcess';
import type { BackoffPolicy } from './reconnectBackoff';

/**
 * What the connection keeps in step with the daemon: the extension's model. Declared here, so that the
 * client depends on nothing above it and the model (which imports the client's types) is free to change.
 */
export interface DaemonConnectionSink {
  setConnection(state: ConnectionState): void;
  replaceTenants(tenants: readonly TenantView[]): void;
  replaceActivity(entries: readonly TaskListEntry[], includeAutomated: boolean): void;
  applyEvent(event: DaemonEvent): void;
  clear(): void;
}

export interface DaemonConnectionOptions {
  dataDirectory: () => string;
  /** Starts the bundled daemon; undefined where the extension must not (auto-start off). */
  startDaemon?: () => Promise<DaemonEndpointFile>;
  includeAutomatedTasks: () => boolean;
  logger?: Logger;
  timers?: Timers;
  random?: () => number;
  backoff?: BackoffPolicy;
  activityLimit?: number;
  /** Sent with every action so activities name who did it. */
  operator?: string;
}

/**
 * Finds the daemon through `daemon.json`, follows its event stream, and keeps the model in step: a full
 * listing each time the stream opens without a gapless resume (changes may have been missed while it
 * was closed), then events.
 * It never gives up: a daemon started later from a terminal, or restarted, is picked up by itself.
 */
export class DaemonConnection extends DisposableBase {
  readonly client: DaemonClient;
  readonly #model: DaemonConnectionSink;
  readonly #options: DaemonConnectionOptions;
  readonly #logger: Logger;
  readonly #stream: DaemonEventStream;
  #endpoint: DaemonEndpointFile | undefined;
  #everConnected = false;
  #snapshot: Promise<void> | undefined;

  constructor(model: DaemonConnectionSink, options: DaemonConnectionOptions) {
    super();
    this.#model = model;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.client = new DaemonClient({ endpoint: () => this.#endpoint, ...(options.operator ? { operator: options.operator } : {}) });
    this.register({ dispose: () => this.client.dispose() });
    this.#stream = this.register(
      new DaemonEventStream({
        endpoint: async () => {
          this.#endpoint = await readDaemonEndpoint(this.#options.dataDirectory());
          return this.#endpoint;
        },
        timers: options.timers ?? realTimers,
        random: options.random ?? Math.random,
        ...(options.backoff ? { backoff: options.backoff } : {}),
        logger: this.#logger,
      }),
    );
    this.register(this.#stream.onDidReceive((event) => this.#model.applyEvent(event)));
    this.register(
      this.#stream.onDidOpen((opened) => {
        // The daemon replays what was missed after a gapless resume; anything else is read in full.
        if (opened.resumed && this.#everConnected && opened.version !== undefined) {
          this.#model.setConnection({ kind: 'connected', version: opened.version });
          return;
        }
        // A failed listing is logged in #readSnapshot; the next open tries again.
        void this.reload().catch(() => undefined);
      }),
    );
    this.register(
      this.#stream.onDidChangeState((state) => {
        if (state.state === 'waiting') {
          this.#model.setConnection(
            this.#everConnected
              ? { kind: 'reconnecting', reason: state.reason, retryAt: state.retryAt }
              : { kind: 'unreachable', reason: state.reason },
          );
        }
      }),
    );
  }

  get endpoint(): DaemonEndpointFile | undefined {
    return this.#endpoint;
  }

  /**
   * At activation: connect to a daemon that answers, else start the bundled one when allowed, else say
   * it is unreachable and keep looking.
   */
  async connect(): Promise<void> {
    this.#model.setConnection({ kind: 'connecting' });
    const endpoint = await readDaemonEndpoint(this.#options.dataDirectory());
    if (endpoint && (await answersHealth(endpoint))) {
      this.#endpoint = endpoint;
      this.#stream.start();
      return;
    }
    if (this.#options.startDaemon) {
      try {
        await this.startDaemon();
        return;
      } catch (error) {
        this.#logger.error(`daemon: ${error instanceof Error ? error.message : String(error)}`);
        this.#model.setConnection({ kind: 'unreachable', reason: error instanceof Error ? error.message : String(error) });
      }
    }
    this.#stream.start();
  }

  /** Starts the bundled daemon (whatever the auto-start setting says: the operator asked) and connects. */
  async startDaemon(start = this.#options.startDaemon): Promise<void> {
    if (!start) throw new Error('This extension cannot start a daemon here.');
    this.#model.setConnection({ kind: 'starting' });
    this.#stream.stop();
    try {
      this.#endpoint = await start();
    } catch (error) {
      this.#model.setConnection({ kind: 'unreachable', reason: error instanceof Error ? error.message : String(error) });
      this.#stream.start();
      throw error;
    }
    this.#stream.start();
  }

  /**
   * The daemon was stopped, or the data directory changed: forget what was read, say why, and keep
   * watching for a daemon (there, or in the new directory).
   */
  restartWatching(reason: string): void {
    this.#everConnected = false;
    this.#endpoint = undefined;
    this.#model.clear();
    this.#model.setConnection({ kind: 'unreachable', reason });
    this.#stream.start();
  }

  /** Reconnects now instead of waiting out the backoff (the "Retry" button). */
  retryNow(): void {
    this.#stream.start();
  }

  /** Reads tenants and activity again; shared by concurrent callers. */
  reload(): Promise<void> {
    this.#snapshot ??= this.#readSnapshot().finally(() => {
      this.#snapshot = undefined;
    });
    return this.#snapshot;
  }

  async reloadActivity(): Promise<void> {
    const includeAutomated = this.#options.includeAutomatedTasks();
    const entries = await this.client.listTasks({ automated: includeAutomated, limit: this.#options.activityLimit ?? 200 });
    this.#model.replaceActivity(entries, includeAutomated);
  }

  async #readSnapshot(): Promise<void> {
    try {
      const [health, tenants] = await Promise.all([this.client.health(), this.client.listTenants()]);
      this.#model.replaceTenants(tenants);
      await this.reloadActivity();
      this.#everConnected = true;
      this.#model.setConnection({ kind: 'connected', version: health.version });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#logger.error(`daemon: reading tenants and activity failed: ${reason}`);
      // The stream may be open while the listing failed; the next reconnect tries again.
      if (!this.#everConnected) this.#model.setConnection({ kind: 'unreachable', reason });
      throw error;
    }
  }
}
