// Loads the built extension into a real VS Code (code-server 4.100.3 = VS Code 1.100, from
// scripts/install-vscode.sh), opens its view container in headless Chromium, and checks that it
// activated: the Tenants view shows its welcome content, the status bar item says there is no daemon,
// and the credential-health page renders under its Content-Security-Policy. With `--with-daemon`, it
// also starts the simulator and a real daemon, registers tenants, and checks the tree shows them.
//
// Usage: node --import tsx test/e2e/activationSmoke.ts [--with-daemon] [--theme NAME] [--out DIR]
// Exit code 0 when every check passed; screenshots go to DIR (default test-output/e2e).
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser, Frame } from 'playwright-core';
import { chromium } from 'playwright-core';
import { readDaemonEndpoint } from '../../extension/daemon/daemonEndpoint';
import type { DaemonHarness } from '../support/daemonHarness';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const codeServerEntry = join(repo, '.vscode-test/node_modules/code-server/out/node/entry.js');

const { values } = parseArgs({
  options: {
    'with-daemon': { type: 'boolean', default: false },
    out: { type: 'string', default: join(repo, 'test-output/e2e') },
    // e.g. "Default Dark Modern", "Default High Contrast": the screenshots then show that theme.
    theme: { type: 'string' },
  },
});
const outDir = resolve(values.out ?? 'test-output/e2e');
const withDaemon = values['with-daemon'] === true;

