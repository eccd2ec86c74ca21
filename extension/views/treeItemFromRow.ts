import * as vscode from 'vscode';
import type { TreeRow } from '../model/treeRow';

const COLLAPSIBLE: Readonly<Record<TreeRow['collapsible'], vscode.TreeItemCollapsibleState>> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

/** A computed row as VS Code draws it. Tooltips are Markdown that is neither trusted nor HTML. */
export function treeItemFromRow(row: TreeRow): vscode.TreeItem {
  const item = new vscode.TreeItem(row.label, COLLAPSIBLE[row.collapsible]);
  item.id = row.id;
  if (row.description !== undefined) item.description = row.description;
  if (row.tooltip !== undefined) {
    const tooltip = new vscode.MarkdownString(row.tooltip);
    tooltip.isTrusted = false;
    tooltip.supportHtml = false;
    item.tooltip = tooltip;
  }
  if (row.contextValue !== undefined) item.contextValue = row.contextValue;
  if (row.icon) item.iconPath = new vscode.ThemeIcon(row.icon.id, row.icon.color ? new vscode.ThemeColor(row.icon.color) : undefined);
  if (row.command) item.command = { command: row.command.id, title: row.command.title, arguments: row.command.args };
  return item;
}
