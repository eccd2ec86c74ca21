import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** What Microsoft's (the simulator's) consent page showed the admin before the choice. */
export interface ConsentPageOnScreen {
  heading: string;
  /** The paragraph naming the app, who publishes it and its app id. */
  app: string;
  /** The tenant the admin is signed in to, as the page says it. */
  signedInAs: string;
  permissions: string[];
}

/** The page the admin's browser ends on: the daemon's loopback listener, after Microsoft's redirect. */
export interface ConsentAnswerOnScreen {
  url: string;
  status: number;
  heading: string;
  lines: string[];
}

/**
 * A customer's admin at their own browser: a browser context of its own in the same real Chromium (its
 * own profile, cookies and storage, nothing shared with the workbench's), where the consent link is
 * opened and the admin clicks on Microsoft's page. The simulator's certificate comes from a CA made for
 * this run that no browser trusts, as a real admin's trusts Microsoft's, so this context alone accepts it.
 */
export class CustomerAdminBrowser {
  private constructor(
    private readonly context: BrowserContext,
    private readonly screenshotDir: string,
  ) {}

  static async open(browser: Browser, screenshotDir: string): Promise<CustomerAdminBrowser> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 700 } });
    return new CustomerAdminBrowser(context, screenshotDir);
  }

  /**
   * Opens the consent link, reads the page, takes a screenshot, clicks `Accept` or `Cancel` as the admin
   * does, and follows Microsoft's redirect to wherever it leads (the daemon's loopback listener).
   */
  async consent(consentUrl: string, decision: 'Accept' | 'Cancel', shotName: string): Promise<{ consentPage: ConsentPageOnScreen; answer: ConsentAnswerOnScreen }> {
    const page = await this.context.newPage();
    try {
      const opened = await page.goto(consentUrl, { waitUntil: 'domcontentloaded', timeout: 30_000 });
      if (opened?.status() !== 200) throw new Error(`the consent page answered ${opened?.status() ?? 'nothing'}: ${(await page.textContent('body')) ?? ''}`);
      const consentPage = await readConsentPage(page);
      await page.screenshot({ path: join(this.screenshotDir, `${shotName}-consent-page.png`) });
      // Microsoft answers the form with a redirect to the daemon's loopback listener; that answer is the last word.
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => new URL(candidate.url()).pathname === '/consent', { timeout: 30_000 }),
        page.getByRole('button', { name: decision, exact: true }).click(),
      ]);
      await page.waitForLoadState('domcontentloaded');
      const answer: ConsentAnswerOnScreen = {
        url: page.url(),
        status: response.status(),
        heading: ((await page.locator('h1').first().textContent()) ?? '').trim(),
        lines: (await page.locator('p').allInnerTexts()).map((line) => line.trim()),
      };
      await page.screenshot({ path: join(this.screenshotDir, `${shotName}-answer.png`) });
      return { consentPage, answer };
    } finally {
      await page.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}

async function readConsentPage(page: Page): Promise<ConsentPageOnScreen> {
  return {
    heading: ((await page.locator('h1').first().textContent()) ?? '').trim(),
    app: ((await page.locator('p').first().innerText()) ?? '').trim(),
    signedInAs: ((await page.locator('p', { hasText: 'Signed in to' }).first().innerText().catch(() => '')) ?? '').trim(),
    permissions: (await page.locator('li').allInnerTexts()).map((item) => item.trim()),
  };
}
