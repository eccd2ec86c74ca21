// Onboarding the customers of an MSP through its one multi-tenant app, end to end and for real: the
// bundled simulator with its demo partner (Adventure Works MSP, an app profile with five GDAP customers,
// two of them not consented yet), the bundled daemon polling every 5 s, code-server (VS Code 1.100) with
// this checkout's extension, driven in headless Chromium. The customer's admin consents in the same
// Chromium, on the simulator's consent page, in a browser context of their own.
//
// The tests run in order and build on each other, as one operator's morning would: discover, add three,
// get the one without consent consented, rotate the profile's secret, then one more customer through its
// own consent link. Screenshots of each step, and the logs of every process, go to
// test-output/e2e/onboarding/.
import assert from 'node:assert/strict';
import type { TenantView } from '../../protocol/daemonApi';
import { CustomerAdminBrowser } from './support/customerAdminBrowser';
import type { E2eProduct } from './support/e2eProduct';
import { startE2eProduct } from './support/e2eProduct';
import { OnboardingScreen } from './support/onboardingScreen';
import { productErrors } from './support/productErrors';
import { productHooks } from './support/productHooks';
import { waitFor } from './support/waitFor';
import type { CredentialHealthCard, TreeRowOnScreen } from './support/workbench';
import { Workbench } from './support/workbench';

const PARTNER = 'Adventure Works MSP';
const PARTNER_DOMAIN = 'adventureworks-msp.onmicrosoft.com';
/** The demo's GDAP customers and their users, as the simulator makes them. */
const CUSTOMERS = {
  alpine: { name: 'Alpine Ski House', users: 40 },
  coho: { name: 'Coho Winery', users: 25 },
  litware: { name: 'Litware', users: 30 },
  proseware: { name: 'Proseware', users: 20 },
  wideWorld: { name: 'Wide World Importers', users: 35 },
} as const;
/** What the operator adds in one step: two that consented, one that has not. */
const ADDED = [CUSTOMERS.alpine, CUSTOMERS.coho, CUSTOMERS.proseware];
const DAY_MS = 24 * 60 * 60 * 1000;

