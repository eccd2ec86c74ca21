/**
 * Runs functions one at a time per key (a tenant), in call order; different keys run concurrently.
 * A failing function does not block the ones queued after it.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.catch(() => undefined).then(fn);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running; empty when idle (lets tests see that nothing leaks). */
  get activeKeys(): number {
    return this.#tails.size;
  }
}
