import { randomBytes } from 'node:crypto';
import type { DaemonEvent } from '../../protocol/daemonApi';
import type { EventStreamOverflow } from '../../protocol/eventStream';
import { eventStreamMessages, formatEventId, parseEventId } from '../../protocol/eventStream';
import type { ApiViews } from '../api/apiViews';
import type { Logger } from '../logging/logger';
import type { Store } from '../store/store';
import type { StoreEvent } from '../store/storeTypes';

/** One event, serialized once as a complete SSE message and shared by every client and the replay ring. */
export interface EventFrame {
  seq: number;
  id: string;
  bytes: Buffer;
}

/** One connected client, as the HTTP layer sees it. */
export interface EventStreamSubscriber {
  /** Bytes accepted for this client and not yet handed to the operating system (for the log). */
  readonly bufferedBytes: number;
  /** False when the client's buffer is past its high-water mark: it is congested until it drains. */
  send(frame: Buffer): boolean;
  /** Sends the last frame and closes: the client fell behind. */
  overflow(frame: Buffer): void;
}

export type EventStreamStart =
  | { kind: 'live' }
  | { kind: 'replay'; frames: EventFrame[] }
  | { kind: 'reload'; message: string };

export interface EventStreamSubscription {
  start: EventStreamStart;
  /** Sends the replayed frames of `start`, if any, counting them like any other. */
  sendReplay: () => void;
  /** The client's buffer emptied (the `drain` event): it is keeping up again. */
  drained: () => void;
  unsubscribe: () => void;
}

export interface EventStreamLimits {
  /**
   * A congested client (one whose buffer has not drained since a write) is sent at most this many more
   * bytes; the event past that disconnects it. So a client holds at most this plus one event.
   */
  clientBufferBytes: number;
  /** Events kept for clients that reconnect with `Last-Event-ID`: at most this many … */
  replayEvents: number;
  /** … and at most this many bytes (the newest event is always kept). */
  replayBytes: number;
  /** Bytes written to sockets before the fan-out lets other work (API requests) run. */
  fanOutSliceBytes: number;
  /**
   * Streams one caller (an engineer, or the local operator) may hold open at once: a window of VS Code
   * holds one, and each may buffer `clientBufferBytes`, so a leaked token cannot open thousands.
   */
  streamsPerCaller: number;
}

export const defaultEventStreamLimits: EventStreamLimits = {
  clientBufferBytes: 4 * 1024 * 1024,
  replayEvents: 2_000,
  replayBytes: 16 * 1024 * 1024,
  fanOutSliceBytes: 8 * 1024 * 1024,
  streamsPerCaller: 32,
};

export interface EventStreamOptions {
  limits?: Partial<EventStreamLimits>;
  logger?: Logger;
  /** Tells this run of the daemon apart from earlier ones in event ids; random when not given. */
  runId?: string;
}

interface Client {
  subscriber: EventStreamSubscriber;
  /** The highest seq this client was sent, by replay or by the fan-out. */
  deliveredSeq: number;
  open: boolean;
  congested: boolean;
  bytesWhileCongested: number;
}

/**
 * Turns the store's changes into the API's events, serialized once for every connected client: a change
 * in Microsoft 365 reaches the tree, the status bar and the webview without anyone asking. Every event
 * gets an id; the newest are kept so a client that reconnects gets exactly what it missed. A client
 * that stops reading is cut off once it is a bounded number of bytes behind, so no client can make the
 * daemon hold more than that, and the fan-out of a large event yields to the API between slices.
 */
