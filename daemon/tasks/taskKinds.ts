/** Every kind of task, with the name the operator sees. Handlers are registered by `kind`. */
export const TASK_KINDS = {
  /** A full resync of the tenant's users, whatever the delta link says. Queued by a refresh. */
  updateAdCache: { kind: 'update-ad-cache', name: 'Update AD cache' },
  /** Credential and connectivity check (credential health). Queued by a refresh. */
  checkAccountStatus: { kind: 'check-account-status', name: 'Check account status' },
  /** The poller's scheduled delta sync, recorded as an automated task. */
  syncUsers: { kind: 'sync-users', name: 'Sync users' },
} as const;

export type TaskKind = (typeof TASK_KINDS)[keyof typeof TASK_KINDS]['kind'];
