import type { DisposableLike } from './emitter';
import type { TimerHandle, Timers } from './timers';

/**
 * Runs `action` every `ms` until disposed ("as of 5 min ago" has to move on by itself). Built on the
 * injected timers' `setTimeout`, so tests move it with a fake clock.
 */
export function every(timers: Timers, ms: number, action: () => void): DisposableLike {
  let handle: TimerHandle | undefined;
  let disposed = false;
  const next = (): void => {
    handle = timers.setTimeout(() => {
      if (disposed) return;
      next();
      action();
    }, ms);
  };
  next();
  return {
    dispose: () => {
      disposed = true;
      if (handle !== undefined) timers.clearTimeout(handle);
      handle = undefined;
    },
  };
}
