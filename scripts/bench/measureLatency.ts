/** Times one async call in milliseconds. */
export async function measureLatency(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

/**
 * Times one call of the daemon's API by the bench's clock, beside the daemon's own time that its answer
 * reports (Server-Timing): what the first adds to the second is the client's, the network's and the wait
 * for a turn of the daemon's event loop before its handler starts.
 */
export async function measureWithDaemonTime<T extends { daemonMs: number }>(call: () => Promise<T>): Promise<T & { ms: number }> {
  const started = performance.now();
  const answer = await call();
  const ms = performance.now() - started;
  return { ...answer, ms };
}

/** Calls `step` one after another until `done` resolves, timing each; answers every timing in ms. */
export async function sampleWhile(done: Promise<unknown>, step: () => Promise<unknown>, pauseMs = 50): Promise<number[]> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  const timings: number[] = [];
  while (!finished) {
    timings.push(await measureLatency(step));
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return timings;
}
