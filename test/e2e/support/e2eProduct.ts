import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Agent, fetch } from 'undici';
import type { DaemonEndpointFile } from '../../../protocol/daemonApi';
import { freePort, repoRoot, startCodeServer } from '../../../scripts/local/codeServer.mjs';
import { startLocalProduct, stopProcess, type LocalProduct } from '../../../scripts/local/localProduct.mjs';

export const screenshotRoot = join(repoRoot, 'test-output', 'e2e');

export interface E2eProduct {
  /** The simulator and daemon; reading it throws when started with `{ daemon: 'none' }`. */
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
  /** The data directory the extension is pointed at (`m365Status.daemon.dataDirectory`). */
  daemonDir: string;
  /**
   * Every line the simulator, daemon and code-server printed, the browser's console errors and warnings,
   * and the test's notes, in order and prefixed with the time and their source. Written to
   * `<screenshotDir>/product.log` by `stop()`, with the extension's and the extension host's logs.
   */
  logs: readonly string[];
  /** What the extension wrote to its "M365 Status" output channel (its log file in code-server's user data). */
  extensionLog(): Promise<string>;
  /** The extension host's own log: activation, and errors an extension let escape (with their stacks). */
  extensionHostLog(): Promise<string>;
  /** Adds a line to the logs, so that what the test did can be lined up with what the product said. */
  note(line: string): void;
  /** Stops and starts the daemon process on the same data directory. */
  stopDaemon(): Promise<void>;
  startDaemon(): Promise<void>;
  /** Stops everything this harness started; safe to call twice and after a failed start. */
  stop(): Promise<void>;
}

export interface E2eProductOptions {
  pollInterval?: string;
  /**
   * `demo` (the default): the simulator with its demo tenants and a daemon watching them. `none`: no
   * simulator and no daemon, only an empty data directory, as on a machine where nothing runs yet.
   */
  daemon?: 'demo' | 'none';
  /** Extra user settings for code-server (a theme, for example). */
  settings?: Record<string, unknown>;
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-breakpad',
];