describe('onboarding customers through an app profile in a real VS Code (code-server + Chromium)', function () {
  this.timeout(180_000);
  let product: E2eProduct;
  let workbench: Workbench;
  let screen: OnboardingScreen;
  let admin: CustomerAdminBrowser;
  const dialogs: string[] = [];
  /** Proseware's consent link, as the summary of the bulk add showed it. */
  let prosewareConsentUrl: string | undefined;

  before(async function () {
    this.timeout(240_000);
    product = await startE2eProduct('onboarding', { pollInterval: '5s' });
    process.stdout.write(`      screenshots and logs: ${product.screenshotDir}\n`);
    product.page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss().catch(() => undefined);
    });
    workbench = new Workbench(product.page, (line) => product.note(line));
    screen = new OnboardingScreen(workbench, (line) => product.note(line));
    admin = await CustomerAdminBrowser.open(product.browser, product.screenshotDir);
    await workbench.openM365();
    await workbench.widenSideBar(560);
  });

  after(async () => admin?.close());

  productHooks(() => product);

  const partner = () => {
    const demo = product.product.sim.demoPartner;
    assert.ok(demo, 'the simulator has no demo partner');
    return demo;
  };
  const customer = (name: string) => {
    const found = partner().customers.find((c) => c.displayName === name);
    assert.ok(found, `the demo partner has no customer ${name}`);
    return found;
  };
  const profileId = (): string => {
    const profile = product.product.appProfile;
    assert.ok(profile, 'the demo partner was not added as an app profile');
    return profile.id;
  };

  async function tenantsOfProfile(): Promise<TenantView[]> {
    const { body } = await product.daemonApi<{ tenants: TenantView[] }>('GET', '/v1/tenants');
    return body.tenants.filter((tenant) => tenant.appProfileId === profileId());
  }

  async function tenantRow(name: string): Promise<TreeRowOnScreen> {
    return workbench.revealRow('Tenants', `the tenant ${name}`, (row) => row.level === 1 && row.name === name);
  }

  /** Waits until the tree shows the tenant ACTIVE with all its users synced. */
  async function syncedRow(name: string, users: number): Promise<TreeRowOnScreen> {
    return waitFor(
      `${name} ACTIVE with its ${users} users in the Tenants view`,
      () => tenantRow(name),
      (row) => row.description.startsWith(`ACTIVE · ${users} users · as of `),
      { timeoutMs: 30_000 },
    );
  }

  it('lists the GDAP customers of the partner profile, each marked consented or not, the consented ones ticked', async () => {
    await waitFor(
      'the four demo tenants in the Tenants view',
      async () => (await workbench.rows('Tenants')).filter((row) => row.level === 1).map((row) => row.name),
      (names) => names.length === 4,
    );
    await workbench.clearNotifications();
    await workbench.runCommand('M365: Discover Customers…');
    // One profile: the command asks for none and goes straight to Microsoft.
    const entries = await screen.multiSelectEntries('Tick the customers to add', 5);
    assert.equal(await screen.quickPickTitle(), `Add GDAP customers with ${PARTNER}`);
    assert.deepEqual(entries.map((entry) => entry.label).sort(), Object.values(CUSTOMERS).map((c) => c.name).sort());
    for (const entry of entries) {
      const demo = customer(entry.label);
      assert.equal(entry.description, demo.tenantId, `${entry.label}: its directory id`);
      assert.equal(entry.detail, demo.consented ? 'consented: added and synced at once' : 'not consented yet: you get an admin-consent link to send', entry.label);
      assert.equal(entry.ticked, demo.consented, `${entry.label} is ticked only when it consented`);
    }
    assert.deepEqual(
      entries.filter((entry) => !entry.ticked).map((entry) => entry.label).sort(),
      [CUSTOMERS.proseware.name, CUSTOMERS.wideWorld.name],
    );
    await product.screenshot('discovered-customers');
  });

  it('adds three in one step: the two consented ones appear and sync, the third comes back with its consent link', async () => {
    await screen.tickOnlyAndAccept(ADDED.map((c) => c.name));
    const isSummary = (text: string): boolean => text.startsWith('Added ');
    const summary = await workbench.waitForNotification('summing up the bulk add', isSummary, 30_000);
    assert.equal(summary, 'Added 2 tenants, 1 needs admin consent.');
    assert.deepEqual(await screen.notificationButtons(isSummary), ['Show Details']);

    for (const added of [CUSTOMERS.alpine, CUSTOMERS.coho]) {
      const row = await syncedRow(added.name, added.users);
      assert.equal(row.icon, 'codicon-pass');
    }
    const names = (await workbench.rows('Tenants')).filter((row) => row.level === 1).map((row) => row.name);
    assert.ok(!names.includes(CUSTOMERS.proseware.name), `Proseware is in the tree before its admin consented: ${names.join(', ')}`);
    assert.ok(!names.includes(CUSTOMERS.litware.name), 'Litware was left unticked, yet added');
    // What the tree shows is what the daemon holds: both on the profile, by their directory ids.
    assert.deepEqual(
      (await tenantsOfProfile()).map((tenant) => [tenant.displayName, tenant.tenant]).sort(),
      [CUSTOMERS.alpine, CUSTOMERS.coho].map((c) => [c.name, customer(c.name).tenantId]).sort(),
    );
    await product.screenshot('two-added-one-needs-consent');

    await screen.clickNotificationButton(isSummary, 'Show Details');
    const report = await waitFor(
      'the details of the bulk add in an editor',
      () => screen.activeEditor(),
      (editor) => editor.title.startsWith('Tenants added from the GDAP customers of') && editor.lines.some((line) => line.includes('NEEDS CONSENT')),
    );
    assert.equal(report.title, `Tenants added from the GDAP customers of ${PARTNER}.txt`);
    assert.equal(report.lines[1], '# Added 2 tenants, 1 needs admin consent.');
    const prosewareId = customer(CUSTOMERS.proseware.name).tenantId;
    const consentLine = report.lines.find((line) => line.includes('NEEDS CONSENT'));
    assert.ok(consentLine?.includes(prosewareId), `the line needing consent is not Proseware's: ${consentLine ?? ''}`);
    assert.equal(report.lines.filter((line) => /\bADDED\b/.test(line)).length, 2, report.lines.join('\n'));
    const url = /its admin must consent: (https:\/\/\S+)/.exec(consentLine ?? '')?.[1];
    assert.ok(url, `no consent link on the line: ${consentLine ?? ''}`);
    const link = new URL(url);
    assert.equal(link.pathname, `/${prosewareId}/v2.0/adminconsent`);
    assert.equal(link.searchParams.get('client_id'), partner().appId);
    assert.match(link.searchParams.get('redirect_uri') ?? '', /^http:\/\/localhost:\d+\/consent$/);
    prosewareConsentUrl = url;
    await product.screenshot('bulk-add-details-with-consent-link');
  });

  it("consents to Proseware through its link as its admin, in the browser; the tenant appears in the tree and syncs", async () => {
    assert.ok(prosewareConsentUrl, "needs Proseware's consent link from the previous test");
    await workbench.clearNotifications();
    const { consentPage, answer } = await admin.consent(prosewareConsentUrl, 'Accept', 'admin-proseware');
    assert.equal(consentPage.heading, 'Permissions requested');
    assert.match(consentPage.app, new RegExp(`^m365-status \\(${PARTNER}\\), published by ${PARTNER} \\(${PARTNER_DOMAIN.replace(/\./g, '\\.')}\\), app id ${partner().appId}`));
    assert.equal(consentPage.signedInAs, 'Signed in to Proseware (proseware.onmicrosoft.com) as its administrator.');
    assert.ok(consentPage.permissions.includes('User.EnableDisableAccount.All (Microsoft Graph, application)'), consentPage.permissions.join('\n'));

    // Microsoft sent the admin's browser back to the daemon, which registered the tenant and says so.
    assert.equal(answer.status, 200);
    assert.match(answer.url, /^http:\/\/localhost:\d+\/consent\?/);
    assert.equal(answer.heading, 'Consent recorded');
    assert.equal(answer.lines[0], 'Consent recorded for Proseware; m365-status is syncing it now.');

    // Nothing touched in VS Code: the event stream brings the tenant, and the poller its users.
    const row = await syncedRow(CUSTOMERS.proseware.name, CUSTOMERS.proseware.users);
    assert.equal(row.icon, 'codicon-pass');
    const onProfile = await tenantsOfProfile();
    assert.deepEqual(onProfile.map((tenant) => tenant.displayName).sort(), ADDED.map((c) => c.name).sort());
    assert.equal(onProfile.find((tenant) => tenant.displayName === CUSTOMERS.proseware.name)?.tenant, customer(CUSTOMERS.proseware.name).tenantId);
    await product.screenshot('proseware-consented-and-synced');

    // The link was good for one answer: a second visit changes nothing.
    const again = await admin.consent(prosewareConsentUrl, 'Accept', 'admin-proseware-again');
    assert.equal(again.answer.status, 400);
    assert.equal(again.answer.heading, 'Unknown consent answer');
    assert.equal((await tenantsOfProfile()).length, 3);
  });

  it('leaves the three added customers out when customers are discovered again', async () => {
    await workbench.clearNotifications();
    await workbench.runCommand('M365: Discover Customers…');
    const entries = await screen.multiSelectEntries('Tick the customers to add', 2);
    assert.equal(await screen.quickPickTitle(), `Add GDAP customers with ${PARTNER} (3 added already, not listed)`);
    assert.deepEqual(entries.map((entry) => entry.label).sort(), [CUSTOMERS.litware.name, CUSTOMERS.wideWorld.name]);
    await product.screenshot('discovered-again');
    await product.page.keyboard.press('Escape');
    await workbench.quickInput().waitFor({ state: 'hidden', timeout: 10_000 });
  });

  it("rotates the profile's secret with Rotate App Profile Credentials…; every tenant of the profile stays green on the credential-health page", async () => {
    await workbench.clearNotifications();
    await workbench.runCommand('M365: Show Credential Health');
    const profileCard = (cards: readonly CredentialHealthCard[]): CredentialHealthCard | undefined => cards.find((card) => card.name === PARTNER);
    const before = await waitFor(
      `the card of ${PARTNER} with its three tenants passing`,
      () => workbench.credentialHealth(),
      (page) => profileCard(page.profiles)?.result === 'Passing: 3 tenants, all passing',
    );
    const card = profileCard(before.profiles) as CredentialHealthCard;
    assert.equal(card.check, 'passing');
    assert.equal(card.tag, 'App profile · 3 tenants');
    assert.doesNotMatch(card.text, /Failing tenants/);
    // The tenants on the profile are its card's, not cards of their own.
    for (const name of ADDED.map((c) => c.name)) assert.ok(!before.cards.some((c) => c.name === name), `${name} has a card of its own`);
    // The demo's own failing tenants (their own apps) are named in the banner; the profile's never are.
    for (const name of ADDED.map((c) => c.name)) assert.ok(!(before.banner ?? '').includes(name), `the banner names ${name}: ${before.banner ?? ''}`);
    await product.screenshot('credential-health-profile-card');

    // A new secret on the partner's app in Entra; the old one stays valid until it is removed.
    const expiresAt = new Date(Date.now() + 200 * DAY_MS);
    const expiryDay = expiresAt.toISOString().slice(0, 10);
    const added = await product.simControl<{ secret: string }>('POST', `/tenants/${PARTNER_DOMAIN}/apps/${partner().appId}/secrets`, { expiresAt: `${expiryDay}T23:59:59Z` });
    assert.equal(added.status, 201);
    const secret = added.body.secret;

    // Watch the page and the tree for as long as the rotation and the re-check take.
    const watched = watchProfileTenants(workbench, PARTNER, ADDED.map((c) => c.name));
    try {
      await workbench.runCommand('M365: Rotate App Profile Credentials…');
      await workbench.pick('How does the app authenticate?', 'Client secret');
      const secretBox = await workbench.answer("The client secret's Value", secret);
      assert.equal(secretBox.type, 'password', 'the secret is typed into a password box');
      await workbench.answer('When the secret expires', expiryDay);
      await workbench.waitForNotification(
        'that the profile was rotated',
        (text) => text === `Rotated ${PARTNER}: all 3 of its tenants pass their credential check.`,
        30_000,
      );
      const rotated = await waitFor(
        'the card to count down to the new expiry',
        () => workbench.credentialHealth(),
        (page) => /Expires in (199|200) days/.test(profileCard(page.profiles)?.text ?? ''),
      );
      assert.equal(profileCard(rotated.profiles)?.result, 'Passing: 3 tenants, all passing');
      await product.screenshot('profile-rotated');

      // The old secret removed in Entra, as an admin does once the product uses the new one; a re-check
      // asks Microsoft for fresh tokens, which only the new secret can get now.
      const removed = await product.simControl('POST', `/tenants/${PARTNER_DOMAIN}/apps/${partner().appId}/secrets`, {
        value: secret,
        expiresAt: `${expiryDay}T23:59:59Z`,
        replaceExisting: true,
      });
      assert.equal(removed.status, 201);
      const clicked = Date.now();
      const frame = await workbench.credentialHealthFrame();
      await frame.locator('#recheck-all').click();
      await waitFor(
        'every tenant of the profile checked again',
        () => tenantsOfProfile(),
        (tenants) => tenants.length === 3 && tenants.every((tenant) => (tenant.credentialHealth?.checkedAt ?? 0) >= clicked),
        { timeoutMs: 30_000 },
      );
      const onProfile = await tenantsOfProfile();
      assert.ok(onProfile.every((tenant) => tenant.credentialHealth?.canGetToken === true), JSON.stringify(onProfile.map((t) => [t.displayName, t.credentialHealth?.failure])));
      // One more poll after the re-check, so that the watch covers a sync with the new secret alone.
      await new Promise((resolve) => setTimeout(resolve, 6000));
    } finally {
      watched.stop();
    }
    const seen = await watched.done;
    process.stdout.write(`      (watched ${seen.samples} times: profile card ${[...seen.cardStates].join(', ')}; tree ${[...seen.treeStates].join(', ')})\n`);
    assert.ok(seen.samples >= 10, `only ${seen.samples} looks at the page during the rotation`);
    assert.deepEqual(seen.problems, [], 'a tenant of the profile was not green along the way');

    const after = await workbench.credentialHealth();
    const last = profileCard(after.profiles);
    assert.equal(last?.check, 'passing');
    assert.equal(last?.result, 'Passing: 3 tenants, all passing');
    for (const added of ADDED) {
      const row = await tenantRow(added.name);
      assert.match(row.description, new RegExp(`^ACTIVE · ${added.users} users · as of `), added.name);
    }
    // The secret went to the daemon, and nowhere on screen.
    assert.ok(!(await product.page.content()).includes(secret), 'the secret is in the workbench DOM');
    assert.ok(!(await (await workbench.credentialHealthFrame()).content()).includes(secret), 'the secret is in the webview');
    await product.screenshot('profile-green-after-old-secret-removed');
  });

  it('gets an admin-consent link for one more customer, copied; the notification waits and says when its admin consented', async () => {
    await workbench.clearNotifications();
    const wideWorld = customer(CUSTOMERS.wideWorld.name);
    // "Copy the link" goes through the browser's clipboard, which a page may read only when allowed.
    await product.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(product.editorUrl).origin });
    await workbench.runCommand('M365: Get Admin-Consent Link…');
    await workbench.answer("The customer's directory (tenant) id", wideWorld.domain);
    await workbench.answer('A name for the tenant in this list', CUSTOMERS.wideWorld.name);
    await workbench.pick('The link is valid until', 'Copy the link');
    await workbench.waitForNotification('that it waits for the admin', (text) => text.startsWith(`Link copied. Waiting for the admin of ${CUSTOMERS.wideWorld.name} to consent…`));
    const copied = await product.page.evaluate(() => navigator.clipboard.readText());
    const link = new URL(copied);
    assert.equal(link.pathname, `/${wideWorld.domain}/v2.0/adminconsent`);
    assert.equal(link.searchParams.get('client_id'), partner().appId);
    await product.screenshot('consent-link-copied-waiting');

    const { answer } = await admin.consent(copied, 'Accept', 'admin-wide-world');
    assert.equal(answer.heading, 'Consent recorded');
    assert.equal(answer.lines[0], `Consent recorded for ${CUSTOMERS.wideWorld.name}; m365-status is syncing it now.`);
    await workbench.waitForNotification(
      'that its admin consented',
      (text) => text === `The admin of ${CUSTOMERS.wideWorld.name} consented: the tenant is added and syncing.`,
    );
    await syncedRow(CUSTOMERS.wideWorld.name, CUSTOMERS.wideWorld.users);
    assert.equal((await tenantsOfProfile()).length, 4);
    await product.screenshot('wide-world-consented-and-synced');
  });

  it('met no Content-Security-Policy violation, tree error, extension error or script dialog along the way', async () => {
    const errors = await productErrors(product, await workbench.notifications());
    assert.deepEqual(errors, { contentSecurityPolicy: [], tree: [], extensionHost: [], extensionLog: [] });
    assert.deepEqual(dialogs, []);
  });
});

