/** Times one async call in milliseconds. */
export async function measureLatency(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
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
