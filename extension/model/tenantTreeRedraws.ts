import type { Debounced } from '../common/debounce';
import { debounce } from '../common/debounce';
import { DisposableBase } from '../common/disposableBase';
import { Emitter } from '../common/emitter';
import { every } from '../common/every';
import type { Timers } from '../common/timers';
import type { StatusModel } from './statusModel';
import type { TenantsNode } from './tenantTreeModel';
import { TenantTreeModel, tenantKey, userKey } from './tenantTreeModel';

/**
 * When the Tenants view redraws, and what it shows when it asks for children, without `vscode`: the
 * model's events become redraws of one row or of all, a moment later and never while a first page of
 * users is still being read for the view.
 */
export class TenantTreeRedraws extends DisposableBase {
  readonly tree: TenantTreeModel;
  readonly #onDidRedraw = this.register(new Emitter<TenantsNode | undefined>());
  /** A row (with its children) to draw again, or undefined for everything. */
  readonly onDidRedraw = this.#onDidRedraw.event;
  readonly #queued = new Set<TenantsNode>();
  #queuedAll = false;
  readonly #flushSoon: Debounced;
  /** Tenants whose first page is being read for `children`. */
  #loading = 0;

  constructor(
    private readonly model: StatusModel,
    timers: Timers,
  ) {
    super();
    this.tree = new TenantTreeModel(model, () => timers.now());
    this.#flushSoon = this.register(debounce(timers, 30, () => this.#flush()));
    this.register(
      model.onDidChangeTenants((change) => {
        if (change.tenantIds) for (const tenantId of change.tenantIds) this.refresh(this.tree.tenantNode(tenantId));
        else this.refresh();
      }),
    );
    this.register(model.onDidChangeUsers(({ tenantId }) => (model.tenant(tenantId) ? this.refresh(this.tree.tenantNode(tenantId)) : undefined)));
    this.register(model.onDidChangeBusy(({ key }) => this.refresh(this.#nodeForKey(key))));
    this.register(model.onDidChangeConnection(() => this.refresh()));
    // "as of 5 min ago" has to move on by itself.
    this.register(every(timers, 60_000, () => this.refresh()));
  }

  /**
   * Asks for a row (and its children) or everything to be redrawn, a moment later and never while a
   * `children` read is under way: VS Code's tree registers the children of a refresh that overlaps a
   * pending read twice and fails with "Element with id … is already registered".
   */
  refresh(node?: TenantsNode): void {
    if (node) this.#queued.add(node);
    else this.#queuedAll = true;
    this.#flushSoon.schedule();
  }

  #flush(): void {
    if (this.#loading > 0) return; // children flushes when its read ends
    if (this.#queuedAll) {
      this.#queuedAll = false;
      this.#queued.clear();
      this.#onDidRedraw.fire(undefined);
      return;
    }
    const nodes = [...this.#queued];
    this.#queued.clear();
    for (const node of nodes) this.#onDidRedraw.fire(node);
  }

  /** The tenants, or a tenant's users, reading its first page first when none was read. */
  async children(node?: TenantsNode): Promise<TenantsNode[]> {
    if (!node) return this.tree.roots();
    if (this.tree.needsUsers(node)) {
      const read = this.model.users(node.tenantId);
      this.#loading++;
      try {
        // A failure becomes a "Could not read the users" row with a retry, not a notification.
        await this.model.loadMoreUsers(node.tenantId).catch(() => undefined);
      } finally {
        this.#loading--;
        // The read asked for this row to be redrawn, and what is returned now shows it; unless the users
        // were thrown away meanwhile (a resync): then only the redraw reads them again.
        if (this.model.users(node.tenantId) === read) this.#queued.delete(node);
        if (this.#loading === 0 && (this.#queuedAll || this.#queued.size > 0)) this.#flushSoon.schedule();
      }
    }
    return this.tree.children(node);
  }

  #nodeForKey(key: string): TenantsNode | undefined {
    const [kind, tenantId, userId] = key.split('/');
    if (kind === 'tenant' && tenantId && key === tenantKey(tenantId)) return this.tree.tenantNode(tenantId);
    if (kind === 'user' && tenantId && userId && key === userKey(tenantId, userId)) return this.tree.userNode(tenantId, userId);
    return undefined;
  }
}