/** What a tenant row says while the rotation (each tenant on the profile) and the re-check run on it. */
const BUSY_WHILE_WATCHED = new Set(['Rotating credentials…', 'Checking credentials…']);

interface ProfileWatch {
  samples: number;
  /** Every distinct state of the profile card seen: `passing: 3 tenants, all passing`… */
  cardStates: Set<string>;
  /** Every distinct status the tree showed for the profile's tenants. */
  treeStates: Set<string>;
  /** What was not green: a failing card, a failing tenant listed on it, a tenant not ACTIVE in the tree. */
  problems: string[];
}

/**
 * Looks at the profile's card on the credential-health page and at its tenants in the Tenants view, again
 * and again until stopped, and notes anything that was not green. A card briefly "not checked since the
 * last rotation" is not a failure, nor a row busy rotating or checking; a card failing, a tenant listed
 * as failing or named in the red banner, or a tenant row showing a status other than ACTIVE is.
 */
function watchProfileTenants(workbench: Workbench, profileName: string, tenantNames: readonly string[]): { stop(): void; done: Promise<ProfileWatch> } {
  let stopped = false;
  const seen: ProfileWatch = { samples: 0, cardStates: new Set(), treeStates: new Set(), problems: [] };
  const done = (async () => {
    while (!stopped) {
      const [page, rows] = await Promise.all([workbench.credentialHealth().catch(() => undefined), workbench.rows('Tenants').catch(() => [])]);
      const card = page?.profiles.find((shown) => shown.name === profileName);
      if (card) {
        seen.samples++;
        seen.cardStates.add(`${card.check}: ${card.result}`);
        if (card.check === 'failing' || /Failing tenants/.test(card.text)) seen.problems.push(`card ${card.check}: ${card.text.replace(/\s+/g, ' ')}`);
        for (const name of tenantNames) if ((page?.banner ?? '').includes(name)) seen.problems.push(`banner names ${name}: ${page?.banner ?? ''}`);
      }
      for (const row of rows.filter((shown) => shown.level === 1 && tenantNames.includes(shown.name))) {
        const status = row.description.split(' · ')[0] ?? '';
        seen.treeStates.add(`${row.name} ${status}`);
        // While the rotation and the re-check run, the row shows its busy state in place of its status.
        if (status !== 'ACTIVE' && !BUSY_WHILE_WATCHED.has(row.description)) seen.problems.push(`${row.name}: ${row.description}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return seen;
  })();
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}
