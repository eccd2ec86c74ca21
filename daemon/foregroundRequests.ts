/**
 * How long a slice of background work waits at most for the API requests in flight. A lock waits on
 * Graph and on the disk several times; each wait would otherwise end behind every sync's next slice.
 */
export const FOREGROUND_MAX_WAIT_MS = 50;

/**
 * The API requests being answered, so that background work (a sync's next slice of a page, its next
 * page) lets them finish first: each time a request's Graph call or disk write comes back, it runs at
 * once instead of behind a turn of every sync under way. The wait is bounded, so a request that takes
 * long (Graph slow to answer a lock) slows a sync down but never stops it.
 *
 * Background slices run one per turn of the event loop, oldest first, whether or not a request is in
 * flight: a request that arrives while eight syncs are under way waits for one slice, not eight.
 *
 * One per daemon, made where the daemon is put together and given to its API, its syncs and its store:
 * daemons in one process would otherwise hold back each other's syncs with their own requests.
 */
export class ForegroundRequests {
  readonly maxWaitMs: number;
  #inFlight = 0;
  /** Slices waiting for their turn, oldest first, with when they began to wait. */
  #waiting: Array<{ run: () => void; since: number }> = [];
  #turnScheduled = false;
  #boundTimer: NodeJS.Timeout | undefined;

  constructor(maxWaitMs = FOREGROUND_MAX_WAIT_MS) {
    this.maxWaitMs = maxWaitMs;
  }

  get inFlight(): number {
    return Math.max(0, this.#inFlight);
  }

  /** A request is being answered until the function returned is called (more calls change nothing). */
  begin(): () => void {
    this.#inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#leave();
    };
  }

  /**
   * A request that waits for background work (a rotation answered once its sync is done) does not count
   * meanwhile: that sync would otherwise give way to the very request waiting for it.
   */
  async whileWaitingOn<T>(work: Promise<T>): Promise<T> {
    this.#leave();
    try {
      return await work;
    } finally {
      this.#inFlight++;
    }
  }

  /**
   * Resolves on a later turn of the event loop, once no request is in flight or after `maxWaitMs` at the
   * latest, and after every slice that asked before it: where background work gives way between two slices.
   */
  backgroundTurn(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiting.push({ run: resolve, since: performance.now() });
      this.#scheduleTurn();
    });
  }

  #scheduleTurn(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    setImmediate(this.#turn);
  }

  /** One slice per turn: the I/O of requests that came meanwhile is handled before the next. */
  readonly #turn = (): void => {
    this.#turnScheduled = false;
    const oldest = this.#waiting[0];
    if (!oldest) return;
    const waited = performance.now() - oldest.since;
    if (this.#inFlight > 0 && waited < this.maxWaitMs) {
      this.#boundTimer ??= setTimeout(() => {
        this.#boundTimer = undefined;
        this.#scheduleTurn();
      }, this.maxWaitMs - waited);
      return;
    }
    this.#waiting.shift();
    oldest.run();
    if (this.#waiting.length > 0) this.#scheduleTurn();
  };

  #leave(): void {
    this.#inFlight--;
    // Below zero only for a moment: a request that ended while it waited on background work.
    if (this.#inFlight > 0 || this.#waiting.length === 0) return;
    clearTimeout(this.#boundTimer);
    this.#boundTimer = undefined;
    // On the next turn, not now: the response that ended the last request is still being handed over.
    this.#scheduleTurn();
  }
}
