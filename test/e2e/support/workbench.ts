import type { Frame, Locator, Page } from 'playwright-core';
import { waitFor } from './waitFor';

export type M365View = 'Tenants' | 'Activity';

/** One row of a tree view as the screen shows it (what a screen reader would read, and the icon). */
export interface TreeRowOnScreen {
  /** The row's position in the whole tree (`data-index`), not only among the rows drawn. */
  index: number;
  level: number;
  /** The whole row as a screen reader reads it: label and description. */
  ariaLabel: string;
  name: string;
  description: string;
  /** null for a row without children. */
  expanded: boolean | null;
  /** `codicon-lock`, `codicon-pass`…; null when the row has no icon. */
  icon: string | null;
  /** The icon's computed colour, `rgb(…)`. */
  iconColor: string;
  /** The titles of the inline actions drawn on the row. */
  actions: string[];
}

export interface StatusBarItemOnScreen {
  text: string;
  ariaLabel: string;
  kind: 'error' | 'warning' | 'default';
  icon: string | null;
}

const STATUS_ITEM = '#m365-status\\.m365-status\\.m365Status\\.status';

/**
 * What a user of VS Code sees and does, in the selectors of the workbench of VS Code 1.100 (code-server
 * 4.100.3): the M365 views and their rows, the command palette and quick inputs, modal dialogs,
 * notifications, the status bar, hovers and the credential-health webview.
 */
export class Workbench {
  constructor(
    readonly page: Page,
    /** Told each action taken, for the logs. */
    private readonly note: (line: string) => void = () => undefined,
  ) {}

  // ---- views -------------------------------------------------------------------------------------

  pane(view: M365View): Locator {
    return this.page.locator(`.pane:has(.pane-header[aria-label^="${view}"])`);
  }

  /** Opens the M365 Status container in the activity bar unless it is open already. */
  async openM365(): Promise<void> {
    if (await this.pane('Tenants').isVisible()) return;
    await this.page.locator('.activitybar [aria-label^="M365 Status"]').first().click();
    await this.pane('Tenants').waitFor({ state: 'visible', timeout: 30_000 });
  }

  /** Drags the side bar wider, so that screenshots show the rows' descriptions. Best effort. */
  async widenSideBar(width: number): Promise<void> {
    this.note(`widen the side bar to ${width}px`);
    const sideBar = await this.page.locator('.part.sidebar').boundingBox();
    if (!sideBar || sideBar.width >= width) return;
    const edge = sideBar.x + sideBar.width;
    const y = sideBar.y + sideBar.height / 2;
    await this.page.mouse.move(edge, y);
    await this.page.mouse.down();
    await this.page.mouse.move(sideBar.x + width, y, { steps: 8 });
    await this.page.mouse.up();
    await this.page.mouse.move(sideBar.x + width + 300, y);
  }

  /** The rows drawn in a view, in tree order. Trees draw only the rows in sight; see `revealRow`. */
  async rows(view: M365View): Promise<TreeRowOnScreen[]> {
    const rows = await this.pane(view)
      .locator('.monaco-list-row')
      .evaluateAll((elements) =>
        elements.map((element) => {
          const icon = element.querySelector('.custom-view-tree-node-item-icon');
          const codicon = icon ? ([...icon.classList].find((name) => name.startsWith('codicon-')) ?? null) : null;
          const expanded = element.getAttribute('aria-expanded');
          return {
            index: Number(element.getAttribute('data-index')),
            level: Number(element.getAttribute('aria-level')),
            ariaLabel: element.getAttribute('aria-label') ?? '',
            name: element.querySelector('.label-name')?.textContent ?? '',
            description: element.querySelector('.label-description')?.textContent ?? '',
            expanded: expanded === null ? null : expanded === 'true',
            icon: codicon,
            iconColor: icon ? getComputedStyle(icon).color : '',
            actions: [...element.querySelectorAll('.actions .action-label')].map((action) => action.getAttribute('aria-label') ?? ''),
          };
        }),
      );
    return rows.sort((a, b) => a.index - b.index);
  }

