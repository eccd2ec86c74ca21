export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first): doubling from `initialMs` up to
 * `maxMs`, then spread over its upper half by `random` so that several windows do not knock on a
 * restarting daemon in step.
 */
export function reconnectBackoff(attempt: number, random: () => number, policy: BackoffPolicy = defaultBackoff): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(1, Math.max(0, random())));
}
