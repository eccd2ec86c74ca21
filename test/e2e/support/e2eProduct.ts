import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { fetch, Agent } from 'undici';
import { readFile } from 'node:fs/promises';
import { freePort, repoRoot, startCodeServer } from '../../../scripts/local/codeServer.mjs';
import { startLocalProduct, stopProcess, type LocalProduct } from '../../../scripts/local/localProduct.mjs';

export const screenshotRoot = join(repoRoot, 'test-output', 'e2e');

export interface E2eProduct {
  product: LocalProduct;
  page: Page;
  browser: Browser;
  editorUrl: string;
  /** Calls the simulator's control API (trusting its CA, as the daemon does). */
  simControl<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Calls the daemon's API with its token. */
  daemonApi<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Saves a screenshot of the page as `NN-name.png`; answers its path. */
  screenshot(name: string): Promise<string>;
  screenshotDir: string;
  /** Stops and starts the daemon process on the same data directory. */
  stopDaemon(): Promise<void>;
  startDaemon(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole product for real: the bundled simulator and daemon on free loopback ports with their own
 * temporary data, code-server with this checkout's extension, and headless Chromium driving it.
 * Everything is stopped by `stop()`, also after a failure.
 */
export async function startE2eProduct(suite: string, options: { pollInterval?: string } = {}): Promise<E2eProduct> {
  for (const built of ['dist/sim.js', 'dist/daemon.js', 'dist/extension.cjs']) {
    if (!existsSync(join(repoRoot, built))) throw new Error(`${built} is missing: run npm run build first`);
  }
  const base = join(repoRoot, 'test-output', 'e2e-data', `${suite}-${process.pid}`);
  const screenshotDir = join(screenshotRoot, suite);
  await rm(screenshotDir, { recursive: true, force: true });
  await mkdir(screenshotDir, { recursive: true });
  const logs: string[] = [];
  const onLine = (name: string, line: string) => logs.push(`[${name}] ${line}`);
  const product = await startLocalProduct({ dataDir: join(base, 'product'), pollInterval: options.pollInterval ?? '5s', onLine });
  let editor: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  let browser: Browser | undefined;
  try {
    editor = await startCodeServer({
      baseDir: join(base, 'vscode'),
      port: await freePort(),
      settings: { 'm365Status.daemon.dataDirectory': product.daemonDir, 'm365Status.daemon.autoStart': false },
      onLine,
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(editor.url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const ca = new Agent({ connect: { ca: await readFile(product.sim.caPath, 'utf8') } });
    let shot = 0;
    let daemonProcess = product.daemonProcess;
    const running = { editor, browser };
    return {
      product,
      page,
      browser,
      editorUrl: editor.url,
      screenshotDir,
      async simControl(method, path, body) {
        const response = await fetch(`${product.sim.url}/_sim${path}`, {
          method,
          dispatcher: ca,
          headers: { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await response.text();
        return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
      },
      async daemonApi(method, path, body) {
        const endpoint = JSON.parse(await readFile(join(product.daemonDir, 'daemon.json'), 'utf8')) as { url: string; token: string };
        const response = await fetch(`${endpoint.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await response.text();
        return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
      },
      async screenshot(name) {
        const path = join(screenshotDir, `${String(++shot).padStart(2, '0')}-${name}.png`);
        await page.screenshot({ path });
        return path;
      },
      async stopDaemon() {
        await stopProcess(daemonProcess);
      },
      async startDaemon() {
        const { spawn } = await import('node:child_process');
        daemonProcess = spawn(process.execPath, product.daemonArgs, { stdio: 'ignore' });
        product.processes.push(daemonProcess);
        for (let i = 0; i < 200; i++) {
          try {
            const endpoint = JSON.parse(await readFile(join(product.daemonDir, 'daemon.json'), 'utf8')) as { pid: number };
            if (endpoint.pid === daemonProcess.pid) return;
          } catch {
            // not written yet
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('the daemon did not come back');
      },
      async stop() {
        await running.browser.close().catch(() => undefined);
        await stopProcess(running.editor.child);
        await product.stop();
        await ca.close();
      },
    };
  } catch (error) {
    await browser?.close().catch(() => undefined);
    if (editor) await stopProcess(editor.child);
    await product.stop();
    process.stderr.write(`${logs.slice(-40).join('\n')}\n`);
    throw error;
  }
}