  /** The rows under `parent` (deeper rows that follow it), among those drawn. */
  static childrenOf(rows: readonly TreeRowOnScreen[], parent: TreeRowOnScreen): TreeRowOnScreen[] {
    const children: TreeRowOnScreen[] = [];
    for (const row of rows) {
      if (row.index <= parent.index) continue;
      if (row.level <= parent.level) break;
      if (row.level === parent.level + 1) children.push(row);
    }
    return children;
  }

  row(view: M365View, index: number): Locator {
    return this.pane(view).locator(`.monaco-list-row[data-index="${index}"]`);
  }

  /** Waits for a drawn row that `match` accepts and answers it. */
  async waitForRow(view: M365View, what: string, match: (row: TreeRowOnScreen) => boolean, timeoutMs = 15_000): Promise<TreeRowOnScreen> {
    const rows = await waitFor(`${view}: ${what}`, () => this.rows(view), (drawn) => drawn.some(match), { timeoutMs });
    return rows.find(match) as TreeRowOnScreen;
  }

  /**
   * Scrolls a view until a row that `match` accepts is wholly in sight, and answers it: trees draw only
   * the rows in sight (and the one cut by the edge), and a tenant's users run past the bottom of the view.
   */
  async revealRow(view: M365View, what: string, match: (row: TreeRowOnScreen) => boolean): Promise<TreeRowOnScreen> {
    this.note(`reveal ${what} in ${view}`);
    const list = this.pane(view).locator('.monaco-list').first();
    const scroll = async (deltaY: number): Promise<void> => {
      const box = await list.boundingBox();
      if (!box) throw new Error(`the ${view} view is not on screen`);
      await this.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await this.page.mouse.wheel(0, deltaY);
      await this.page.waitForTimeout(120);
    };
    let scrolledToTop = false;
    let lastIndex = -1;
    for (let step = 0; step < 150; step++) {
      const rows = await this.rows(view);
      const found = rows.find(match);
      if (found) {
        const [rowBox, listBox] = await Promise.all([this.row(view, found.index).boundingBox(), list.boundingBox()]);
        if (!rowBox || !listBox) continue;
        const top = rowBox.y - listBox.y;
        const bottom = rowBox.y + rowBox.height - (listBox.y + listBox.height);
        if (top >= -1 && bottom <= 1) return found;
        await scroll(top < -1 ? top - rowBox.height : bottom + rowBox.height);
        continue;
      }
      if (!scrolledToTop) {
        scrolledToTop = true;
        await scroll(-100_000);
        continue;
      }
      const last = rows.at(-1)?.index ?? -1;
      if (last === lastIndex) break;
      lastIndex = last;
      const box = await list.boundingBox();
      await scroll((box?.height ?? 300) * 0.6);
    }
    throw new Error(`${view}: no row shows ${what} (scrolled to the end)`);
  }

  async expand(view: M365View, row: TreeRowOnScreen): Promise<void> {
    if (row.expanded !== false) return;
    this.note(`expand "${row.name}" in ${view}`);
    await this.row(view, row.index).locator('.monaco-tl-twistie').click();
    await waitFor(`${view}: "${row.name}" expanded`, () => this.row(view, row.index).getAttribute('aria-expanded'), (value) => value === 'true');
  }

  async collapse(view: M365View, row: TreeRowOnScreen): Promise<void> {
    if (row.expanded !== true) return;
    await this.row(view, row.index).locator('.monaco-tl-twistie').click();
    await waitFor(`${view}: "${row.name}" collapsed`, () => this.row(view, row.index).getAttribute('aria-expanded'), (value) => value === 'false');
  }

