import type { TenantStatusName, TenantView, UserView } from '../../protocol/daemonApi';
import { clockTime, durationText, relativeTime } from '../../webview/relativeTime';
import { COMMANDS } from '../common/commandTable';
import { markdownText } from '../common/markdownText';
import type { StatusModel } from './statusModel';
import type { TreeRow } from './treeRow';

export type TenantsNode =
  | { readonly kind: 'tenant'; readonly id: string; readonly tenantId: string }
  | { readonly kind: 'user'; readonly id: string; readonly tenantId: string; readonly userId: string }
  | { readonly kind: 'loadMore'; readonly id: string; readonly tenantId: string }
  | { readonly kind: 'usersError'; readonly id: string; readonly tenantId: string }
  | { readonly kind: 'noUsers'; readonly id: string; readonly tenantId: string };

export const TENANT_STATUS_ICONS: Readonly<Record<TenantStatusName, { id: string; color: string }>> = {
  ACTIVE: { id: 'pass', color: 'testing.iconPassed' },
  STALE: { id: 'history', color: 'list.warningForeground' },
  INACTIVE: { id: 'watch', color: 'list.warningForeground' },
  DORMANT: { id: 'debug-pause', color: 'list.warningForeground' },
  DISCONNECTED: { id: 'debug-disconnect', color: 'list.errorForeground' },
};

/**
 * What a status means when the daemon gives no reason of its own. No numbers: the thresholds and poll
 * intervals are the daemon's (its own settings, or a shared deployment's), not this window's.
 */
export const TENANT_STATUS_MEANING: Readonly<Record<TenantStatusName, string>> = {
  ACTIVE: 'synced recently and managed recently',
  STALE: 'the user cache is not current: no successful sync within the stale threshold',
  INACTIVE: 'no management activity for longer than the inactive threshold (still watched, less often)',
  DORMANT: 'no management activity for longer than the dormant threshold (still watched, least often)',
  DISCONNECTED: 'the daemon cannot connect: the last attempt failed on credentials, consent or permissions',
};

const count = (value: number): string => value.toLocaleString('en-US');

/** Row keys for busy state, shared by the commands that set it and the rows that show it. */
export const tenantKey = (tenantId: string): string => `tenant/${tenantId}`;
export const userKey = (tenantId: string, userId: string): string => `user/${tenantId}/${userId}`;

/**
 * The Tenants tree without `vscode`: tenants by name, under each its users (locked, then disabled, then
 * the rest) a page at a time with a "Load more" row. Nodes are kept per id so the same object comes back
 * for the same row, which VS Code needs to refresh one row.
 */
export class TenantTreeModel {
  readonly #nodes = new Map<string, TenantsNode>();

  constructor(
    private readonly model: StatusModel,
    private readonly now: () => number = Date.now,
  ) {}

