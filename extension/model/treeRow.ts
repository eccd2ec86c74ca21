import type { CommandId } from '../common/commandTable';

/**
 * One row of a tree as the views draw it, computed without `vscode` so its words, icons and states can
 * be tested; the tree providers only translate it into a `TreeItem`.
 */
export interface TreeRow {
  /** Stable across refreshes, so expansion and selection survive them. */
  id: string;
  label: string;
  description?: string;
  /** Markdown; everything from a tenant in it is escaped. */
  tooltip?: string;
  /** `tenant:ACTIVE`, `user:locked`, `task:ERROR`…, with `:busy` while an action runs on the row. */
  contextValue?: string;
  /** A codicon id and an optional theme colour id. */
  icon?: { id: string; color?: string };
  collapsible: 'none' | 'collapsed' | 'expanded';
  command?: { id: CommandId; title: string; args: unknown[] };
}