  /**
   * Hovers a row and clicks one of its inline actions, as a mouse user does. The row is looked up again
   * on each attempt: a poll redraws a tenant's rows, and an action bar drawn for the old row is gone.
   */
  async clickInlineAction(view: M365View, what: string, match: (row: TreeRowOnScreen) => boolean, title: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const row = await this.revealRow(view, what, match);
      this.note(`inline action "${title}" on "${row.name}"`);
      const element = this.row(view, row.index);
      try {
        await element.hover({ timeout: 3000 });
        await element.locator(`.actions .action-label[aria-label="${title}"]`).click({ timeout: 3000 });
        // A row redrawn under the click (a poll round refreshes its tenant) hands the command no row, and
        // the command then asks for one with its picker: that click missed its row, so it is made again.
        const picker = this.page.locator('.quick-input-widget');
        if (await picker.waitFor({ state: 'visible', timeout: 500 }).then(() => true, () => false)) {
          await this.page.keyboard.press('Escape');
          await picker.waitFor({ state: 'hidden', timeout: 3000 });
          throw new Error('the row was redrawn under the click, and the command asked for its row');
        }
        return;
      } catch (error) {
        if (attempt >= 4) throw error;
        this.note(`inline action "${title}" missed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); again`);
      }
    }
  }

  /** Hovers a row's label and answers the text of the hover that contains `contains`. */
  async hoverText(view: M365View, row: TreeRowOnScreen, contains: string): Promise<string> {
    this.note(`hover "${row.name}"`);
    await this.row(view, row.index).locator('.label-name').hover();
    const hover = this.page.locator('.workbench-hover, .monaco-hover').filter({ hasText: contains }).first();
    await hover.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await hover.innerText();
    await this.page.mouse.move(5, 880);
    await this.page.keyboard.press('Escape');
    return text;
  }

  /** The "Not live…" line a tree view shows above its rows; '' when hidden. */
  async viewMessage(view: M365View): Promise<string> {
    const message = this.pane(view).locator('.tree-explorer-viewlet-tree-view > .message').first();
    if ((await message.count()) === 0) return '';
    const hidden = await message.evaluate((element) => element.classList.contains('hide') || getComputedStyle(element).display === 'none');
    return hidden ? '' : ((await message.textContent()) ?? '');
  }

  /** The welcome content of a view (shown when the tree is empty); '' when none is shown. */
  async welcome(view: M365View): Promise<string> {
    const welcome = this.pane(view).locator('.welcome-view-content');
    if ((await welcome.count()) === 0 || !(await welcome.first().isVisible())) return '';
    return (await welcome.first().innerText()).trim();
  }

  // ---- command palette and quick inputs -----------------------------------------------------------

  quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /**
   * F1, the command's title, and a click on exactly that entry (not the first fuzzy match). Focus is
   * taken back from a webview first: keys typed there reach the workbench late, and the focus VS Code
   * gives back to the webview when a quick input closes can close the next one as it opens.
   */
  async runCommand(title: string): Promise<void> {
    this.note(`command palette: ${title}`);
    const input = this.quickInput().locator('.quick-input-box input');
    const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    for (let attempt = 1; ; attempt++) {
      if (await input.isVisible()) {
        await this.page.keyboard.press('Escape');
        await input.waitFor({ state: 'hidden', timeout: 5000 });
      }
      await this.focusWorkbench();
      await this.page.keyboard.press('F1');
      try {
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(`>${title}`, { timeout: 5000 });
        await this.quickInput()
          .locator('.monaco-list-row')
          .filter({ has: this.page.locator('.label-name', { hasText: exact }) })
          .first()
          .click({ timeout: 5000 });
        return;
      } catch (error) {
        // The palette closed under us before the command ran (nothing ran): open it again.
        if (attempt >= 3) throw error;
        this.note(`command palette closed before "${title}" could be picked; again`);
      }
    }
  }

  /** Moves the keyboard focus from a webview (an iframe) to the Tenants view, or else to the workbench. */
  async focusWorkbench(): Promise<void> {
    const inWebview = await this.page.evaluate(() => document.activeElement instanceof HTMLIFrameElement);
    if (!inWebview) return;
    const tree = this.pane('Tenants').locator('.monaco-list').first();
    if (await tree.isVisible()) await tree.focus();
    else await this.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  }

  /** Waits for the quick pick whose placeholder or title says `prompt`, and picks the entry that matches. */
  async pick(prompt: string | RegExp, entry: string | RegExp): Promise<void> {
    await this.#waitForPrompt(prompt);
    this.note(`pick ${String(entry)}`);
    await this.quickInput().locator('.monaco-list-row').filter({ hasText: entry }).first().click({ timeout: 10_000 });
  }

  /** The entries a quick pick lists, as a screen reader reads them. */
  async quickPickEntries(prompt: string | RegExp): Promise<string[]> {
    await this.#waitForPrompt(prompt);
    return this.quickInput()
      .locator('.monaco-list-row')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label') ?? ''));
  }

  /** Waits for the input box that asks `prompt`, types `value` and presses Enter; answers the box's type. */
  async answer(prompt: string | RegExp, value: string): Promise<{ type: string | null }> {
    await this.#waitForPrompt(prompt);
    const input = this.quickInput().locator('.quick-input-box input');
    const type = await input.getAttribute('type');
    await input.fill(value);
    await input.press('Enter');
    return { type };
  }

  async #waitForPrompt(prompt: string | RegExp): Promise<void> {
    const matches = (text: string): boolean => (typeof prompt === 'string' ? text.includes(prompt) : prompt.test(text));
    await waitFor(
      `a quick input asking ${String(prompt)}`,
      async () => {
        const widget = this.quickInput();
        if (!(await widget.isVisible())) return 'no quick input';
        const placeholder = (await widget.locator('.quick-input-box input').getAttribute('placeholder')) ?? '';
        const message = (await widget.locator('.quick-input-message').textContent()) ?? '';
        const title = (await widget.locator('.quick-input-title').textContent()) ?? '';
        return `${title} | ${placeholder} | ${message}`;
      },
      matches,
    );
  }

  // ---- dialogs, notifications, status bar ---------------------------------------------------------

  async modalDialog(): Promise<{ message: string; detail: string; buttons: string[] }> {
    const dialog = this.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    return {
      message: (await dialog.locator('.dialog-message-text').innerText()).trim(),
      detail: (await dialog.locator('.dialog-message-detail').innerText()).trim(),
      buttons: (await dialog.locator('.dialog-buttons a.monaco-button').allInnerTexts()).map((text) => text.trim()),
    };
  }

  async clickDialogButton(title: string): Promise<void> {
    this.note(`dialog button "${title}"`);
    const dialog = this.page.locator('.monaco-dialog-box');
    await dialog.locator('.dialog-buttons a.monaco-button').filter({ hasText: new RegExp(`^${title}$`) }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** The messages of the notification toasts on screen. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
  }

  async waitForNotification(what: string, match: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const texts = await waitFor(`a notification ${what}`, () => this.notifications(), (shown) => shown.some(match), { timeoutMs });
    return texts.find(match) as string;
  }

  async clearNotifications(): Promise<void> {
    if ((await this.notifications()).length === 0) return;
    await this.runCommand('Notifications: Clear All Notifications');
    await waitFor('the notifications to clear', () => this.notifications(), (shown) => shown.length === 0, { timeoutMs: 5000 });
  }

  async statusBarItem(): Promise<StatusBarItemOnScreen> {
    const item = this.page.locator(STATUS_ITEM);
    return item.evaluate((element) => ({
      text: (element.textContent ?? '').trim(),
      ariaLabel: element.getAttribute('aria-label') ?? '',
      kind: element.classList.contains('error-kind') ? ('error' as const) : element.classList.contains('warning-kind') ? ('warning' as const) : ('default' as const),
      icon: [...(element.querySelector('.codicon')?.classList ?? [])].find((name) => name.startsWith('codicon-') && name !== 'codicon') ?? null,
    }));
  }

  /** A theme colour as the workbench computes it (`charts.red` → `rgb(…)`), to compare with what is drawn. */
  async themeColor(id: string): Promise<string> {
    this.note(`theme colour ${id}`);
    return this.page.locator('.monaco-workbench').evaluate((workbench, variable) => {
      const probe = document.createElement('div');
      probe.style.color = `var(${variable})`;
      workbench.append(probe);
      const color = getComputedStyle(probe).color;
      probe.remove();
      return color;
    }, `--vscode-${id.replace(/\./g, '-')}`);
  }

  // ---- the credential-health webview --------------------------------------------------------------

  /**
   * The frame of the credential-health page. A webview is an iframe in an iframe, recreated when the
   * panel moves, so it is looked up every time.
   */
  async credentialHealthFrame(timeoutMs = 20_000): Promise<Frame> {
    return waitFor(
      'the credential-health page',
      async () => {
        for (const frame of this.page.frames()) {
          if (frame.isDetached()) continue;
          const found = await frame
            .locator('h1', { hasText: 'Credential health' })
            .count()
            .catch(() => 0);
          if (found > 0) return frame;
        }
        return undefined;
      },
      (frame) => frame !== undefined,
      { timeoutMs },
    ) as Promise<Frame>;
  }

  /** What the page shows: the banner (null while hidden), the connection note and each tenant's card. */
  async credentialHealth(): Promise<CredentialHealthOnScreen> {
    const frame = await this.credentialHealthFrame();
    const page = await frame.locator('body').evaluate((body) => {
      const banner = body.querySelector<HTMLElement>('#banner');
      return {
        banner: banner && !banner.hidden ? (banner.textContent ?? '') : null,
        connection: body.querySelector('#connection')?.textContent ?? '',
        summary: body.querySelector('#summary')?.textContent ?? '',
        sections: [...body.querySelectorAll<HTMLElement>('section.tenant')].map((card) => ({
          profile: card.classList.contains('profile'),
          name: card.querySelector('h2')?.textContent ?? '',
          check: [...card.classList].find((name) => name !== 'tenant' && name !== 'profile') ?? '',
          tag: card.querySelector('.tag')?.textContent ?? '',
          result: card.querySelector('.result')?.textContent ?? '',
          explanation: card.querySelector('.explain')?.textContent ?? null,
          text: card.innerText,
        })),
      };
    });
    const { sections, ...rest } = page;
    const card = ({ profile: _profile, ...fields }: (typeof sections)[number]): CredentialHealthCard => fields;
    return { ...rest, cards: sections.filter((s) => !s.profile).map(card), profiles: sections.filter((s) => s.profile).map(card) };
  }

  /** Clicks a button ("Re-check", "Rotate credentials") on the card of the tenant named `tenant`. */
  async clickCardButton(tenant: string, button: string): Promise<void> {
    this.note(`credential health: "${button}" on ${tenant}`);
    const frame = await this.credentialHealthFrame();
    const card = frame.locator('section.tenant').filter({ has: frame.locator('h2', { hasText: new RegExp(`^${tenant.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
    // A toolkit button draws its <button> in a shadow root; its accessible name is the slotted label.
    await card.getByRole('button', { name: button, exact: true }).click();
  }
}

export interface CredentialHealthOnScreen {
  banner: string | null;
  connection: string;
  summary: string;
  /** One card per tenant with its own app. */
  cards: CredentialHealthCard[];
  /** One card per app profile, its tenants' problems listed on it. */
  profiles: CredentialHealthCard[];
}

export interface CredentialHealthCard {
  name: string;
  check: string;
  tag: string;
  result: string;
  explanation: string | null;
  text: string;
}
