import type { DisposableLike } from './emitter';

/**
 * Owns its children and lets go of them in reverse order, once. Every long-lived object in the extension
 * is one of these or is registered with one, so nothing escapes `context.subscriptions`.
 */
export class DisposableBase implements DisposableLike {
  readonly #children: DisposableLike[] = [];
  #disposed = false;

  protected get isDisposed(): boolean {
    return this.#disposed;
  }

  protected register<T extends DisposableLike>(child: T): T {
    if (this.#disposed) {
      child.dispose();
    } else {
      this.#children.push(child);
    }
    return child;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const child of this.#children.splice(0).reverse()) {
      try {
        child.dispose();
      } catch {
        // Disposal is best effort: one failing child must not keep the others alive.
      }
    }
  }
}
