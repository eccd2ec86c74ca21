import type { ClientRequest, IncomingMessage } from 'node:http';
import type { DaemonEvent } from '../../protocol/daemonApi';
import { apiVersion } from '../../protocol/daemonApi';
import type { EventStreamHello, EventStreamOverflow, EventStreamReload } from '../../protocol/eventStream';
import { eventStreamMessages } from '../../protocol/eventStream';
import { DisposableBase } from '../common/disposableBase';
import { Emitter } from '../common/emitter';
import type { Logger } from '../common/logger';
import { silentLogger } from '../common/logger';
import type { TimerHandle, Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import type { DaemonClientEndpoint } from './daemonClient';
import { connectionFailureReason, daemonRequest } from './daemonTransport';
import { parseDaemonEvent } from './parseDaemonEvent';
import type { BackoffPolicy } from './reconnectBackoff';
import { defaultBackoff, reconnectBackoff } from './reconnectBackoff';
import { SignInNeededError } from './signInNeededError';
import { SseParser } from './sseParser';

export type EventStreamState =
  | { state: 'stopped' }
  | { state: 'connecting'; attempt: number }
  | { state: 'open' }
  | { state: 'waiting'; attempt: number; retryAt: number; reason: string }
  /** A shared deployment refused the token, or there is none: no retry until started again. */
  | { state: 'refused'; reason: string };

export interface EventStreamOpened {
  /**
   * True when the daemon replays every event missed since the last one received (they follow), so the
   * model is whole without reading it again; false on a first connect, or when the daemon said to reload.
   */
  resumed: boolean;
  /** The daemon's version, from its hello. */
  version: string | undefined;
}

export interface DaemonEventStreamOptions {
  /**
   * Read before every attempt: a restarted daemon has a new port and token in `daemon.json`. Throws a
   * SignInNeededError when a shared deployment has no token to offer.
   */
  endpoint: () => Promise<DaemonClientEndpoint | undefined>;
  timers?: Timers;
  random?: () => number;
  backoff?: BackoffPolicy;
  logger?: Logger;
}

/**
 * `GET /v1/events`, kept open: every message is a DaemonEvent; `event: hello` says the stream is live.
 * When the stream ends or cannot be opened it tries again with backoff until stopped, and says so through
 * `onDidChangeState` so the views can show that they are not live. A reconnect sends the id of the last
 * event received, so the daemon replays what was missed, or says to reload when it cannot.
 */
export class DaemonEventStream extends DisposableBase {
  readonly #options: Required<Omit<DaemonEventStreamOptions, 'endpoint'>> & Pick<DaemonEventStreamOptions, 'endpoint'>;
  readonly #onDidReceive = this.register(new Emitter<DaemonEvent>());
  readonly onDidReceive = this.#onDidReceive.event;
  readonly #onDidOpen = this.register(new Emitter<EventStreamOpened>());
  /** The stream is live: events from now on arrive. Fired again after every reconnect; see `resumed`. */
  readonly onDidOpen = this.#onDidOpen.event;
  readonly #onDidChangeState = this.register(new Emitter<EventStreamState>());
  readonly onDidChangeState = this.#onDidChangeState.event;

  #state: EventStreamState = { state: 'stopped' };
  #attempt = 0;
  #request: ClientRequest | undefined;
  #retryTimer: TimerHandle | undefined;
  // Bumped on every start/stop so callbacks of an abandoned connection do nothing.
  #generation = 0;
  // The id of the last event delivered, sent as Last-Event-ID on reconnect; kept across retries only.
  #lastEventId: string | undefined;

  constructor(options: DaemonEventStreamOptions) {
    super();
    this.#options = {
      endpoint: options.endpoint,
      timers: options.timers ?? realTimers,
      random: options.random ?? Math.random,
      backoff: options.backoff ?? defaultBackoff,
      logger: options.logger ?? silentLogger,
    };
    this.register({ dispose: () => this.stop() });
  }

  get state(): EventStreamState {
    return this.#state;
  }

  /** Connects now (again, if it was waiting), with the backoff reset, as a fresh client. */
  start(): void {
    if (this.isDisposed) return;
    this.#abandon();
    this.#attempt = 0;
    // Whoever starts the stream reads the model anew (it may have been cleared): no resume.
    this.#lastEventId = undefined;
    void this.#connect(this.#generation);
  }

  stop(): void {
    this.#abandon();
    this.#setState({ state: 'stopped' });
  }

  #abandon(): void {
    this.#generation++;
    if (this.#retryTimer !== undefined) this.#options.timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#request?.destroy();
    this.#request = undefined;
  }

  async #connect(generation: number): Promise<void> {
    this.#setState({ state: 'connecting', attempt: this.#attempt });
    let endpoint: DaemonClientEndpoint | undefined;
    try {
      endpoint = await this.#options.endpoint();
    } catch (error) {
      if (generation !== this.#generation) return;
      if (error instanceof SignInNeededError) {
        this.#refuse(generation, error.message);
        return;
      }
      this.#retry(generation, error instanceof Error ? error.message : String(error));
      return;
    }
    if (generation !== this.#generation) return;
    if (!endpoint) {
      this.#retry(generation, 'the daemon is not running');
      return;
    }
    const url = new URL(`/${apiVersion}/events`, endpoint.url);
    const parser = new SseParser();
    let opened = false;
    const resumeFrom = this.#lastEventId;
    const open = (hello: Partial<EventStreamHello>): void => {
      if (opened || generation !== this.#generation) return;
      opened = true;
      this.#attempt = 0;
      const resumed = resumeFrom !== undefined && hello.resumed === true;
      // Whatever follows a fresh start comes after the daemon's newest event: resume from there.
      if (!resumed && typeof hello.lastEventId === 'string') this.#lastEventId = hello.lastEventId;
      if (resumeFrom !== undefined) this.#options.logger.info(resumed ? `event stream: resumed after ${resumeFrom}` : 'event stream: could not resume; reading everything again');
      this.#setState({ state: 'open' });
      this.#onDidOpen.fire({ resumed, version: typeof hello.version === 'string' ? hello.version : undefined });
    };
    const shared = endpoint.mode === 'shared';
    const outgoing = daemonRequest(url, {
      method: 'GET',
      caPem: endpoint.caPem,
      headers: {
        accept: 'text/event-stream',
        authorization: `Bearer ${endpoint.token}`,
        'cache-control': 'no-cache',
        ...(resumeFrom !== undefined ? { 'last-event-id': resumeFrom } : {}),
      },
    });
    this.#request = outgoing;
    outgoing.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
    outgoing.on('response', (response: IncomingMessage) => {
      if (generation !== this.#generation) {
        response.destroy();
        return;
      }
      const status = response.statusCode ?? 0;
      const type = String(response.headers['content-type'] ?? '');
      if (status !== 200 || !type.startsWith('text/event-stream')) {
        response.resume();
        // A local daemon that restarted wrote a new token (read again on retry); a shared deployment's
        // refusal stands until the engineer signs in again.
        if (status === 401 && shared) this.#refuse(generation, `the shared deployment at ${url.origin} refused the token: it was revoked or is wrong`);
        else this.#retry(generation, status === 401 ? 'the daemon refused the token (it may have restarted)' : `the daemon answered ${status}`);
        return;
      }
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (generation !== this.#generation) return;
        for (const message of parser.feed(chunk)) {
          if (generation !== this.#generation) return;
          if (message.event === eventStreamMessages.hello) {
            open(parseObject<EventStreamHello>(message.data));
            continue;
          }
          if (message.event === eventStreamMessages.reload) {
            this.#lastEventId = undefined;
            this.#options.logger.info(`event stream: the daemon cannot replay what was missed: ${String(parseObject<EventStreamReload>(message.data).message)}`);
            continue;
          }
          if (message.event === eventStreamMessages.overflow) {
            this.#options.logger.warn(`event stream: ${String(parseObject<EventStreamOverflow>(message.data).message)}`);
            continue;
          }
          if (message.event !== 'message') continue;
          const event = parseDaemonEvent(message.data);
          if (!event) {
            this.#options.logger.debug(`event stream: ignored a message it does not understand (${message.data.slice(0, 80)})`);
            if (message.id !== undefined) this.#lastEventId = message.id;
            continue;
          }
          open({});
          this.#onDidReceive.fire(event);
          // Recorded once applied: a reconnect resumes after the last event the model has.
          if (message.id !== undefined) this.#lastEventId = message.id;
        }
      });
      response.on('end', () => this.#retry(generation, 'the daemon closed the event stream'));
      response.on('error', () => this.#retry(generation, 'the event stream broke off'));
    });
    outgoing.on('error', (error: Error & { code?: string }) => {
      this.#retry(generation, error.code === 'ECONNREFUSED' ? 'nothing is listening at the daemon\'s address' : connectionFailureReason(error));
    });
    outgoing.end();
  }

  #retry(generation: number, reason: string): void {
    if (generation !== this.#generation || this.isDisposed) return;
    this.#generation++;
    this.#request?.destroy();
    this.#request = undefined;
    const delay = reconnectBackoff(this.#attempt, this.#options.random, this.#options.backoff);
    const attempt = ++this.#attempt;
    this.#options.logger.info(`event stream: ${reason}; trying again in ${Math.round(delay / 100) / 10} s`);
    this.#setState({ state: 'waiting', attempt, retryAt: this.#options.timers.now() + delay, reason });
    const next = this.#generation;
    this.#retryTimer = this.#options.timers.setTimeout(() => {
      this.#retryTimer = undefined;
      if (next === this.#generation) void this.#connect(next);
    }, delay);
  }

  #refuse(generation: number, reason: string): void {
    if (generation !== this.#generation || this.isDisposed) return;
    this.#abandon();
    this.#options.logger.warn(`event stream: ${reason}; not retrying until signed in again`);
    this.#setState({ state: 'refused', reason });
  }

  #setState(state: EventStreamState): void {
    this.#state = state;
    this.#onDidChangeState.fire(state);
  }
}

/** The JSON object in a framing message's data, or an empty one: a malformed hello still opens. */
function parseObject<T extends object>(data: string): Partial<T> {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? (value as Partial<T>) : {};
  } catch {
    return {};
  }
}
