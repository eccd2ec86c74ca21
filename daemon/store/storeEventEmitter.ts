import type { Logger } from '../logging/logger';
import type { StoreEvent } from './storeTypes';

/** The store's `onDidChange`: a listener that throws is logged and does not stop the others. */
export class StoreEventEmitter {
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.#logger = logger;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(...events: StoreEvent[]): void {
    for (const event of events) {
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (error) {
          this.#logger?.error('A store listener threw', { error, event: event.type });
        }
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
