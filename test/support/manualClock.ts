import { sleepOn, type Clock, type Timer } from '../../daemon/clock';

interface ManualTimer {
  readonly dueAt: number;
  readonly order: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. Timers fire in due order while time is advanced, each with
 * `now()` set to its own due time, the way they would have fired in real time.
 */
export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  #timers: ManualTimer[] = [];

  constructor(startMs: number = Date.UTC(2025, 0, 1, 9, 0, 0)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): Timer {
    const timer: ManualTimer = {
      dueAt: this.#now + Math.max(0, delayMs),
      order: this.#order++,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward, firing due timers synchronously. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('ManualClock.advance: time only moves forward; use set() to go back');
    const target = this.#now + ms;
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#now = timer.dueAt;
      timer.callback();
    }
    this.#now = target;
  }

  /**
   * Like advance(), but lets promise chains and I/O callbacks run after each timer fires, so async work
   * started by one timer (a poll, a retry) can schedule the next before time moves on.
   */
  async advanceAsync(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError('ManualClock.advanceAsync: time only moves forward');
    const target = this.#now + ms;
    await settle();
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#now = timer.dueAt;
      timer.callback();
      await settle();
    }
    this.#now = target;
  }

  /** Jumps to an absolute time. Going forward fires due timers; going back fires nothing. */
  set(ms: number): void {
    if (ms >= this.#now) this.advance(ms - this.#now);
    else this.#now = ms;
  }

  #nextDue(target: number): ManualTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    let next: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.dueAt > target) continue;
      if (!next || timer.dueAt < next.dueAt || (timer.dueAt === next.dueAt && timer.order < next.order)) next = timer;
    }
    if (next) next.cancelled = true;
    return next;
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
