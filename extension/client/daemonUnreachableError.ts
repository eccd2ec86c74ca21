/** No daemon answered at all: not running, still starting, or its address file is stale. */
export class DaemonUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DaemonUnreachableError';
  }
}
