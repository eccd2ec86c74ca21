/** How the extension stands with the daemon; every view shows it, so it lives in the model. */
export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'starting' }
  | { kind: 'connected'; version: string }
  | { kind: 'reconnecting'; reason: string; retryAt: number }
  | { kind: 'unreachable'; reason: string }
  /** A shared deployment refused the engineer's token, or none is kept: only signing in helps. */
  | { kind: 'signInNeeded'; reason: string };
