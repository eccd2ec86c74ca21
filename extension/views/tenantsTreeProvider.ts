import * as vscode from 'vscode';
import { DisposableBase } from '../common/disposableBase';
import type { Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import type { StatusModel } from '../model/statusModel';
import type { TenantsNode } from '../model/tenantTreeModel';
import type { TenantTreeModel } from '../model/tenantTreeModel';
import { TenantTreeRedraws } from '../model/tenantTreeRedraws';
import { treeItemFromRow } from './treeItemFromRow';

/** The Tenants view: a thin adapter from the tree model to VS Code, redrawn as the model changes. */
export class TenantsTreeProvider extends DisposableBase implements vscode.TreeDataProvider<TenantsNode> {
  readonly #onDidChangeTreeData = this.register(new vscode.EventEmitter<TenantsNode | undefined>());
  readonly onDidChangeTreeData = this.#onDidChangeTreeData.event;
  readonly #redraws: TenantTreeRedraws;

  constructor(model: StatusModel, timers: Timers = realTimers) {
    super();
    this.#redraws = this.register(new TenantTreeRedraws(model, timers));
    this.register(this.#redraws.onDidRedraw((node) => this.#onDidChangeTreeData.fire(node)));
  }

  get tree(): TenantTreeModel {
    return this.#redraws.tree;
  }

  refresh(node?: TenantsNode): void {
    this.#redraws.refresh(node);
  }

  getTreeItem(node: TenantsNode): vscode.TreeItem {
    return treeItemFromRow(this.tree.row(node));
  }

  getChildren(node?: TenantsNode): Promise<TenantsNode[]> {
    return this.#redraws.children(node);
  }

  getParent(node: TenantsNode): TenantsNode | undefined {
    return this.tree.parent(node);
  }
}
