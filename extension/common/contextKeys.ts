/** Context keys set by the extension, used in package.json `when` clauses (welcome content, menus). */
export const CONTEXT_KEYS = {
  /** `connecting`, `starting`, `connected`, `reconnecting`, `unreachable` or `signInNeeded`. */
  connection: 'm365Status.connection',
  hasTenants: 'm365Status.hasTenants',
  showAutomatedTasks: 'm365Status.showAutomatedTasks',
  /** `local` or `shared`, from the settings: what the daemon commands and welcome text offer. */
  mode: 'm365Status.mode',
  /** The signed-in engineer's role (`reader`, `operator`, `admin`): which row actions to offer. */
  role: 'm365Status.role',
} as const;

/** View and container ids, as package.json declares them. */
export const VIEW_IDS = {
  container: 'm365Status',
  tenants: 'm365Status.tenants',
  activity: 'm365Status.activity',
  /** The credential-health webview panel's view type (also its `onWebviewPanel` activation event). */
  credentialHealthPanel: 'm365Status.credentialHealth',
} as const;
