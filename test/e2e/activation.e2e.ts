// The extension on a machine where nothing runs yet, in a real VS Code (code-server + Chromium): it
// activates, says there is no daemon and offers to start one; "Start Daemon" starts the daemon bundled
// with the extension and the views follow it; "Stop Daemon" stops it again. The credential-health page
// renders under its Content-Security-Policy in the light, dark and high-contrast themes.
import assert from 'node:assert/strict';
import type { E2eProduct } from './support/e2eProduct';
import { startE2eProduct } from './support/e2eProduct';
import { productErrors } from './support/productErrors';
import { waitFor } from './support/waitFor';
import { productHooks } from './support/productHooks';
import { Workbench } from './support/workbench';

describe('the extension in a real VS Code with no daemon running', function () {
  this.timeout(180_000);
  let product: E2eProduct;
  let workbench: Workbench;

  before(async function () {
    this.timeout(240_000);
    product = await startE2eProduct('activation', { daemon: 'none' });
    process.stdout.write(`      screenshots and logs: ${product.screenshotDir}\n`);
    workbench = new Workbench(product.page, (line) => product.note(line));
    await workbench.openM365();
    await workbench.widenSideBar(560);
  });

  productHooks(() => product);

  it('activates and says no daemon is reachable, in the views and the status bar', async () => {
    const welcome = await waitFor('the no-daemon welcome content in the Tenants view', () => workbench.welcome('Tenants'), (text) => text.startsWith('No m365-status daemon is reachable.'));
    assert.match(welcome, /Start Daemon/);
    assert.match(await workbench.welcome('Activity'), /^Management tasks and activities show here once the daemon is reachable\.$/);
    const status = await waitFor('the status bar item to say there is no daemon', () => workbench.statusBarItem(), (item) => item.text === 'M365: no daemon');
    assert.equal(status.kind, 'warning');
    assert.equal(status.icon, 'codicon-debug-disconnect');
    assert.match(status.ariaLabel, /No m365-status daemon is reachable/);
    await product.screenshot('no-daemon');
  });

  it('renders the credential-health page under its Content-Security-Policy, saying it is not live', async () => {
    await workbench.runCommand('M365: Show Credential Health');
    const page = await waitFor('the page to say it is not live', () => workbench.credentialHealth(), (shown) => shown.connection !== '');
    assert.equal(page.connection, 'Not live: no daemon is reachable.');
    assert.equal(page.banner, null);
    const frame = await workbench.credentialHealthFrame();
    const csp = await frame.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.match(csp ?? '', /^default-src 'none'; script-src 'nonce-[^']+'; /);
    // VS Code injects its own acquireVsCodeApi script (allowed by the host, not by the page's policy).
    assert.equal(await frame.locator('script:not([nonce]):not(#_vscodeApiScript)').count(), 0, 'a script of the page without the nonce');
    // The toolkit's buttons are custom elements: defined means the page's script ran under the CSP.
    assert.equal(await frame.evaluate(() => customElements.get('vscode-button') !== undefined), true);
    await product.screenshot('credential-health-no-daemon');
  });

  it('follows the page into the dark and high-contrast themes', async () => {
    for (const [theme, bodyClass] of [
      ['Dark Modern', 'vscode-dark'],
      ['Dark High Contrast', 'vscode-high-contrast'],
      ['Light Modern', 'vscode-light'],
    ] as const) {
      await workbench.runCommand('Preferences: Color Theme');
      await workbench.pick('Select Color Theme', new RegExp(`^${theme}`));
      const frame = await workbench.credentialHealthFrame();
      await waitFor(`the page in ${theme}`, () => frame.evaluate(() => document.body.className), (classes) => classes.split(' ').includes(bodyClass));
      const background = await frame.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(background, await workbench.themeColor('editor.background'), `the page's background in ${theme}`);
      await product.screenshot(`theme-${theme}`);
    }
  });

  it('starts the bundled daemon from the welcome content, and the views follow it', async () => {
    await product.page.evaluate(() => Object.assign(window, { m365E2eNoReload: true }));
    await workbench.pane('Tenants').getByRole('button', { name: 'Start Daemon' }).click();
    const welcome = await waitFor('the no-tenant welcome content', () => workbench.welcome('Tenants'), (text) => text.startsWith('No tenant is registered yet.'), { timeoutMs: 45_000 });
    assert.match(welcome, /Add Tenant/);
    const status = await waitFor('the status bar item to say there are no tenants', () => workbench.statusBarItem(), (item) => item.text === 'M365: no tenants');
    assert.equal(status.kind, 'default');
    const health = await product.daemonApi<{ ok: boolean }>('GET', '/v1/health');
    assert.equal(health.body.ok, true, 'the daemon the extension started answers');
    await waitFor('the credential-health page to be live', () => workbench.credentialHealth(), (page) => page.connection === '');
    assert.equal(await product.page.evaluate(() => (window as unknown as { m365E2eNoReload?: boolean }).m365E2eNoReload), true, 'the window was reloaded');
    await product.screenshot('daemon-started-no-tenants');
  });

  it('stops the daemon with "M365: Stop Daemon", after asking', async () => {
    await workbench.runCommand('M365: Stop Daemon');
    const dialog = await workbench.modalDialog();
    assert.equal(dialog.message, 'Stop the m365-status daemon?');
    await workbench.clickDialogButton('Stop');
    await waitFor('the no-daemon welcome content again', () => workbench.welcome('Tenants'), (text) => text.startsWith('No m365-status daemon is reachable.'), { timeoutMs: 30_000 });
    await waitFor('the status bar item to say there is no daemon', () => workbench.statusBarItem(), (item) => item.text === 'M365: no daemon');
    await waitFor('the daemon to be gone', () => product.daemonApi('GET', '/v1/health').then(() => 'answering', (error: unknown) => String(error)), (state) => state !== 'answering');
    await product.screenshot('daemon-stopped-by-command');
  });

  it('met no Content-Security-Policy violation, tree error or extension error along the way', async () => {
    const errors = await productErrors(product, await workbench.notifications());
    assert.deepEqual(errors, { contentSecurityPolicy: [], tree: [], extensionHost: [], extensionLog: [] });
    assert.match(await product.extensionHostLog(), /m365-status\.m365-status/, 'the extension host log was not found');
  });
});
