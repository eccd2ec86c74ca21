import type { Locator } from 'playwright-core';
import { waitFor } from './waitFor';
import type { Workbench } from './workbench';

/** One entry of a multi-select quick pick, as a screen reader reads it, and whether it is ticked. */
export interface PickEntryOnScreen {
  /** The row's place in the list (`data-index`). */
  index: number;
  ariaLabel: string;
  label: string;
  description: string;
  detail: string;
  ticked: boolean;
}

/** The editor in front, as the screen shows it. */
export interface EditorOnScreen {
  title: string;
  lines: string[];
}

/**
 * What the onboarding commands show beyond the single picks and input boxes `Workbench` drives: the
 * multi-select quick pick of Discover Customers, the buttons of a notification (Show Details), and the
 * read-only document a summary opens.
 */
export class OnboardingScreen {
  constructor(
    private readonly workbench: Workbench,
    private readonly note: (line: string) => void = () => undefined,
  ) {}

  private get page() {
    return this.workbench.page;
  }

  private rows(): Locator {
    return this.workbench.quickInput().locator('.quick-input-list .monaco-list-row');
  }

  /** Waits for a multi-select quick pick whose title or placeholder says `prompt`, and answers its entries. */
  async multiSelectEntries(prompt: string | RegExp, count: number): Promise<PickEntryOnScreen[]> {
    const matches = (text: string): boolean => (typeof prompt === 'string' ? text.includes(prompt) : prompt.test(text));
    await waitFor(
      `a multi-select quick pick asking ${String(prompt)}`,
      async () => {
        const widget = this.workbench.quickInput();
        if (!(await widget.isVisible())) return 'no quick input';
        const placeholder = (await widget.locator('.quick-input-box input').getAttribute('placeholder')) ?? '';
        const title = (await widget.locator('.quick-input-title').textContent()) ?? '';
        return `${title} | ${placeholder}`;
      },
      matches,
      { timeoutMs: 30_000 },
    );
    return waitFor(`${count} entries in the pick`, () => this.#entries(), (entries) => entries.length === count);
  }

  /** The pick's title, which says how many customers were left out as added already. */
  async quickPickTitle(): Promise<string> {
    return ((await this.workbench.quickInput().locator('.quick-input-title').textContent()) ?? '').trim();
  }

  async #entries(): Promise<PickEntryOnScreen[]> {
    return this.rows().evaluateAll((rows) =>
      rows.map((row) => ({
        index: Number(row.getAttribute('data-index')),
        ariaLabel: row.getAttribute('aria-label') ?? '',
        // The first label is the entry's own (its icon drawn as a codicon, not text); the detail is in the meta row.
        label: row.querySelector('.quick-input-list-label .label-name')?.textContent?.trim() ?? '',
        description: row.querySelector('.quick-input-list-label .label-description')?.textContent?.trim() ?? '',
        detail: row.querySelector('.quick-input-list-label-meta .label-name')?.textContent?.trim() ?? '',
        ticked: row.getAttribute('aria-checked') === 'true',
      })),
    );
  }

  /** Ticks exactly the entries whose label is in `labels` (clicking each box that must change), then accepts. */
  async tickOnlyAndAccept(labels: readonly string[]): Promise<void> {
    const wanted = new Set(labels);
    for (const entry of await this.#entries()) {
      if (entry.ticked === wanted.has(entry.label)) continue;
      this.note(`${entry.ticked ? 'untick' : 'tick'} "${entry.label}"`);
      await this.rows().and(this.page.locator(`[data-index="${entry.index}"]`)).locator('.monaco-checkbox').click({ timeout: 5000 });
      await waitFor(
        `"${entry.label}" ${entry.ticked ? 'unticked' : 'ticked'}`,
        () => this.#entries(),
        (now) => now.find((shown) => shown.label === entry.label)?.ticked === !entry.ticked,
        { timeoutMs: 5000 },
      );
    }
    const ticked = (await this.#entries()).filter((entry) => entry.ticked).map((entry) => entry.label);
    if (ticked.length !== wanted.size || !ticked.every((label) => wanted.has(label))) throw new Error(`ticked ${ticked.join(', ')}; wanted ${[...wanted].join(', ')}`);
    this.note(`accept the pick: ${ticked.join(', ')}`);
    const ok = this.workbench.quickInput().locator('.quick-input-action a.monaco-button', { hasText: /^OK$/ });
    if (await ok.isVisible()) await ok.click();
    else await this.workbench.quickInput().locator('.quick-input-box input').press('Enter');
    await this.workbench.quickInput().waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** The buttons of the notification toast whose message `match` accepts. */
  async notificationButtons(match: (text: string) => boolean): Promise<string[]> {
    const toast = await this.#toast(match);
    return (await toast.locator('.notification-list-item-buttons-container a.monaco-button').allInnerTexts()).map((text) => text.trim());
  }

  async clickNotificationButton(match: (text: string) => boolean, button: string): Promise<void> {
    this.note(`notification button "${button}"`);
    const toast = await this.#toast(match);
    await toast.locator('.notification-list-item-buttons-container a.monaco-button', { hasText: new RegExp(`^${escape(button)}$`) }).click();
  }

  async #toast(match: (text: string) => boolean): Promise<Locator> {
    const items = this.page.locator('.notifications-toasts .notification-list-item');
    const index = await waitFor(
      'the notification',
      async () => (await items.locator('.notification-list-item-message').allInnerTexts()).findIndex(match),
      (found) => found >= 0,
    );
    return items.nth(index);
  }

  /**
   * The editor in front: its tab's title and its lines as drawn (Monaco draws only the lines in sight;
   * a short document is drawn whole). Spaces come back as spaces, tabs as the spaces they are drawn with.
   */
  async activeEditor(): Promise<EditorOnScreen> {
    const group = this.page.locator('.editor-group-container.active');
    const title = ((await group.locator('.tab.active .label-name').first().textContent()) ?? '').trim();
    const lines = await group.locator('.monaco-editor .view-lines .view-line').evaluateAll((elements) =>
      elements
        .map((element) => ({ top: Number.parseFloat((element as HTMLElement).style.top) || 0, text: (element.textContent ?? '').replace(/\u00a0/g, ' ') }))
        .sort((a, b) => a.top - b.top)
        .map((line) => line.text),
    );
    return { title, lines };
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
