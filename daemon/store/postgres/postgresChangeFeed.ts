import type pg from 'pg';
import type { Clock, Timer } from '../../clock';
import type { Logger } from '../../logging/logger';
import type { StoreEvent } from '../storeTypes';
import { postgresDriver } from './postgresDriver';
import type { PostgresTransaction } from './postgresTransaction';

/** The channel every daemon of one database listens on. */
export const CHANGE_CHANNEL = 'm365_status_store';

/** PostgreSQL refuses a payload of 8000 bytes or more; an event that large travels as a reference. */
const PAYLOAD_LIMIT = 7_900;

const RECONNECT_DELAY_MS = 1_000;

/** What a receiver reads back from the database when the event itself was too large to send. */
export type ChangeReference =
  | { type: 'users'; tenantId: string; userIds: string[] }
  | { type: 'tenant'; id: string }
  | { type: 'task'; id: string }
  | { type: 'activity'; id: string }
  | { type: 'log'; id: string };

/** One notification: from which store, and the event or where to read it. */
type ChangeMessage = { from: string; event: StoreEvent } | { from: string; reference: ChangeReference };

export interface PostgresChangeFeedOptions {
  pool: pg.Pool;
  clock: Clock;
  logger: Logger | undefined;
  /** This store: its own notifications are not delivered back to it (it emitted them at commit). */
  storeId: string;
  /** Reads back an event sent as a reference; undefined when what it named is gone. */
  resolve: (reference: ChangeReference) => Promise<StoreEvent | undefined>;
  /** Another daemon's change, in commit order. */
  deliver: (event: StoreEvent) => void;
}

/**
 * Changes across daemons: a transaction sends its events with `NOTIFY`, which PostgreSQL delivers only
 * if it commits and in commit order; every store `LISTEN`s on a connection of its own, reconnecting when
 * it drops, and hands other daemons' events to its listeners.
 */
export class PostgresChangeFeed {
  readonly #options: PostgresChangeFeedOptions;
  #client: pg.Client | null = null;
  #reconnect: Timer | null = null;
  #stopped = false;
  /** Deliveries in order: a reference is read back before the next event is handed on. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: PostgresChangeFeedOptions) {
    this.#options = options;
  }

  /** Resolves once this store listens: a change committed afterwards reaches it. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#reconnect?.cancel();
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
    await this.#queue;
  }

  /** Sends the transaction's events to the other daemons; PostgreSQL holds them until it commits. */
  async announce(tx: PostgresTransaction): Promise<void> {
    if (tx.events.length === 0) return;
    const payloads = tx.events.flatMap((event) => encode(this.#options.storeId, event));
    await tx.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS p(payload, n) ORDER BY n', [CHANGE_CHANNEL, payloads]);
  }

  async #connect(): Promise<void> {
    const { Client } = await postgresDriver();
    const client = new Client(this.#options.pool.options);
    client.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL && message.payload) this.#receive(message.payload);
    });
    const lost = (reason: string): void => {
      if (this.#client !== client || this.#stopped) return;
      this.#client = null;
      this.#options.logger?.warn('lost the shared store’s change feed; reconnecting', { reason });
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on('error', (error) => lost(error.message));
    client.on('end', () => lost('connection ended'));
    await client.connect();
    await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnect) return;
    this.#reconnect = this.#options.clock.setTimeout(() => {
      this.#reconnect = null;
      this.#connect().then(
        () => this.#options.logger?.info('the shared store’s change feed is back'),
        (error: unknown) => {
          this.#options.logger?.warn('could not reconnect the shared store’s change feed', { error: (error as Error).message });
          this.#scheduleReconnect();
        },
      );
    }, RECONNECT_DELAY_MS);
  }

  #receive(payload: string): void {
    let message: ChangeMessage;
    try {
      message = JSON.parse(payload) as ChangeMessage;
    } catch {
      this.#options.logger?.warn('ignored an unreadable change notification');
      return;
    }
    if (message.from === this.#options.storeId) return;
    this.#queue = this.#queue.then(async () => {
      try {
        const event = 'event' in message ? message.event : await this.#options.resolve(message.reference);
        if (event) this.#options.deliver(event);
      } catch (error) {
        this.#options.logger?.warn('could not read back a change from the shared store', { error: (error as Error).message });
      }
    });
  }
}

/**
 * A notification naming a change for every daemon to read back, for a writer outside the daemons (an
 * import of a local store): `from` names it, so no daemon takes the change for its own.
 */
export function changeNotice(from: string, reference: ChangeReference): string {
  return JSON.stringify({ from, reference } satisfies ChangeMessage);
}

/** The event itself when it fits one notification; else references to read it back, split to fit. */
function encode(from: string, event: StoreEvent): string[] {
  const whole = JSON.stringify({ from, event } satisfies ChangeMessage);
  if (Buffer.byteLength(whole) < PAYLOAD_LIMIT) return [whole];
  if (event.type === 'users') {
    const payloads: string[] = [];
    let ids: string[] = [];
    const flush = (): void => {
      if (ids.length > 0) payloads.push(JSON.stringify({ from, reference: { type: 'users', tenantId: event.tenantId, userIds: ids } } satisfies ChangeMessage));
      ids = [];
    };
    // A user id is Graph's GUID; the margin keeps a chunk under the limit whatever the tenant id's length.
    let size = 0;
    for (const id of event.userIds) {
      const cost = Buffer.byteLength(JSON.stringify(id)) + 1;
      if (size + cost > PAYLOAD_LIMIT - 500) {
        flush();
        size = 0;
      }
      ids.push(id);
      size += cost;
    }
    flush();
    return payloads;
  }
  const reference: ChangeReference =
    event.type === 'tenant'
      ? { type: 'tenant', id: event.tenant.id }
      : event.type === 'task'
        ? { type: 'task', id: event.task.id }
        : event.type === 'activity'
          ? { type: 'activity', id: event.activity.id }
          : event.type === 'log'
            ? { type: 'log', id: event.entry.id }
            : { type: 'tenant', id: event.tenantId };
  return [JSON.stringify({ from, reference } satisfies ChangeMessage)];
}