const results: Array<{ check: string; ok: boolean; detail?: string }> = [];
function check(name: string, ok: boolean, detail?: string): void {
  results.push({ check: name, ok, ...(detail === undefined ? {} : { detail }) });
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}\n`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { redirect: 'manual' });
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

/** An unpacked extension folder, as `--extensions-dir` expects it: publisher.name-version. */
function installExtension(extensionsDir: string): void {
  const target = join(extensionsDir, 'm365-status.m365-status-0.1.0');
  mkdirSync(join(target, 'dist'), { recursive: true });
  for (const file of ['package.json', 'README.md', 'LICENSE']) if (existsSync(join(repo, file))) cpSync(join(repo, file), join(target, file));
  cpSync(join(repo, 'dist/extension.cjs'), join(target, 'dist/extension.cjs'));
  cpSync(join(repo, 'dist/webview'), join(target, 'dist/webview'), { recursive: true });
  if (existsSync(join(repo, 'dist/daemon.js'))) cpSync(join(repo, 'dist/daemon.js'), join(target, 'dist/daemon.js'));
}

async function main(): Promise<number> {
  if (!existsSync(codeServerEntry)) {
    process.stderr.write('code-server is missing: run scripts/install-vscode.sh first.\n');
    return 2;
  }
  const build = spawnSync(process.execPath, [join(repo, 'scripts/build.mjs'), 'extension', 'webview', 'daemon'], { cwd: repo, stdio: 'inherit' });
  if (build.status !== 0) return 2;

  mkdirSync(outDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'm365-e2e-'));
  const children: ChildProcess[] = [];
  let browser: Browser | undefined;
  let harness: DaemonHarness | undefined;
  try {
    const userDataDir = join(scratch, 'user-data');
    const extensionsDir = join(scratch, 'extensions');
    const workspace = join(scratch, 'workspace');
    for (const dir of [userDataDir, extensionsDir, workspace, join(scratch, 'xdg-config'), join(scratch, 'xdg-data'), join(userDataDir, 'User')]) mkdirSync(dir, { recursive: true });
    installExtension(extensionsDir);

    let dataDirectory = join(scratch, 'no-daemon');
    if (withDaemon) {
      const { DaemonHarness: Harness } = await import('../support/daemonHarness');
      harness = await Harness.start({ pollIntervalMs: '10s' });
      await harness.registerTenant({ users: 40, userMix: { privilegedShare: 0, onPremisesShare: 0.2, disabledShare: 0.1 } });
      await harness.registerTenant({ users: 25, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
      dataDirectory = harness.dataDir;
    }
    writeFileSync(
      join(userDataDir, 'User/settings.json'),
      JSON.stringify(
        {
          'security.workspace.trust.enabled': false,
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'm365Status.daemon.autoStart': false,
          'm365Status.daemon.dataDirectory': dataDirectory,
          ...(values.theme ? { 'workbench.colorTheme': values.theme } : {}),
        },
        null,
        2,
      ),
    );

    const port = await freePort();
    const codeServer = spawn(
      process.execPath,
      [
        codeServerEntry,
        '--auth', 'none',
        '--bind-addr', `127.0.0.1:${port}`,
        '--user-data-dir', userDataDir,
        '--extensions-dir', extensionsDir,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        workspace,
      ],
      {
        cwd: scratch,
        env: { ...process.env, XDG_CONFIG_HOME: join(scratch, 'xdg-config'), XDG_DATA_HOME: join(scratch, 'xdg-data') },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    children.push(codeServer);
    let serverLog = '';
    codeServer.stdout?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
    codeServer.stderr?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });

    const container = page.locator('.activitybar [aria-label^="M365 Status"]').first();
    await container.waitFor({ state: 'visible', timeout: 30_000 });
    check('the M365 Status view container is in the activity bar', true);
    await container.click();

    const statusItem = page.locator('#m365-status\\.m365-status\\.m365Status\\.status, [id$="m365Status.status"]').first();
    if (!withDaemon) {
      const welcome = page.getByRole('button', { name: 'Start Daemon' }).first();
      try {
        await welcome.waitFor({ state: 'visible', timeout: 30_000 });
        check('the extension activated: the Tenants view shows the no-daemon welcome content', true);
      } catch {
        check('the extension activated: the Tenants view shows the no-daemon welcome content', false);
      }
      const text = await statusItem.textContent({ timeout: 10_000 }).catch(() => null);
      check('the status bar item says there is no daemon', (text ?? '').includes('M365: no daemon'), text ?? 'not found');
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(outDir, 'm365-view-no-daemon.png') });

      // "Start Daemon" runs the bundled dist/daemon.js with the extension host's Node; the views follow it.
      await welcome.click();
      try {
        await page.getByRole('button', { name: 'Add Tenant' }).first().waitFor({ state: 'visible', timeout: 45_000 });
        check('Start Daemon starts the bundled daemon and the views connect to it', true);
      } catch {
        check('Start Daemon starts the bundled daemon and the views connect to it', false);
      }
      const after = await statusItem.textContent({ timeout: 10_000 }).catch(() => null);
      check('the status bar item says no tenant is registered yet', (after ?? '').includes('M365: no tenants'), after ?? 'not found');
      await page.screenshot({ path: join(outDir, 'm365-view-daemon-started.png') });
    } else {
      const tenantsPane = '.pane:has(.pane-header[aria-label^="Tenants"])';
      const tenant = page.locator(`${tenantsPane} .monaco-list-row[aria-level="1"]`).first();
      try {
        await tenant.waitFor({ state: 'visible', timeout: 30_000 });
        check('the Tenants view lists the tenants the daemon watches', true);
        await tenant.click();
        await page.keyboard.press('ArrowRight');
        await page.locator(`${tenantsPane} .monaco-list-row[aria-level="2"]`).first().waitFor({ state: 'visible', timeout: 20_000 });
        const users = await page.locator(`${tenantsPane} .monaco-list-row[aria-level="2"]`).count();
        check('a tenant opens onto its users', users > 0, `${users} rows`);
      } catch (error) {
        check('the Tenants view lists the tenants the daemon watches', false, String(error));
      }
      const text = await statusItem.textContent({ timeout: 10_000 }).catch(() => null);
      check('the status bar item counts the tenants', /M365: 2|need attention/.test(text ?? ''), text ?? 'not found');
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(outDir, 'm365-view-with-daemon.png') });
    }

    // The credential-health page, through the command palette as an operator opens it.
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.keyboard.type('M365: Show Credential Health');
    await page.waitForTimeout(400);
    await page.keyboard.press('Enter');
    let heading: string | null = null;
    for (let attempt = 0; attempt < 60 && !heading; attempt++) {
      await page.waitForTimeout(250);
      for (const frame of page.frames()) {
        const found = await frame
          .locator('h1')
          .first()
          .textContent({ timeout: 100 })
          .catch(() => null);
        if (found?.includes('Credential health')) heading = found;
      }
    }
    check('the credential-health page renders in its webview', heading !== null);

    if (harness) {
      // Live, and hostile text stays text: a tenant registered now, with markup for a name and a wrong
      // secret, must reach the open page through the event stream and raise the red banner.
      const hostile = '<img src=x onerror=alert(1)>';
      const simTenant = await harness.sim.createTenant({ users: 5 });
      const added = await harness.api('POST', '/v1/tenants', {
        tenant: simTenant.id,
        displayName: hostile,
        appId: simTenant.app.appId,
        credential: { kind: 'secret', clientSecret: 'not-the-secret-value' },
      });
      check('the daemon registered a tenant with a wrong secret', added.status === 201, `status ${added.status}`);
      let banner: string | null = null;
      let page_: Frame | undefined;
      for (let attempt = 0; attempt < 60 && !banner; attempt++) {
        await page.waitForTimeout(250);
        for (const frame of page.frames()) {
          const text = await frame.locator('#banner:not([hidden])').first().textContent({ timeout: 100 }).catch(() => null);
          if (text) {
            banner = text;
            page_ = frame;
          }
        }
      }
      check('the red banner appears live, naming the failing tenant as plain text', (banner ?? '').includes(hostile), banner ?? 'no banner');
      if (page_) {
        const images = await page_.locator('img').count();
        check('a display name of <img src=x onerror=alert(1)> shows as those characters, not as an image', images === 0, `${images} img elements`);
      }
    }
    await page.waitForTimeout(700);
    await page.screenshot({ path: join(outDir, withDaemon ? 'credential-health-with-daemon.png' : 'credential-health-no-daemon.png') });
    writeFileSync(join(outDir, 'console-errors.txt'), consoleErrors.join('\n'));
    const toasts = (await page.locator('.notifications-toasts').first().textContent({ timeout: 1000 }).catch(() => null)) ?? '';
    check('no error notification about the tree (duplicate ids and the like)', !/already registered|Element with id/.test(toasts), toasts.slice(0, 200) || undefined);
    const cspViolations = consoleErrors.filter((line) => /Content.Security.Policy|Refused to/i.test(line));
    check('no Content-Security-Policy violation in the page', cspViolations.length === 0, cspViolations.slice(0, 3).join(' | ') || undefined);
    const activationFailures = serverLog.split('\n').filter((line) => /m365-status/i.test(line) && /error|fail/i.test(line));
    check('no activation error for the extension in the server log', activationFailures.length === 0, activationFailures.slice(0, 3).join(' | ') || undefined);
  } finally {
    await browser?.close().catch(() => undefined);
    for (const child of children) {
      // code-server was started in its own process group: end it and the processes it started.
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    await harness?.stop().catch(() => undefined);
    // A daemon the extension started (detached, by design) must not outlive the run.
    const started = await readDaemonEndpoint(join(scratch, 'no-daemon'));
    if (started) {
      try {
        process.kill(started.pid, 'SIGTERM');
        for (let wait = 0; wait < 50; wait++) {
          process.kill(started.pid, 0);
          await new Promise((done) => setTimeout(done, 100));
        }
        process.kill(started.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await new Promise((done) => setTimeout(done, 500));
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  }
  const failed = results.filter((result) => !result.ok).length;
  process.stdout.write(`${results.length - failed} passed, ${failed} failed (screenshots in ${outDir})\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
