import * as vscode from 'vscode';
import type { Debounced } from '../common/debounce';
import { debounce } from '../common/debounce';
import { DisposableBase } from '../common/disposableBase';
import { every } from '../common/every';
import type { Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import type { StatusModel } from '../model/statusModel';
import type { TenantsNode } from '../model/tenantTreeModel';
import { TenantTreeModel, tenantKey, userKey } from '../model/tenantTreeModel';
import { treeItemFromRow } from './treeItemFromRow';

/** The Tenants view: a thin adapter from the tree model to VS Code, refreshed by the model's events. */
export class TenantsTreeProvider extends DisposableBase implements vscode.TreeDataProvider<TenantsNode> {
  readonly #onDidChangeTreeData = this.register(new vscode.EventEmitter<TenantsNode | undefined>());
  readonly onDidChangeTreeData = this.#onDidChangeTreeData.event;
  readonly tree: TenantTreeModel;
  readonly #queued = new Set<TenantsNode>();
  #queuedAll = false;
  readonly #flushSoon: Debounced;
  /** Tenants whose first page is being read for `getChildren`. */
  #loading = 0;

  constructor(
    private readonly model: StatusModel,
    timers: Timers = realTimers,
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
   * Asks VS Code to redraw a row (and its children) or everything, a moment later and never while a
   * `getChildren` is still reading: VS Code's tree registers the children of a refresh that overlaps a
   * pending read twice and fails with "Element with id … is already registered".
   */
  refresh(node?: TenantsNode): void {
    if (node) this.#queued.add(node);
    else this.#queuedAll = true;
    this.#flushSoon.schedule();
  }

  #flush(): void {
    if (this.#loading > 0) return; // getChildren flushes when its read ends
    if (this.#queuedAll) {
      this.#queuedAll = false;
      this.#queued.clear();
      this.#onDidChangeTreeData.fire(undefined);
      return;
    }
    const nodes = [...this.#queued];
    this.#queued.clear();
    for (const node of nodes) this.#onDidChangeTreeData.fire(node);
  }

  getTreeItem(node: TenantsNode): vscode.TreeItem {
    return treeItemFromRow(this.tree.row(node));
  }

  async getChildren(node?: TenantsNode): Promise<TenantsNode[]> {
    if (!node) return this.tree.roots();
    if (this.tree.needsUsers(node)) {
      this.#loading++;
      try {
        // A failure becomes a "Could not read the users" row with a retry, not a notification.
        await this.model.loadMoreUsers(node.tenantId).catch(() => undefined);
      } finally {
        this.#loading--;
        // The read itself asked for this row to be redrawn; what is returned now already shows it.
        this.#queued.delete(node);
        if (this.#loading === 0 && (this.#queuedAll || this.#queued.size > 0)) this.#flushSoon.schedule();
      }
    }
    return this.tree.children(node);
  }

  getParent(node: TenantsNode): TenantsNode | undefined {
    return this.tree.parent(node);
  }

  #nodeForKey(key: string): TenantsNode | undefined {
    const [kind, tenantId, userId] = key.split('/');
    if (kind === 'tenant' && tenantId && key === tenantKey(tenantId)) return this.tree.tenantNode(tenantId);
    if (kind === 'user' && tenantId && userId && key === userKey(tenantId, userId)) return this.tree.userNode(tenantId, userId);
    return undefined;
  }
}
