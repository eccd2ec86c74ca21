/** Something that can be let go of; structurally the same as `vscode.Disposable`. */
export interface DisposableLike {
  dispose(): void;
}

/** Subscribe with a listener; the answer unsubscribes. Same shape as `vscode.Event`. */
export type Listener<T> = (listener: (value: T) => void) => DisposableLike;

/**
 * The `_onDidChangeX` / `onDidChangeX` pair without `vscode`, so the model can be tested by mocha.
 * A listener that throws does not stop the others: one broken view must not blind the rest.
 */
export class Emitter<T> {
  readonly #listeners = new Set<(value: T) => void>();
  #disposed = false;

  readonly event: Listener<T> = (listener) => {
    if (this.#disposed) return { dispose: () => undefined };
    this.#listeners.add(listener);
    return { dispose: () => void this.#listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(value);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#listeners.clear();
  }
}
