import type { Timers } from '../../../extension/common/timers';
import { NOW } from './viewFixtures';

/** Timers that run only when told: time moves by `advance`. */
export function manualTimers(): Timers & { advance(ms: number): void } {
  let now = NOW;
  const due: Array<{ at: number; callback: () => void; handle: object }> = [];
  return {
    now: () => now,
    setTimeout: (callback, ms) => {
      const handle = {};
      due.push({ at: now + ms, callback, handle });
      return handle;
    },
    clearTimeout: (handle) => {
      const index = due.findIndex((entry) => entry.handle === handle);
      if (index >= 0) due.splice(index, 1);
    },
    advance(ms) {
      now += ms;
      for (const entry of due.filter((candidate) => candidate.at <= now)) {
        due.splice(due.indexOf(entry), 1);
        entry.callback();
      }
    },
  };
}
