import { setFlagsFromString } from 'node:v8';

/**
 * How far past what was live at the last full collection V8 lets the heap grow before the next one, in
 * percent. V8 chooses up to 300% on its own: the daemon's live heap is mostly its users, which stay, while
 * each round's requests leave garbage behind, so the heap grew to three or four times its live size
 * between collections, and that, not the users, was the peak resident memory with many tenants.
 */
export const HEAP_GROWING_PERCENT = 30;

/** Bounds the heap's growth between full collections for the rest of the process's life. */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
