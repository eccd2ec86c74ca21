import * as vscode from 'vscode';
import { DisposableBase } from '../common/disposableBase';
import type { ActivityNode } from '../model/activityTreeModel';
import { ActivityTreeModel } from '../model/activityTreeModel';
import type { StatusModel } from '../model/statusModel';
import { treeItemFromRow } from './treeItemFromRow';

/** The Activity view: management tasks and activities, newest first, live from the event stream. */
export class ActivityTreeProvider extends DisposableBase implements vscode.TreeDataProvider<ActivityNode> {
  readonly #onDidChangeTreeData = this.register(new vscode.EventEmitter<ActivityNode | undefined>());
  readonly onDidChangeTreeData = this.#onDidChangeTreeData.event;
  readonly #tree: ActivityTreeModel;
  #pending: ReturnType<typeof setTimeout> | undefined;

  constructor(model: StatusModel) {
    super();
    this.#tree = new ActivityTreeModel(model);
    // A refresh queues two tasks that start and finish within milliseconds: draw once per burst.
    this.register(model.onDidChangeActivity(() => this.#refreshSoon()));
    this.register(model.onDidChangeConnection(() => this.#refreshSoon()));
    const timer = setInterval(() => this.refresh(), 60_000);
    this.register({ dispose: () => clearInterval(timer) });
    this.register({ dispose: () => this.#pending !== undefined && clearTimeout(this.#pending) });
  }

  refresh(): void {
    this.#onDidChangeTreeData.fire(undefined);
  }

  #refreshSoon(): void {
    this.#pending ??= setTimeout(() => {
      this.#pending = undefined;
      this.refresh();
    }, 150);
  }

  getTreeItem(node: ActivityNode): vscode.TreeItem {
    return treeItemFromRow(this.#tree.row(node));
  }

  getChildren(node?: ActivityNode): ActivityNode[] {
    return node ? this.#tree.children(node) : this.#tree.roots();
  }
}
