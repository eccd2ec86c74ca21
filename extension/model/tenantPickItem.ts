import type { TenantView } from '../../protocol/daemonApi';
import { relativeTime } from '../../webview/relativeTime';

export interface PickItemText {
  label: string;
  description: string;
  detail: string;
}

const STATUS_ICON: Readonly<Record<TenantView['status'], string>> = {
  ACTIVE: '$(pass)',
  STALE: '$(history)',
  INACTIVE: '$(watch)',
  DORMANT: '$(debug-pause)',
  DISCONNECTED: '$(debug-disconnect)',
};

/** Text from a tenant, made unable to render as a `$(icon)` in a quick pick. */
export function noIcons(value: string): string {
  return value.replace(/\$\(/g, '$\u200b(');
}

/** A tenant in a quick pick: name, its status and "as of" time, and why it has that status. */
export function tenantPickItem(tenant: TenantView, now: number): PickItemText {
  return {
    label: `${STATUS_ICON[tenant.status]} ${noIcons(tenant.displayName)}`,
    description: `${tenant.status} · ${tenant.asOf === null ? 'never synced' : `as of ${relativeTime(tenant.asOf, now)}`}`,
    detail: noIcons(`${tenant.tenant} — ${tenant.statusReason}`),
  };
}
