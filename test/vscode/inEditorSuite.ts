// In-editor integration tests, run inside VS Code's own extension host by @vscode/test-electron
// (`npm run test:vscode`, on machines that can download VS Code). Bundled to dist/test/vscodeSuite.cjs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

const extensionId = 'm365-status.m365-status';

async function daemonApi<T>(path: string, init: RequestInit = {}): Promise<T> {
  const dataDir = process.env.M365_STATUS_TEST_DAEMON_DIR ?? '';
  const endpoint = JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')) as { url: string; token: string };
  const response = await fetch(`${endpoint.url}${path}`, { ...init, headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' } });
  return (await response.json()) as T;
}

async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function defineTests(root: Mocha.Suite): void {
  const suite = Mocha.Suite.create(root, 'm365-status in VS Code');
  const test = (title: string, fn: () => Promise<void>) => suite.addTest(new Mocha.Test(title, fn));

  test('activates and registers every command its package.json declares', async () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, 'the extension is installed');
    await extension.activate();
    assert.equal(extension.isActive, true);
    const declared = (extension.packageJSON as { contributes: { commands: Array<{ command: string }> } }).contributes.commands.map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(declared.filter((id) => !registered.has(id)), []);
  });

  test('refreshes a tenant through its command, and the daemon records "Updating account status"', async () => {
    const tenants = await until(async () => {
      const answer = await daemonApi<{ tenants: Array<{ id: string; displayName: string }> }>('/v1/tenants');
      return answer.tenants.length > 0 ? answer.tenants : undefined;
    }, 'the demo tenants');
    const contoso = tenants.find((t) => t.displayName === 'Contoso') ?? tenants[0];
    assert.ok(contoso);
    // The model must know the tenant before a command can act on it.
    await vscode.commands.executeCommand('m365Status.reload');
    await until(async () => {
      try {
        await vscode.commands.executeCommand('m365Status.refreshTenant', contoso.id);
        return true;
      } catch {
        return undefined;
      }
    }, 'the refresh command to run');
    const entries = await daemonApi<{ entries: Array<{ type: string; activity?: { name: string } }> }>(`/v1/tasks?tenantId=${contoso.id}`);
    assert.ok(entries.entries.some((e) => e.type === 'activity' && e.activity?.name === 'Updating account status'));
  });

  test('opens the credential-health page', async () => {
    await vscode.commands.executeCommand('m365Status.showCredentialHealth');
    const tab = await until(async () => {
      const found = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => /credential health/i.test(t.label));
      return found ?? undefined;
    }, 'the credential-health tab');
    assert.ok(tab.input instanceof vscode.TabInputWebview);
  });
}

/** The entry point @vscode/test-electron calls in the extension host. */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false });
  defineTests(mocha.suite);
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} in-editor test(s) failed`)) : resolve()));
  });
}