  roots(): TenantsNode[] {
    const tenants = this.model.tenants();
    const live = new Set(tenants.map((tenant) => tenant.id));
    for (const [id, node] of this.#nodes) if (!live.has(node.tenantId)) this.#nodes.delete(id);
    return tenants.map((tenant) => this.tenantNode(tenant.id));
  }

  /** Children as read so far; the provider reads the first page before asking (`needsUsers`). */
  children(node: TenantsNode): TenantsNode[] {
    if (node.kind !== 'tenant') return [];
    const users = this.model.users(node.tenantId);
    const nodes: TenantsNode[] = users.sorted().map((user) => this.userNode(node.tenantId, user.id));
    if (users.error) nodes.push(this.#node({ kind: 'usersError', id: `users-error/${node.tenantId}`, tenantId: node.tenantId }));
    else if (users.loaded && nodes.length === 0) nodes.push(this.#node({ kind: 'noUsers', id: `no-users/${node.tenantId}`, tenantId: node.tenantId }));
    else if (users.loaded && users.hasMore()) nodes.push(this.loadMoreNode(node.tenantId));
    return nodes;
  }

  needsUsers(node: TenantsNode): boolean {
    if (node.kind !== 'tenant') return false;
    const users = this.model.users(node.tenantId);
    return !users.loaded && !users.error;
  }

  parent(node: TenantsNode): TenantsNode | undefined {
    return node.kind === 'tenant' ? undefined : this.tenantNode(node.tenantId);
  }

  tenantNode(tenantId: string): TenantsNode {
    return this.#node({ kind: 'tenant', id: tenantKey(tenantId), tenantId });
  }

  userNode(tenantId: string, userId: string): TenantsNode {
    return this.#node({ kind: 'user', id: userKey(tenantId, userId), tenantId, userId });
  }

  loadMoreNode(tenantId: string): TenantsNode {
    return this.#node({ kind: 'loadMore', id: `more/${tenantId}`, tenantId });
  }

  #node(node: TenantsNode): TenantsNode {
    const existing = this.#nodes.get(node.id);
    if (existing) return existing;
    this.#nodes.set(node.id, node);
    return node;
  }

  row(node: TenantsNode): TreeRow {
    const tenant = this.model.tenant(node.tenantId);
    switch (node.kind) {
      case 'tenant':
        return tenant ? tenantRow(tenant, this.model.busy(node.id), this.now()) : { id: node.id, label: node.tenantId, collapsible: 'none' };
      case 'user': {
        const user = this.model.users(node.tenantId).find(node.userId);
        if (!user) return { id: node.id, label: node.userId, collapsible: 'none' };
        return userRow(user, tenant, this.model.busy(node.id), this.now());
      }
      case 'loadMore': {
        const users = this.model.users(node.tenantId);
        const remaining = users.remaining();
        const loading = users.loading;
        return {
          id: node.id,
          label: loading ? 'Loading users…' : 'Load more users…',
          description: Number.isFinite(remaining) ? `${count(remaining)} more` : undefined,
          icon: { id: loading ? 'loading~spin' : 'ellipsis' },
          collapsible: 'none',
          contextValue: 'loadMore',
          command: { id: COMMANDS.loadMoreUsers.id, title: COMMANDS.loadMoreUsers.title, args: [node.tenantId] },
        };
      }
      case 'usersError': {
        const message = this.model.users(node.tenantId).error?.message ?? 'unknown error';
        return {
          id: node.id,
          label: 'Could not read the users',
          description: `${message} — click to try again`,
          tooltip: `Could not read the users: ${markdownText(message)}\n\nClick to try again.`,
          icon: { id: 'error', color: 'list.errorForeground' },
          collapsible: 'none',
          contextValue: 'usersError',
          command: { id: COMMANDS.loadMoreUsers.id, title: 'Try Again', args: [node.tenantId] },
        };
      }
      case 'noUsers':
        return { id: node.id, label: 'No users', icon: { id: 'info' }, collapsible: 'none', contextValue: 'noUsers' };
    }
  }
}

export function tenantRow(tenant: TenantView, busy: string | undefined, now: number): TreeRow {
  const parts = [tenant.status, `${count(tenant.counts.total)} users`];
  if (tenant.counts.locked > 0) parts.push(`${count(tenant.counts.locked)} locked`);
  parts.push(tenant.asOf === null ? 'never synced' : `as of ${relativeTime(tenant.asOf, now)}`);
  return {
    id: tenantKey(tenant.id),
    label: tenant.displayName,
    description: busy ?? parts.join(' · '),
    tooltip: tenantTooltip(tenant, now),
    contextValue: `tenant:${tenant.status}${busy ? ':busy' : ''}`,
    icon: busy ? { id: 'loading~spin' } : TENANT_STATUS_ICONS[tenant.status],
    collapsible: 'collapsed',
  };
}

export function tenantTooltip(tenant: TenantView, now: number): string {
  const lines = [
    `**${markdownText(tenant.displayName)}** — ${markdownText(tenant.tenant)}`,
    '',
    `**${tenant.status}**: ${markdownText(tenant.statusReason || TENANT_STATUS_MEANING[tenant.status])}`,
    '',
    `Users: ${count(tenant.counts.total)} (${count(tenant.counts.enabled)} enabled, ${count(tenant.counts.disabled)} disabled, ${count(tenant.counts.locked)} locked by M365 Status)`,
    '',
    tenant.asOf === null ? 'As of: never synced yet' : `As of: ${clockTime(tenant.asOf)} (${relativeTime(tenant.asOf, now)}) — the last successful sync`,
    '',
    `Polled every ${durationText(tenant.pollIntervalMs)}${tenant.lastAttemptAt === null ? '' : `; last attempt ${relativeTime(tenant.lastAttemptAt, now)}`}`,
  ];
  if (tenant.lastError) {
    lines.push('', `Last error (${relativeTime(tenant.lastError.at, now)}): ${markdownText(tenant.lastError.message)} \`${markdownText(tenant.lastError.code)}\``);
  }
  const health = tenant.credentialHealth;
  const credential = tenant.credentialKind === 'secret' ? 'client secret' : 'certificate';
  if (health) {
    const verdict = !health.canGetToken
      ? `failing — ${markdownText(health.failure?.message ?? 'no token')}`
      : health.missingRoles.length > 0
        ? `missing ${markdownText(health.missingRoles.join(', '))}`
        : 'passing';
    const expiry = health.credentialExpiresAt === null ? '' : `, expires ${relativeTime(health.credentialExpiresAt, now)}`;
    lines.push('', `Credential (${credential}${expiry}): ${verdict}; checked ${relativeTime(health.checkedAt, now)}`);
  } else {
    lines.push('', `Credential (${credential}): not checked yet`);
  }
  lines.push('', `Tenant \`${markdownText(tenant.tenant)}\` · app \`${markdownText(tenant.appId)}\``);
  return lines.join('\n');
}

export function userRow(user: UserView, tenant: TenantView | undefined, busy: string | undefined, now: number): TreeRow {
  const name = user.displayName?.trim() || user.userPrincipalName;
  const facts: string[] = [];
  if (user.displayName?.trim()) facts.push(user.userPrincipalName);
  if (user.state === 'locked') facts.push('locked');
  else if (user.state === 'disabled') facts.push('disabled outside M365 Status');
  if (user.onPremisesSyncEnabled) facts.push('on-premises');
  return {
    id: userKey(tenant?.id ?? '', user.id),
    label: name,
    description: busy ?? facts.join(' · '),
    tooltip: userTooltip(user, tenant, now),
    contextValue: `user:${user.state}${user.onPremisesSyncEnabled ? ':onPremises' : ''}${busy ? ':busy' : ''}`,
    icon: busy
      ? { id: 'loading~spin' }
      : user.state === 'locked'
        ? { id: 'lock', color: 'charts.red' }
        : user.state === 'disabled'
          ? { id: 'circle-slash', color: 'disabledForeground' }
          : { id: 'account' },
    collapsible: 'none',
  };
}

export function userTooltip(user: UserView, tenant: TenantView | undefined, now: number): string {
  const lines = [`**${markdownText(user.displayName?.trim() || user.userPrincipalName)}**`, '', markdownText(user.userPrincipalName), ''];
  if (user.state === 'locked') {
    const lock = user.lock;
    lines.push(
      lock
        ? `Locked by ${markdownText(lock.by)} ${relativeTime(lock.at, now)} (${clockTime(lock.at)})${lock.revokedSessions ? '; sign-in sessions revoked' : ''}`
        : 'Locked by M365 Status',
    );
  } else if (user.state === 'disabled') {
    lines.push('Sign-in disabled outside M365 Status (in Microsoft 365 or on-premises)');
  } else {
    lines.push('Sign-in enabled');
  }
  if (user.onPremisesSyncEnabled) {
    lines.push('', 'Synced from on-premises AD: its sign-in state is mastered there, and the next directory sync may undo a change made here.');
  }
  lines.push(
    '',
    `Last changed ${relativeTime(user.lastChangedAt, now)}; last verified ${relativeTime(user.lastVerifiedAt, now)} (${clockTime(user.lastVerifiedAt)})`,
  );
  if (tenant) lines.push('', `Tenant: ${markdownText(tenant.displayName)}`);
  return lines.join('\n');
}