// Everything started by any harness in this process, killed hard if mocha exits without `stop()` (an
// interrupted run, or an exception that escaped a hook): no code-server or daemon may outlive the run.
const started = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  started.add(child);
  child.once('exit', () => started.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const running of started) {
      const pids = [...(running.pid === undefined ? [] : descendants(running.pid)), running.pid];
      for (const pid of pids) {
        try {
          if (pid !== undefined) process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

/** Whether a process runs; a zombie (exited, waiting to be reaped) does not. */
async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined ? true : stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

async function killPid(pid: number, timeoutMs = 5000): Promise<void> {
  const alive = (): Promise<boolean> => isRunning(pid);
  if (!(await alive())) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (!(await alive())) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

/** Log files under code-server's `<user data>/logs/<session>/` whose path matches `pattern`, joined. */
async function readLogs(userDataDir: string, pattern: RegExp): Promise<string> {
  const found = await readdir(join(userDataDir, 'logs'), { recursive: true }).catch(() => [] as string[]);
  const files = found.filter((path) => pattern.test(path.split('\\').join('/'))).sort();
  const texts = await Promise.all(files.map((path) => readFile(join(userDataDir, 'logs', path), 'utf8').catch(() => '')));
  return texts.join('\n');
}

/** The extension's output channel: `exthost<N>/m365-status.m365-status/M365 Status.log`. */
const extensionLogFiles = /\/exthost\d*\/m365-status\.m365-status\/.+\.log$/;
/** The extension host's log: `exthost<N>/remoteexthost.log` (`exthost.log` in desktop VS Code). */
const extensionHostLogFiles = /\/exthost\d*\/(remote)?exthost\.log$/;

/**
 * The processes under `pid` (children, their children…), read from /proc. code-server's extension host
 * and file watcher outlive it by a few seconds when it is stopped; they are ended by id, not by name.
 * Synchronous, so that the exit hook can use it too.
 */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(ppid)) parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

async function readEndpoint(daemonDir: string): Promise<DaemonEndpointFile | undefined> {
  try {
    return JSON.parse(await readFile(join(daemonDir, 'daemon.json'), 'utf8')) as DaemonEndpointFile;
  } catch {
    return undefined;
  }
}

let built: Promise<void> | undefined;

/** `node scripts/build.mjs` once per run, so that what is tested is this checkout (about 2 s). */
export function buildOnce(): Promise<void> {
  built ??= new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/build.mjs', 'sim', 'daemon', 'extension', 'webview'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build failed (${code}):\n${output}`))));
  });
  return built;
}

/**
 * The whole product for real: the bundled simulator and daemon on free loopback ports with their own
 * temporary data, code-server with this checkout's extension, and headless Chromium driving it.
 * Everything is stopped by `stop()`, also after a failure.
 */
export async function startE2eProduct(suite: string, options: E2eProductOptions = {}): Promise<E2eProduct> {
  if (!process.env.M365_E2E_SKIP_BUILD) await buildOnce();
  for (const built of ['dist/sim.js', 'dist/daemon.cjs', 'dist/extension.cjs', 'dist/webview/credentialHealth.js']) {
    if (!existsSync(join(repoRoot, built))) throw new Error(`${built} is missing: run npm run build first`);
  }
  if (!existsSync(join(repoRoot, '.vscode-test/node_modules/code-server/out/node/entry.js'))) {
    throw new Error('code-server is missing: run bash scripts/install-vscode.sh first');
  }
  const dataRoot = join(repoRoot, 'test-output', 'e2e-data');
  const base = join(dataRoot, `${suite}-${process.pid}`);
  // What an interrupted earlier run left behind (its process is gone) goes now.
  for (const entry of await readdir(dataRoot).catch(() => [] as string[])) {
    const pid = Number(/-(\d+)$/.exec(entry)?.[1]);
    if (entry.startsWith(`${suite}-`) && Number.isInteger(pid) && pid !== process.pid && !(await isRunning(pid))) {
      await rm(join(dataRoot, entry), { recursive: true, force: true });
    }
  }
  const screenshotDir = join(screenshotRoot, suite);
  await rm(screenshotDir, { recursive: true, force: true });
  await mkdir(screenshotDir, { recursive: true });
  const logs: string[] = [];
  const onLine = (name: string, line: string): void => {
    logs.push(`[${new Date().toISOString().slice(11, 23)} ${name}] ${line}`);
  };

  let product: LocalProduct | undefined;
  let editor: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  let browser: Browser | undefined;
  let daemonProcess: ChildProcess | undefined;
  let ca: Agent | undefined;
  let stopped = false;
  const daemonDir = options.daemon === 'none' ? join(base, 'no-daemon') : join(base, 'product', 'daemon');

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Each step on its own: one that fails must not leave the others running.
    await browser?.close().catch(() => undefined);
    if (editor) {
      const editorPid = editor.child.pid;
      const underEditor = editorPid === undefined ? [] : descendants(editorPid);
      await stopProcess(editor.child).catch(() => undefined);
      await Promise.all(underEditor.map((pid) => killPid(pid)));
    }
    if (daemonProcess) await stopProcess(daemonProcess).catch(() => undefined);
    await product?.stop().catch(() => undefined);
    // A daemon the extension itself started (detached, by design) must not outlive the run either.
    const leftover = await readEndpoint(daemonDir);
    if (leftover && leftover.pid !== process.pid) await killPid(leftover.pid);
    await ca?.close().catch(() => undefined);
    await writeFile(join(screenshotDir, 'product.log'), `${logs.join('\n')}\n`).catch(() => undefined);
    if (editor) {
      await writeFile(join(screenshotDir, 'extension.log'), await readLogs(editor.userDataDir, extensionLogFiles)).catch(() => undefined);
      await writeFile(join(screenshotDir, 'extension-host.log'), await readLogs(editor.userDataDir, extensionHostLogFiles)).catch(() => undefined);
    }
    if (!process.env.M365_E2E_KEEP_DATA) await rm(base, { recursive: true, force: true }).catch(() => undefined);
  };

  try {
    if (options.daemon === 'none') {
      await rm(base, { recursive: true, force: true });
      await mkdir(daemonDir, { recursive: true, mode: 0o700 });
    } else {
      product = await startLocalProduct({ dataDir: join(base, 'product'), pollInterval: options.pollInterval ?? '5s', onLine });
      for (const child of product.processes) track(child);
      daemonProcess = product.daemonProcess;
      ca = new Agent({ connect: { ca: await readFile(product.sim.caPath, 'utf8') } });
    }
    editor = await startCodeServer({
      baseDir: join(base, 'vscode'),
      port: await freePort(),
      settings: {
        'm365Status.daemon.dataDirectory': daemonDir,
        'm365Status.daemon.autoStart': false,
        // Built-in extensions would otherwise post telemetry, fail on DNS (no internet here) and report
        // it to the workbench as unexpected errors, drowning the ones that matter.
        'telemetry.telemetryLevel': 'off',
        // The workspace sits inside this repository: no "open the parent repository?" notification.
        'git.openRepositoryInParentFolders': 'never',
        ...options.settings,
      },
      onLine,
    });
    track(editor.child);
    const { userDataDir } = editor;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (message) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return;
      const { url, lineNumber } = message.location();
      onLine(`console.${message.type()}`, `${message.text()}${url ? ` (${url.replace(/^.*\/static\//, '')}:${lineNumber})` : ''}`);
    });
    page.on('pageerror', (error) => onLine('pageerror', error.message));
    await page.goto(editor.url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });

    let shot = 0;
    const requireProduct = (): LocalProduct => {
      if (!product) throw new Error('this harness was started without the simulator and daemon');
      return product;
    };
    const call = async <T>(url: string, method: string, init: { dispatcher?: Agent; headers: Record<string, string> }, body: unknown) => {
      const response = await fetch(url, {
        method,
        ...(init.dispatcher ? { dispatcher: init.dispatcher } : {}),
        headers: { ...init.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    };

    return {
      get product() {
        return requireProduct();
      },
      page,
      browser,
      editorUrl: editor.url,
      screenshotDir,
      daemonDir,
      logs,
      note: (line) => onLine('test', line),
      extensionLog: () => readLogs(userDataDir, extensionLogFiles),
      extensionHostLog: () => readLogs(userDataDir, extensionHostLogFiles),
      async simControl<T>(method: string, path: string, body?: unknown) {
        return call<T>(`${requireProduct().sim.url}/_sim${path}`, method, { ...(ca ? { dispatcher: ca } : {}), headers: {} }, body);
      },
      async daemonApi<T>(method: string, path: string, body?: unknown) {
        const endpoint = await readEndpoint(daemonDir);
        if (!endpoint) throw new Error(`no daemon.json in ${daemonDir}: the daemon is not running`);
        return call<T>(`${endpoint.url}${path}`, method, { headers: { authorization: `Bearer ${endpoint.token}`, 'x-m365-operator': 'e2e' } }, body);
      },
      async screenshot(name) {
        const path = join(screenshotDir, `${String(++shot).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '-')}.png`);
        await page.screenshot({ path });
        return path;
      },
      async stopDaemon() {
        if (daemonProcess) await stopProcess(daemonProcess);
      },
      async startDaemon() {
        const { daemonArgs } = requireProduct();
        const child = spawn(process.execPath, daemonArgs, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
        track(child);
        daemonProcess = child;
        for (const stream of [child.stdout, child.stderr]) {
          stream.on('data', (chunk: Buffer) => {
            for (const line of chunk.toString().split('\n')) if (line.trim()) onLine('daemon', line);
          });
        }
        for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
          if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}) before it was ready`);
          const endpoint = await readEndpoint(daemonDir);
          if (endpoint?.pid === child.pid) return;
          await sleep(50);
        }
        throw new Error('the daemon did not write daemon.json within 20 s');
      },
      stop,
    };
  } catch (error) {
    await stop();
    process.stderr.write(`${logs.slice(-40).join('\n')}\n`);
    throw error;
  }
}
