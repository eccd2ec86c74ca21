import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Reads `read()` until `accept` holds for what it answers, and answers that. A read that throws counts as
 * not yet. On time-out the error says what was awaited and what was last seen, which is what a failed
 * run in CI needs to be understood without a rerun.
 */
export async function waitFor<T>(what: string, read: () => Promise<T>, accept: (value: T) => boolean, options: WaitForOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let seen: string;
  for (;;) {
    try {
      const value = await read();
      if (accept(value)) return value;
      seen = inspect(value, { depth: 4, breakLength: 160, maxStringLength: 600 });
    } catch (error) {
      seen = `an error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${seen}`);
    await sleep(intervalMs);
  }
}
