// A team on a shared deployment, end to end and for real: PostgreSQL, two daemon processes of one
// deployment on it (one vault key, each its own port and data directory) against the simulator, and two
// engineers added with `m365-status users add`. Each engineer has a VS Code window of their own (a
// code-server each, in headless Chromium) pointed at a different daemon, and signs in there with their
// token. A lock alice makes in her window reaches bob's window, with her name, while bob does nothing.
//
// Screenshots and logs: test-output/e2e/sharedDeployment-alice/, sharedDeployment-bob/ and
// sharedDeployment/deployment.log. Only this file: node scripts/build.mjs && npx mocha --config
// .mocharc.e2e.json test/e2e/sharedDeployment.e2e.ts
import assert from 'node:assert/strict';
import type { TenantView, UserPage, UserView } from '../../protocol/daemonApi';
import { freePort } from '../../scripts/local/codeServer.mjs';
import type { E2eProduct } from './support/e2eProduct';
import { startE2eProduct } from './support/e2eProduct';
import { productErrors } from './support/productErrors';
import { productHooks } from './support/productHooks';
import type { SharedDaemon, SharedDeployment } from './support/sharedDeployment';
import { startSharedDeployment } from './support/sharedDeployment';
import { waitFor } from './support/waitFor';
import type { TreeRowOnScreen } from './support/workbench';
import { Workbench } from './support/workbench';

const CONTOSO = 'contoso.onmicrosoft.com';
const STATUS_ITEM = '#m365-status\\.m365-status\\.m365Status\\.status';

interface SimUser {
  id: string;
  userPrincipalName: string;
  displayName: string | null;
  accountEnabled: boolean;
  onPremisesSyncEnabled: boolean | null;
  privilegedRole: string | null;
}

/** One engineer at their own VS Code window, pointed at one daemon of the deployment. */
interface EngineerWindow {
  engineer: string;
  role: 'operator' | 'reader';
  daemon: SharedDaemon;
  product: E2eProduct;
  workbench: Workbench;
}