export class EventStream {
  readonly runId: string;
  readonly limits: EventStreamLimits;
  readonly #clients = new Set<Client>();
  readonly #ring: EventFrame[] = [];
  #ringBytes = 0;
  #seq = 0;
  readonly #pending: EventFrame[] = [];
  #pumping = false;
  #pumpScheduled = false;
  #unsubscribe: (() => void) | null = null;
  readonly #logger: Logger | undefined;
  readonly #overflowFrame: Buffer;
  // Translating reads the store, which answers asynchronously: one chain keeps events in store order.
  #delivery: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly views: ApiViews,
    options: EventStreamOptions = {},
  ) {
    this.runId = options.runId ?? randomBytes(6).toString('hex');
    if (!parseEventId(formatEventId(this.runId, 1))) throw new Error(`The event stream's run id "${this.runId}" is not 8 to 32 lowercase hex digits.`);
    this.limits = { ...defaultEventStreamLimits, ...options.limits };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`The event stream's ${name} must be a positive whole number, not ${String(value)}.`);
    }
    this.#logger = options.logger;
    const overflow: EventStreamOverflow = {
      message: `The daemon disconnected this event stream: the client was more than ${this.limits.clientBufferBytes} bytes behind. Reconnect with Last-Event-ID to catch up.`,
      limitBytes: this.limits.clientBufferBytes,
    };
    this.#overflowFrame = Buffer.from(`event: ${eventStreamMessages.overflow}\ndata: ${JSON.stringify(overflow)}\n\n`);
  }

  start(): void {
    // Events are numbered and kept even with no client connected: the extension reconnecting after a
    // dropped connection is exactly the client that needs them.
    this.#unsubscribe = this.store.onDidChange((event) => {
      this.#delivery = this.#delivery.then(async () => {
        try {
          for (const daemonEvent of await this.translate(event)) this.publish(daemonEvent);
        } catch {
          // Read after the fact, a record can be gone (a tenant removed since): its removal event follows.
        }
      });
    });
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    for (const client of this.#clients) client.open = false;
    this.#clients.clear();
    this.#pending.length = 0;
  }

  /** Numbers the event, serializes it once, keeps it for replay and hands it to every client. */
  publish(event: DaemonEvent): EventFrame {
    const seq = ++this.#seq;
    const id = formatEventId(this.runId, seq);
    const frame: EventFrame = { seq, id, bytes: Buffer.from(`id: ${id}\ndata: ${JSON.stringify(event)}\n\n`) };
    this.#remember(frame);
    if (this.#clients.size > 0) {
      this.#pending.push(frame);
      this.#pump();
    }
    return frame;
  }

  /**
   * Connects a client. Without `lastEventId` it gets events from now on; with one, the events after it
   * when they are all still kept, else word to reload. Whatever `start` holds must be sent before
   * control returns to the event loop: later events reach the subscriber in order after it.
   */
  subscribe(subscriber: EventStreamSubscriber, lastEventId?: string): EventStreamSubscription {
    const start = lastEventId === undefined ? ({ kind: 'live' } as const) : this.#since(lastEventId);
    const client: Client = {
      subscriber,
      deliveredSeq: start.kind === 'replay' ? (start.frames.at(-1)?.seq ?? this.#seq) : this.#seq,
      open: true,
      congested: false,
      bytesWhileCongested: 0,
    };
    this.#clients.add(client);
    return {
      start,
      sendReplay: () => {
        if (start.kind !== 'replay') return;
        for (const frame of start.frames) if (client.open && !subscriber.send(frame.bytes)) client.congested = true;
      },
      drained: () => {
        client.congested = false;
        client.bytesWhileCongested = 0;
      },
      unsubscribe: () => {
        client.open = false;
        this.#clients.delete(client);
      },
    };
  }

  /** The id of the newest event, or null before the first. */
  get lastEventId(): string | null {
    return this.#seq === 0 ? null : formatEventId(this.runId, this.#seq);
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  #since(lastEventId: string): EventStreamStart {
    const parsed = parseEventId(lastEventId);
    if (!parsed) return { kind: 'reload', message: 'Last-Event-ID is not an event id of this daemon.' };
    if (parsed.runId !== this.runId) return { kind: 'reload', message: 'Last-Event-ID is from an earlier run of the daemon.' };
    if (parsed.seq > this.#seq) return { kind: 'reload', message: 'Last-Event-ID names an event this daemon has not sent.' };
    if (parsed.seq === this.#seq) return { kind: 'replay', frames: [] };
    const oldest = this.#ring[0]?.seq ?? this.#seq + 1;
    if (parsed.seq < oldest - 1) {
      return { kind: 'reload', message: `The events after ${lastEventId} are no longer kept (the daemon keeps the last ${this.limits.replayEvents} events, up to ${this.limits.replayBytes} bytes).` };
    }
    return { kind: 'replay', frames: this.#ring.slice(parsed.seq - oldest + 1) };
  }

  #remember(frame: EventFrame): void {
    this.#ring.push(frame);
    this.#ringBytes += frame.bytes.length;
    while (this.#ring.length > 1 && (this.#ring.length > this.limits.replayEvents || this.#ringBytes > this.limits.replayBytes)) {
      this.#ringBytes -= (this.#ring.shift() as EventFrame).bytes.length;
    }
  }

  /**
   * Hands pending frames to clients in order. Writing to a socket copies into the kernel, so a large
   * event to many clients is sent in slices with a turn of the event loop between them; a client's
   * `deliveredSeq` keeps it from getting a frame twice or out of order meanwhile.
   */
  #pump(): void {
    // While a slice waits for its turn, new frames queue behind it rather than jump the wait.
    if (this.#pumping || this.#pumpScheduled) return;
    this.#pumping = true;
    try {
      let written = 0;
      while (this.#pending.length > 0) {
        const frame = this.#pending[0] as EventFrame;
        for (const client of this.#clients) {
          if (!client.open || client.deliveredSeq >= frame.seq) continue;
          if (written >= this.limits.fanOutSliceBytes) {
            this.#schedulePump();
            return;
          }
          client.deliveredSeq = frame.seq;
          if (client.congested) {
            client.bytesWhileCongested += frame.bytes.length;
            if (client.bytesWhileCongested > this.limits.clientBufferBytes) {
              this.#disconnect(client);
              continue;
            }
          }
          if (!client.subscriber.send(frame.bytes)) client.congested = true;
          written += frame.bytes.length;
        }
        this.#pending.shift();
      }
    } finally {
      this.#pumping = false;
    }
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #disconnect(client: Client): void {
    const bufferedBytes = client.subscriber.bufferedBytes;
    client.open = false;
    this.#clients.delete(client);
    this.#logger?.warn('disconnected an event stream client that fell behind', {
      bufferedBytes,
      limitBytes: this.limits.clientBufferBytes,
      clients: this.#clients.size,
    });
    client.subscriber.overflow(this.#overflowFrame);
  }

  private async translate(event: StoreEvent): Promise<DaemonEvent[]> {
    switch (event.type) {
      case 'tenant':
        return [{ type: 'tenant', tenant: await this.views.tenant(event.tenant) }];
      case 'tenant-removed':
        return [{ type: 'tenant-removed', tenantId: event.tenantId }];
      case 'users': {
        const stored = event.users ?? (await Promise.all(event.userIds.map((id) => this.store.getUser(event.tenantId, id)))).flatMap((user) => (user ? [user] : []));
        const users = stored.map((user) => this.views.user(user));
        const present = new Set(users.map((u) => u.id));
        const tenant = await this.store.getTenant(event.tenantId);
        return [
          { type: 'users', tenantId: event.tenantId, users, removedUserIds: event.userIds.filter((id) => !present.has(id)) },
          // Counts change with users.
          ...(tenant ? [{ type: 'tenant' as const, tenant: await this.views.tenant(tenant) }] : []),
        ];
      }
      case 'users-reloaded': {
        const tenant = await this.store.getTenant(event.tenantId);
        return [{ type: 'users-reloaded', tenantId: event.tenantId }, ...(tenant ? [{ type: 'tenant' as const, tenant: await this.views.tenant(tenant) }] : [])];
      }
      case 'task':
        return [{ type: 'task', task: this.views.task(event.task) }];
      case 'activity':
        return [{ type: 'activity', activity: await this.views.activity(event.activity) }];
      case 'log':
        return [{ type: 'log', entry: this.views.logEntry(event.entry) }];
    }
  }
}
