import type { SessionView, TenantStatusName, TenantView } from '../../protocol/daemonApi';
import { clockTime, durationText, relativeTime } from '../../webview/relativeTime';
import type { ConnectionState } from '../client/connectionState';
import type { CommandId } from '../common/commandTable';
import { COMMANDS } from '../common/commandTable';
import { markdownText } from '../common/markdownText';
import { sessionLabel } from './sessionLabel';

export interface StatusBarPresentation {
  text: string;
  /** Markdown; tenant names in it are escaped. */
  tooltip: string;
  /** `statusBarItem.errorBackground` / `warningBackground`, or the default. */
  background: 'error' | 'warning' | undefined;
  command: CommandId | 'workbench.view.extension.m365Status';
  /** The tenants that need attention, worst first: what a click offers to refresh. */
  attention: TenantView[];
}

const ATTENTION_ORDER: Readonly<Record<TenantStatusName, number>> = { DISCONNECTED: 0, STALE: 1, DORMANT: 2, INACTIVE: 3, ACTIVE: 4 };

/** Worst first, then by name: the order of the tooltip and of the refresh offer. */
export function tenantsNeedingAttention(tenants: readonly TenantView[]): TenantView[] {
  return tenants
    .filter((tenant) => tenant.status !== 'ACTIVE')
    .sort((a, b) => ATTENTION_ORDER[a.status] - ATTENTION_ORDER[b.status] || a.displayName.localeCompare(b.displayName, undefined, { sensitivity: 'base' }));
}

const plural = (n: number, one: string, many: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Which daemon the window uses: its own (local) or a team's (shared), and who it was taken for. */
export interface DeploymentShown {
  mode: 'local' | 'shared';
  session?: SessionView | undefined;
}

/**
 * What the status bar says: how many tenants need attention, in the error colour when any is
 * DISCONNECTED and the warning colour when any is STALE, INACTIVE or DORMANT; quiet when all are ACTIVE;
 * and, before any of that, whether the daemon is there at all. In shared mode it also says who is
 * signed in; a local daemon adds nothing.
 */
export function statusBarPresentation(connection: ConnectionState, tenants: readonly TenantView[], now: number, deployment: DeploymentShown = { mode: 'local' }): StatusBarPresentation {
  const shown = connectionAndTenantStatus(connection, tenants, now, deployment);
  const label = connection.kind === 'connected' ? sessionLabel(deployment.session) : undefined;
  if (!label || !deployment.session) return shown;
  const { name, role } = deployment.session.engineer;
  return {
    ...shown,
    // An engineer's name is the admin's text: it must not draw a `$(icon)` either.
    text: `${shown.text} · ${label.replace(/\$\(/g, '$\u200b(')}`,
    tooltip: `${shown.tooltip}\n\nSigned in to the shared deployment as **${markdownText(name)}** (${role}).`,
  };
}

function connectionAndTenantStatus(connection: ConnectionState, tenants: readonly TenantView[], now: number, deployment: DeploymentShown): StatusBarPresentation {
  const attention = tenantsNeedingAttention(tenants);
  switch (connection.kind) {
    case 'connecting':
    case 'starting':
      return {
        text: '$(sync~spin) M365',
        tooltip: connection.kind === 'starting' ? 'Starting the m365-status daemon…' : 'Connecting to the m365-status daemon…',
        background: undefined,
        command: 'workbench.view.extension.m365Status',
        attention,
      };
    case 'signInNeeded':
      return {
        text: '$(account) M365: sign in',
        tooltip: `**Not signed in to the shared deployment.**\n\n${markdownText(connection.reason)}\n\nClick to sign in.`,
        background: 'warning',
        command: COMMANDS.signInToSharedDeployment.id,
        attention: [],
      };
    case 'unreachable':
      if (deployment.mode === 'shared') {
        return {
          text: '$(debug-disconnect) M365: shared deployment unreachable',
          tooltip: `**The shared deployment does not answer.**\n\n${markdownText(connection.reason)}\n\nClick to try again now.`,
          background: 'warning',
          command: COMMANDS.reload.id,
          attention: [],
        };
      }
      return {
        text: '$(debug-disconnect) M365: no daemon',
        tooltip: `**No m365-status daemon is reachable.**\n\n${markdownText(connection.reason)}\n\nClick to start it.`,
        background: 'warning',
        command: COMMANDS.startDaemon.id,
        attention: [],
      };
    case 'reconnecting': {
      const wait = Math.max(0, connection.retryAt - now);
      return {
        text: '$(debug-disconnect) M365: reconnecting',
        tooltip:
          `**Lost the m365-status daemon**: ${markdownText(connection.reason)}.\n\n` +
          `Trying again ${wait < 1000 ? 'now' : `in ${durationText(wait)}`}. Tenants and users shown are as they were when the connection was lost.\n\nClick to try now.`,
        background: 'warning',
        command: COMMANDS.reload.id,
        attention,
      };
    }
    case 'connected':
      break;
  }
  if (tenants.length === 0) {
    // Adding a tenant is an admin's: anyone else is shown the view, not a box that ends in a refusal.
    const role = deployment.session?.engineer.role ?? (deployment.mode === 'shared' ? undefined : 'admin');
    return role === 'admin'
      ? { text: '$(organization) M365: no tenants', tooltip: 'No tenant is registered with the daemon yet. Click to add one.', background: undefined, command: COMMANDS.addTenant.id, attention }
      : {
          text: '$(organization) M365: no tenants',
          tooltip: 'No tenant is registered with the deployment yet, or none is open to you: an admin of the deployment adds them.',
          background: undefined,
          command: 'workbench.view.extension.m365Status',
          attention,
        };
  }
  if (attention.length === 0) {
    return {
      text: `$(pass) M365: ${tenants.length}`,
      tooltip: `All ${plural(tenants.length, 'tenant is', 'tenants are')} ACTIVE.`,
      background: undefined,
      command: 'workbench.view.extension.m365Status',
      attention,
    };
  }
  const disconnected = attention.some((tenant) => tenant.status === 'DISCONNECTED');
  const rows = attention.slice(0, 15).map((tenant) => {
    const asOf = tenant.asOf === null ? 'never synced' : `as of ${clockTime(tenant.asOf)} (${relativeTime(tenant.asOf, now)})`;
    return `- **${markdownText(tenant.displayName)}** — ${tenant.status}, ${asOf}`;
  });
  if (attention.length > rows.length) rows.push(`- and ${attention.length - rows.length} more`);
  return {
    text: `${disconnected ? '$(error)' : '$(warning)'} ${plural(attention.length, 'tenant needs', 'tenants need')} attention`,
    tooltip: [`**${plural(attention.length, 'tenant needs', 'tenants need')} attention** (of ${tenants.length})`, '', ...rows, '', 'Click to refresh them.'].join('\n'),
    background: disconnected ? 'error' : 'warning',
    command: COMMANDS.refreshStaleTenants.id,
    attention,
  };
}