describe('a shared deployment in two real VS Code windows (two engineers, two daemons, one PostgreSQL)', function () {
  this.timeout(120_000);
  let deployment: SharedDeployment | undefined;
  let alice: EngineerWindow;
  let bob: EngineerWindow;
  const windows: Partial<Record<'alice' | 'bob', E2eProduct>> = {};
  let contoso: TenantView;
  /** The user alice locks. */
  let target: { id: string; upn: string; name: string };

  before(async function () {
    this.timeout(300_000);
    const ports = [await freePort(), await freePort()];
    const settingsFor = (port: number) => ({ settings: { 'm365Status.shared.url': `http://127.0.0.1:${port}` } });
    // All three at once: the windows wait at "sign in" until the daemons answer. Each start stops what it
    // started when it fails; what did start is kept, so that `after` stops it.
    const [started, aliceProduct, bobProduct] = await Promise.allSettled([
      startSharedDeployment({
        suite: 'sharedDeployment',
        ports,
        // No poll during the run (the first sync follows the registration): what reaches bob's window
        // after alice's lock can only come through the event streams, not from a daemon's next poll.
        pollInterval: '10m',
        engineers: [
          { name: 'ada', role: 'admin' },
          { name: 'alice', role: 'operator' },
          { name: 'bob', role: 'reader' },
        ],
      }),
      startE2eProduct('sharedDeployment-alice', { daemon: 'none', ...settingsFor(ports[0] as number) }),
      startE2eProduct('sharedDeployment-bob', { daemon: 'none', ...settingsFor(ports[1] as number) }),
    ]);
    if (started.status === 'fulfilled') deployment = started.value;
    if (aliceProduct.status === 'fulfilled') windows.alice = aliceProduct.value;
    if (bobProduct.status === 'fulfilled') windows.bob = bobProduct.value;
    for (const outcome of [started, aliceProduct, bobProduct]) if (outcome.status === 'rejected') throw outcome.reason;
    const shared = deployment as SharedDeployment;
    const [daemonA, daemonB] = shared.daemons as [SharedDaemon, SharedDaemon];
    const open = async (engineer: 'alice' | 'bob', role: EngineerWindow['role'], daemon: SharedDaemon): Promise<EngineerWindow> => {
      const product = windows[engineer] as E2eProduct;
      process.stdout.write(`      ${engineer}'s window: ${product.screenshotDir}\n`);
      const workbench = new Workbench(product.page, (line) => product.note(line));
      await workbench.openM365();
      await workbench.widenSideBar(560);
      return { engineer, role, daemon, product, workbench };
    };
    alice = await open('alice', 'operator', daemonA);
    bob = await open('bob', 'reader', daemonB);

    // The admin registers Contoso on daemon A; whichever daemon takes its lease syncs it.
    const demo = shared.sim.demoTenants.find((tenant) => tenant.domain === CONTOSO);
    assert.ok(demo, 'the simulator has no Contoso');
    const registered = await shared.api<TenantView>(daemonA, 'ada', 'POST', '/v1/tenants', {
      tenant: demo.domain,
      displayName: demo.displayName,
      appId: demo.appId,
      credential: { kind: 'secret', clientSecret: demo.clientSecret },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    contoso = await waitFor(
      'Contoso synced and ACTIVE, as daemon B sees it',
      async () => (await shared.api<{ tenants: TenantView[] }>(daemonB, 'ada', 'GET', '/v1/tenants')).body.tenants.find((tenant) => tenant.tenant === CONTOSO),
      (tenant) => tenant?.status === 'ACTIVE' && tenant.counts.total > 0,
      { timeoutMs: 30_000 },
    ) as TenantView;
  });

  productHooks(() => windows.alice);
  productHooks(() => windows.bob);

  afterEach(function () {
    if (this.currentTest?.state !== 'failed' || !deployment) return;
    process.stdout.write(`      last lines of the deployment:\n${deployment.logs.slice(-25).map((line) => `        ${line}`).join('\n')}\n`);
  });

  after(async function () {
    this.timeout(60_000);
    // After the windows (productHooks' own `after` stops each): the daemons, the simulator, PostgreSQL.
    await deployment?.stop();
  });

  async function statusBar(window: EngineerWindow) {
    return window.workbench.statusBarItem();
  }

  /** The Tenants view's description in its header: who the window acts as. */
  async function tenantsViewDescription(window: EngineerWindow): Promise<string> {
    return ((await window.workbench.pane('Tenants').locator('.pane-header .description').first().textContent()) ?? '').trim();
  }

  async function signIn(window: EngineerWindow): Promise<void> {
    const { workbench, product, daemon } = window;
    const token = (deployment as SharedDeployment).tokens[window.engineer] as string;
    const waiting = await waitFor(`${window.engineer}'s status bar to ask to sign in`, () => statusBar(window), (item) => item.text === 'M365: sign in');
    assert.equal(waiting.kind, 'warning');
    assert.match(await workbench.welcome('Tenants'), /^Sign in to your team's shared deployment/);
    await product.screenshot('sign-in-needed');

    // As an engineer does: the status bar item opens the sign-in, its URL already the one in the settings.
    product.note('click the status bar item');
    await product.page.locator(STATUS_ITEM).click();
    const input = workbench.quickInput().locator('.quick-input-box input');
    await waitFor('the URL box, filled in from m365Status.shared.url', () => input.inputValue({ timeout: 1000 }), (value) => value === daemon.url);
    await workbench.answer('Sign In to Shared Deployment (1/2)', daemon.url);
    const tokenBox = await workbench.answer('Sign In to Shared Deployment (2/2)', token);
    assert.equal(tokenBox.type, 'password', 'the token is typed into a password box');
    await workbench.waitForNotification(
      `saying ${window.engineer} is signed in`,
      (text) => text === `Signed in to ${daemon.url} as ${window.engineer} (${window.role}).`,
    );
  }

  it('signs each engineer in to their own daemon from the status bar; each window shows shared mode and who is signed in', async () => {
    for (const window of [alice, bob]) {
      await signIn(window);
      const label = `shared · ${window.engineer} (${window.role})`;
      const item = await waitFor(`${window.engineer}'s status bar to show shared mode and who is signed in`, () => statusBar(window), (shown) => shown.text === `M365: 1 · ${label}`);
      assert.equal(item.kind, 'default');
      assert.equal(item.icon, 'codicon-pass');
      assert.match(item.ariaLabel, new RegExp(`Signed in to the shared deployment as \\*\\*${window.engineer}\\*\\* \\(${window.role}\\)`));
      assert.equal(await tenantsViewDescription(window), label);
      const row = await window.workbench.waitForRow('Tenants', 'Contoso, ACTIVE', (shown) => shown.level === 1 && shown.name === 'Contoso');
      assert.match(row.description, /^ACTIVE · 120 users · as of /);
      await window.product.screenshot('signed-in');
    }
    // A token is a secret: no window, extension or daemon writes it to a log.
    for (const window of [alice, bob]) {
      const token = (deployment as SharedDeployment).tokens[window.engineer] as string;
      assert.ok(!window.product.logs.some((line) => line.includes(token)), `${window.engineer}'s token appears in a log of the window`);
      assert.ok(!(await window.product.extensionLog()).includes(token), `${window.engineer}'s token appears in the extension's log`);
      assert.ok(!(deployment as SharedDeployment).logs.some((line) => line.includes(token)), `${window.engineer}'s token appears in a daemon's log`);
    }
  });

  it("alice locks a user in her window; bob's window shows the user locked and the activity with alice's name, without bob doing anything", async () => {
    const shared = deployment as SharedDeployment;
    // An enabled, cloud-only, unprivileged user: one a lock applies to without an override.
    const { body: page } = await shared.api<UserPage>(alice.daemon, 'alice', 'GET', `/v1/tenants/${contoso.id}/users?state=enabled&limit=200`);
    const plain = (user: UserView): boolean => user.onPremisesSyncEnabled !== true && /^[\x20-\x7e]+$/.test(user.displayName ?? '') && !/[<>&"]/.test(user.displayName ?? '');
    for (const user of page.users.filter(plain)) {
      const { body } = await shared.simControl<SimUser>('GET', `/tenants/${CONTOSO}/users/${user.id}`);
      if (body.accountEnabled && body.privilegedRole === null && body.onPremisesSyncEnabled !== true && body.displayName) {
        target = { id: body.id, upn: body.userPrincipalName, name: body.displayName };
        break;
      }
    }
    assert.ok(target, 'no enabled, cloud-only, unprivileged user in Contoso');
    const isTarget = (row: TreeRowOnScreen): boolean => row.level === 2 && row.description.split(' · ')[0] === target.upn;
    const contosoRow = (window: EngineerWindow) =>
      window.workbench.revealRow('Tenants', 'Contoso', (row) => row.level === 1 && row.name === 'Contoso');

    // Bob has Contoso open, as an engineer watching it would; from here on his window is only read.
    await bob.workbench.expand('Tenants', await contosoRow(bob));
    await bob.workbench.waitForRow('Tenants', 'the users of Contoso', (row) => row.level === 2);

    await alice.workbench.expand('Tenants', await contosoRow(alice));
    await alice.workbench.waitForRow('Tenants', 'the users of Contoso', (row) => row.level === 2);
    await alice.workbench.clickInlineAction('Tenants', target.upn, isTarget, 'Lock User');
    const dialog = await alice.workbench.modalDialog();
    assert.equal(dialog.message, `Lock ${target.name} in Contoso?`);
    await alice.product.screenshot('lock-confirmation');
    await alice.workbench.clickDialogButton('Lock');
    const lockedAt = Date.now();
    shared.note(`alice confirmed the lock of ${target.upn}`);

    // Bob's window: the user turns locked at the top of Contoso, drawn from daemon B's event stream.
    const lockedRow = await bob.workbench.waitForRow('Tenants', `${target.upn} with the red lock`, (row) => isTarget(row) && row.icon === 'codicon-lock', 20_000);
    const elapsed = Date.now() - lockedAt;
    process.stdout.write(`      (bob's window showed the lock ${elapsed} ms after alice confirmed it)\n`);
    assert.equal(lockedRow.description, `${target.upn} · locked`);
    assert.equal(lockedRow.iconColor, await bob.workbench.themeColor('charts.red'));
    // A reader is offered no unlock.
    assert.ok(!lockedRow.actions.includes('Unlock User'), `bob (reader) is offered ${lockedRow.actions.join(', ')}`);
    await bob.workbench.waitForRow('Tenants', 'Contoso counting 1 locked user', (row) => row.level === 1 && row.name === 'Contoso' && row.description.includes('· 1 locked ·'));
    const userTooltip = await bob.workbench.hoverText('Tenants', lockedRow, 'Locked by');
    assert.match(userTooltip, /Locked by alice /);

    const activity = await bob.workbench.waitForRow('Activity', 'the lock activity', (row) => row.level === 1 && row.name === 'Locked user' && row.description.includes('Contoso'));
    const activityTooltip = await bob.workbench.hoverText('Activity', activity, 'Disabled sign-in for');
    assert.match(activityTooltip, new RegExp(`Disabled sign-in for ${target.upn.replace(/\./g, '\\.')}`));
    assert.match(activityTooltip, /By alice, /);
    await bob.product.screenshot('lock-seen-by-bob');

    // What bob's window shows is what happened: disabled in Microsoft 365, locked by alice on daemon A.
    const simUser = await shared.simControl<SimUser>('GET', `/tenants/${CONTOSO}/users/${target.id}`);
    assert.equal(simUser.body.accountEnabled, false);
    // Alice's window shows the same, and she may unlock.
    const aliceRow = await alice.workbench.revealRow('Tenants', `${target.upn} locked`, (row) => isTarget(row) && row.icon === 'codicon-lock');
    assert.ok(aliceRow.actions.includes('Unlock User'), `alice (operator) is offered ${aliceRow.actions.join(', ')}`);
    await alice.workbench.waitForNotification(`saying ${target.name} was locked`, (text) => text === `Locked ${target.name} in Contoso.`);
    await alice.product.screenshot('lock-made-by-alice');

    for (const window of [alice, bob]) {
      assert.equal((await statusBar(window)).text, `M365: 1 · shared · ${window.engineer} (${window.role})`);
    }
  });

  it('met no Content-Security-Policy violation, tree error or extension error in either window', async () => {
    for (const window of [alice, bob]) {
      const errors = await productErrors(window.product, await window.workbench.notifications());
      assert.deepEqual(errors, { contentSecurityPolicy: [], tree: [], extensionHost: [], extensionLog: [] }, `${window.engineer}'s window`);
    }
  });
});
