/**
 * The framing of `GET /v1/events` around the DaemonEvents themselves: event ids, what `hello` says, and
 * the two ways the daemon ends a client's catching up (`reload`, `overflow`). Shared by the daemon and
 * the extension's client so the two cannot drift.
 */

/** SSE event names besides the default `message`, which carries one DaemonEvent. */
export const eventStreamMessages = {
  /** The stream is live; its data is an EventStreamHello. */
  hello: 'hello',
  /** The missed events cannot be replayed: read the whole model from the API again. */
  reload: 'reload',
  /** The client fell too far behind and is being disconnected; it may reconnect with its last id. */
  overflow: 'overflow',
} as const;

export interface EventStreamHello {
  version: string;
  /** Differs for every start of the daemon: ids of another run cannot be resumed. */
  runId: string;
  /** True when the events missed since the client's `Last-Event-ID` follow, so nothing was lost. */
  resumed: boolean;
  /**
   * The id of the newest event sent before this stream began (null before the first): a client that
   * is not resuming follows on from it, so it can resume even before its first event arrives.
   */
  lastEventId: string | null;
}

export interface EventStreamReload {
  /** Why the missed events cannot be replayed, in words for the client's log. */
  message: string;
}

export interface EventStreamOverflow {
  message: string;
  limitBytes: number;
}

const eventIdPattern = /^([0-9a-f]{8,32})-([1-9][0-9]{0,14})$/;

/** `<runId>-<seq>`: seq counts from 1 within one run of the daemon. */
export function formatEventId(runId: string, seq: number): string {
  return `${runId}-${seq}`;
}

export function parseEventId(id: string): { runId: string; seq: number } | undefined {
  const match = eventIdPattern.exec(id);
  if (!match) return undefined;
  return { runId: match[1] as string, seq: Number(match[2]) };
}
