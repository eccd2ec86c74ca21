import * as vscode from 'vscode';
import type { Debounced } from '../common/debounce';
import { debounce } from '../common/debounce';
import { DisposableBase } from '../common/disposableBase';
import { every } from '../common/every';
import type { Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import type { ActivityNode } from '../model/activityTreeModel';
import { ActivityTreeModel } from '../model/activityTreeModel';
import type { StatusModel } from '../model/statusModel';
import { treeItemFromRow } from './treeItemFromRow';

/** The Activity view: management tasks and activities, newest first, live from the event stream. */
export class ActivityTreeProvider extends DisposableBase implements vscode.TreeDataProvider<ActivityNode> {
  readonly #onDidChangeTreeData = this.register(new vscode.EventEmitter<ActivityNode | undefined>());
  readonly onDidChangeTreeData = this.#onDidChangeTreeData.event;
  readonly #tree: ActivityTreeModel;
  readonly #refreshSoon: Debounced;

  constructor(model: StatusModel, timers: Timers = realTimers) {
    super();
    this.#tree = new ActivityTreeModel(model, () => timers.now());
    this.#refreshSoon = this.register(debounce(timers, 150, () => this.refresh()));
    // A refresh queues two tasks that start and finish within milliseconds: draw once per burst.
    this.register(model.onDidChangeActivity(() => this.#refreshSoon.schedule()));
    this.register(model.onDidChangeConnection(() => this.#refreshSoon.schedule()));
    this.register(every(timers, 60_000, () => this.refresh()));
  }

  refresh(): void {
    this.#onDidChangeTreeData.fire(undefined);
  }

  getTreeItem(node: ActivityNode): vscode.TreeItem {
    return treeItemFromRow(this.#tree.row(node));
  }

  getChildren(node?: ActivityNode): ActivityNode[] {
    return node ? this.#tree.children(node) : this.#tree.roots();
  }
}
