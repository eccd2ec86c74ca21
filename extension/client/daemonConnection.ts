import type { DaemonEndpointFile, DaemonEvent, SessionView, TaskListEntry, TenantView } from '../../protocol/daemonApi';
import { DisposableBase } from '../common/disposableBase';
import type { Logger } from '../common/logger';
import { silentLogger } from '../common/logger';
import type { TimerHandle, Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import type { ConnectionState } from './connectionState';
import { DaemonApiError } from './daemonApiError';
import { DaemonClient } from './daemonClient';
import { DaemonEventStream } from './daemonEventStream';
import type { DaemonLocation, DaemonLocator } from './daemonLocator';
import { answersHealth } from './daemonProcess';
import type { BackoffPolicy } from './reconnectBackoff';
import { defaultBackoff, reconnectBackoff } from './reconnectBackoff';
import { SignInNeededError } from './signInNeededError';

/**
 * What the connection keeps in step with the daemon: the extension's model. Declared here, so that the
 * client depends on nothing above it and the model (which imports the client's types) is free to change.
 */
export interface DaemonConnectionSink {
  setConnection(state: ConnectionState): void;
  replaceTenants(tenants: readonly TenantView[]): void;
  replaceActivity(entries: readonly TaskListEntry[], includeAutomated: boolean): void;
  /** Who the daemon took this window for; undefined from a local daemon that does not say. */
  setSession(session: SessionView | undefined): void;
  applyEvent(event: DaemonEvent): void;
  clear(): void;
}

export interface DaemonConnectionOptions {
  /** Where the daemon is: `daemon.json` in local mode, the configured URL and token in shared mode. */
  locate: DaemonLocator;
  /** Starts the bundled local daemon; undefined where the extension must not (auto-start off). Never used in shared mode. */
  startDaemon?: () => Promise<DaemonEndpointFile>;
  includeAutomatedTasks: () => boolean;
  logger?: Logger;
  timers?: Timers;
  random?: () => number;
  backoff?: BackoffPolicy;
  activityLimit?: number;
  /** Sent to a local daemon with every action so activities name who did it. */
  operator?: string;
}

/**
 * Finds the daemon through its locator, follows its event stream, and keeps the model in step: a full
 * listing (and who the daemon took us for) each time the stream opens without a gapless resume (changes
 * may have been missed while it was closed), then events.
 * It never gives up on a daemon that does not answer: one started later from a terminal, or restarted,
 * is picked up by itself. It stops only when a shared deployment refuses the token: then only signing
 * in again helps.
 */
export class DaemonConnection extends DisposableBase {
  readonly client: DaemonClient;
  readonly #model: DaemonConnectionSink;
  readonly #options: DaemonConnectionOptions;
  readonly #logger: Logger;
  readonly #stream: DaemonEventStream;
  #endpoint: DaemonLocation | undefined;
  #everConnected = false;
  #snapshot: Promise<void> | undefined;
  readonly #timers: Timers;
  /** The next try at the listing while the stream is open but the last one failed. */
  #listingRetry: TimerHandle | undefined;
  #listingAttempt = 0;

  constructor(model: DaemonConnectionSink, options: DaemonConnectionOptions) {
    super();
    this.#model = model;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#timers = options.timers ?? realTimers;
    this.client = new DaemonClient({ endpoint: () => this.#endpoint, ...(options.operator ? { operator: options.operator } : {}) });
    this.register({ dispose: () => this.client.dispose() });
    this.#stream = this.register(
      new DaemonEventStream({
        endpoint: async () => {
          this.#endpoint = await this.#options.locate();
          return this.#endpoint;
        },
        timers: this.#timers,
        random: options.random ?? Math.random,
        ...(options.backoff ? { backoff: options.backoff } : {}),
        logger: this.#logger,
      }),
    );
    this.register(this.#stream.onDidReceive((event) => this.#model.applyEvent(event)));
    this.register(
      this.#stream.onDidOpen((opened) => {
        this.#cancelListingRetry();
        this.#listingAttempt = 0;
        // The daemon replays what was missed after a gapless resume; anything else is read in full.
        if (opened.resumed && this.#everConnected && opened.version !== undefined) {
          this.#model.setConnection({ kind: 'connected', version: opened.version });
          return;
        }
        this.#readWhileOpen();
      }),
    );
    this.register({ dispose: () => this.#cancelListingRetry() });
    this.register(
      this.#stream.onDidChangeState((state) => {
        // A stream that closes reads everything when it opens again.
        if (state.state !== 'open') this.#cancelListingRetry();
        if (state.state === 'refused') {
          this.#forget();
          this.#model.setConnection({ kind: 'signInNeeded', reason: state.reason });
          return;
        }
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

  get endpoint(): DaemonLocation | undefined {
    return this.#endpoint;
  }

  /**
   * At activation: connect to a daemon that answers, else start the bundled one when allowed, else say
   * it is unreachable and keep looking. A shared deployment is only ever connected to: its daemons are
   * the team's, never started from here.
   */
  async connect(): Promise<void> {
    this.#model.setConnection({ kind: 'connecting' });
    let endpoint: DaemonLocation | undefined;
    try {
      endpoint = await this.#options.locate();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof SignInNeededError) {
        this.#logger.info(`daemon: ${reason}`);
        this.signInNeeded(reason);
        return;
      }
      this.#logger.error(`daemon: ${reason}`);
      // Only a shared deployment's settings fail this way; the stream keeps trying and says why.
      this.#model.setConnection({ kind: 'unreachable', reason });
      this.#stream.start();
      return;
    }
    if (endpoint?.mode === 'shared' || (endpoint && (await answersHealth(endpoint)))) {
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
      const started = await start();
      this.#endpoint = { mode: 'local', url: started.url, token: started.token };
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
    this.#forget();
    this.#model.setConnection({ kind: 'unreachable', reason });
    this.#stream.start();
  }

  /** Signed in or out, or the deployment's settings changed: forget what was read and connect afresh. */
  reconnect(): Promise<void> {
    this.#forget();
    return this.connect();
  }

  /**
   * A shared deployment refused the token, or there is none: stop asking (each attempt would be refused
   * and logged by the deployment), forget what was read, and say that signing in is what helps.
   */
  signInNeeded(reason: string): void {
    this.#stream.stop();
    this.#forget();
    this.#model.setConnection({ kind: 'signInNeeded', reason });
  }

  #forget(): void {
    this.#everConnected = false;
    this.#endpoint = undefined;
    this.#model.clear();
  }

  /** Reconnects now instead of waiting out the backoff (the "Retry" button). */
  retryNow(): void {
    this.#stream.start();
  }

  /**
   * The listing after the stream opened. A failed one (a timeout, a passing 500) is tried again with
   * backoff while the stream stays open: events alone never bring back the tenants it should have read.
   */
  #readWhileOpen(): void {
    this.reload().then(
      () => {
        this.#listingAttempt = 0;
      },
      (error: unknown) => {
        // Closed, stopped or refused meanwhile: the next open reads again, or only signing in helps.
        if (this.isDisposed || this.#stream.state.state !== 'open') return;
        const delay = reconnectBackoff(this.#listingAttempt++, this.#options.random ?? Math.random, this.#options.backoff ?? defaultBackoff);
        const retryAt = this.#timers.now() + delay;
        if (this.#everConnected) {
          const reason = `reading tenants and activity failed: ${error instanceof Error ? error.message : String(error)}`;
          this.#model.setConnection({ kind: 'reconnecting', reason, retryAt });
        }
        this.#cancelListingRetry();
        this.#listingRetry = this.#timers.setTimeout(() => {
          this.#listingRetry = undefined;
          this.#readWhileOpen();
        }, delay);
      },
    );
  }

  #cancelListingRetry(): void {
    if (this.#listingRetry !== undefined) this.#timers.clearTimeout(this.#listingRetry);
    this.#listingRetry = undefined;
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

  /** A local daemon from before sessions existed answers 404: it is one engineer's own, with every right. */
  async #readSession(): Promise<SessionView | undefined> {
    try {
      return await this.client.session();
    } catch (error) {
      if (error instanceof DaemonApiError && error.status === 404 && this.#endpoint?.mode !== 'shared') return undefined;
      throw error;
    }
  }

  async #readSnapshot(): Promise<void> {
    try {
      const [health, tenants, session] = await Promise.all([this.client.health(), this.client.listTenants(), this.#readSession()]);
      this.#model.setSession(session);
      this.#model.replaceTenants(tenants);
      await this.reloadActivity();
      this.#everConnected = true;
      this.#model.setConnection({ kind: 'connected', version: health.version });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#logger.error(`daemon: reading tenants and activity failed: ${reason}`);
      if (error instanceof DaemonApiError && error.status === 401 && this.#endpoint?.mode === 'shared') {
        this.signInNeeded(`the shared deployment refused the token: it was revoked or is wrong`);
        throw error;
      }
      // The stream may be open while the listing failed: #readWhileOpen tries again.
      if (!this.#everConnected) this.#model.setConnection({ kind: 'unreachable', reason });
      throw error;
    }
  }
}
