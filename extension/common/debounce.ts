import type { DisposableLike } from './emitter';
import type { TimerHandle, Timers } from './timers';

export interface Debounced extends DisposableLike {
  /** Asks for a run; does nothing while one is already waiting. */
  schedule(): void;
  /** Forgets a waiting run. */
  cancel(): void;
  readonly pending: boolean;
}

/**
 * Runs `action` once, `ms` after the first request of a burst, so a view redraws once per burst of
 * model events (a refresh queues two tasks that start and finish within milliseconds) instead of once
 * per event. Later requests do not push the run back: under a steady stream of events the view still
 * redraws every `ms`, and never falls behind for long.
 */
export function debounce(timers: Timers, ms: number, action: () => void): Debounced {
  let handle: TimerHandle | undefined;
  let disposed = false;
  const cancel = (): void => {
    if (handle !== undefined) timers.clearTimeout(handle);
    handle = undefined;
  };
  return {
    schedule: () => {
      if (disposed || handle !== undefined) return;
      handle = timers.setTimeout(() => {
        handle = undefined;
        action();
      }, ms);
    },
    cancel,
    get pending() {
      return handle !== undefined;
    },
    dispose: () => {
      disposed = true;
      cancel();
    },
  };
}
