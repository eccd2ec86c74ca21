import type { E2eProduct } from './e2eProduct';

/**
 * The hooks every end-to-end file needs around its one product: each test's title in the log, a
 * screenshot and the last log lines when a test fails (then Escape, so an open dialog cannot block the
 * steps after it), and the product stopped at the end, also after a failure.
 */
export function productHooks(current: () => E2eProduct | undefined): void {
  beforeEach(function () {
    current()?.note(`test: ${this.currentTest?.title ?? ''}`);
  });

  afterEach(async function () {
    const product = current();
    if (this.currentTest?.state !== 'failed' || !product) return;
    const path = await product.screenshot(`FAILED-${this.currentTest.title.slice(0, 60)}`).catch(() => 'none');
    process.stdout.write(`      failure screenshot: ${path}\n      last log lines:\n${product.logs.slice(-25).map((line) => `        ${line}`).join('\n')}\n`);
    for (let press = 0; press < 3; press++) await product.page.keyboard.press('Escape').catch(() => undefined);
  });

  after(async function () {
    this.timeout(60_000);
    const product = current();
    // Also stops a daemon the extension started: it runs detached, by design.
    await product?.stop();
    if (product) process.stdout.write(`      screenshots and logs: ${product.screenshotDir}\n`);
  });
}
