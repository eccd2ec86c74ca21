import * as vscode from 'vscode';
import type { TenantView, UserView } from '../../../protocol/daemonApi';
import { noIcons } from '../../model/tenantPickItem';
import type { UserSearchHit } from '../../model/userSearch';
import { searchTextProblem } from '../../model/userSearch';
import type { TimerHandle } from '../../common/timers';
import { commandTarget } from '../commandArgs';
import type { CommandServices } from '../commandServices';

interface UserItem extends vscode.QuickPickItem {
  hit?: UserSearchHit;
}

const STATE_ICON: Readonly<Record<UserView['state'], string>> = { locked: '$(lock)', disabled: '$(circle-slash)', enabled: '$(account)' };

function userItem(hit: UserSearchHit): UserItem {
  const { user, tenant } = hit;
  const state = user.state === 'locked' ? 'locked' : user.state === 'disabled' ? 'disabled outside M365 Status' : 'enabled';
  return {
    label: `${STATE_ICON[user.state]} ${noIcons(user.displayName?.trim() || user.userPrincipalName)}`,
    description: noIcons(user.userPrincipalName),
    detail: noIcons(`${tenant.displayName} · ${state}${user.onPremisesSyncEnabled ? ' · synced from on-premises' : ''}`),
    hit,
  };
}

function withSeparators(hits: readonly UserSearchHit[]): UserItem[] {
  const items: UserItem[] = [];
  let current: string | undefined;
  for (const hit of hits) {
    if (hit.tenant.id !== current) {
      current = hit.tenant.id;
      items.push({ label: noIcons(hit.tenant.displayName), kind: vscode.QuickPickItemKind.Separator });
    }
    items.push(userItem(hit));
  }
  return items;
}

/**
 * The user a command was run on, or one searched for across every tenant: each keystroke (after a pause)
 * asks the daemon of every tenant; for unlock, the locked and disabled users are listed before typing.
 */
export async function pickUser(
  { model, actions, timers }: Pick<CommandServices, 'model' | 'actions' | 'timers'>,
  arg: unknown,
  mode: 'lock' | 'unlock',
): Promise<{ tenant: TenantView; user: UserView } | undefined> {
  const { tenantId, userId } = commandTarget(arg);
  if (tenantId && userId) {
    const tenant = model.tenant(tenantId);
    const user = model.users(tenantId).find(userId);
    if (!tenant || !user) throw new Error('That user is no longer in the list; refresh the tenant and try again.');
    return { tenant, user };
  }
  const tenants = tenantId ? model.tenants().filter((tenant) => tenant.id === tenantId) : model.tenants();
  if (tenants.length === 0) {
    void vscode.window.showInformationMessage(model.connection.kind === 'connected' ? 'No tenant is registered yet.' : 'The daemon is not connected.');
    return undefined;
  }
  const states = mode === 'unlock' ? (['locked', 'disabled'] as const) : undefined;
  const quickPick = vscode.window.createQuickPick<UserItem>();
  quickPick.title = mode === 'lock' ? 'Lock a user' : 'Unlock a user';
  quickPick.placeholder = `Type a name or user principal name to search ${tenants.length === 1 ? 'the tenant' : `${tenants.length} tenants`}`;
  quickPick.matchOnDescription = true;
  quickPick.matchOnDetail = true;
  quickPick.ignoreFocusOut = true;
  let generation = 0;
  let timer: TimerHandle | undefined;

  const search = (text: string): void => {
    const mine = ++generation;
    if (timer !== undefined) timers.clearTimeout(timer);
    if (mode === 'lock' && text.trim().length < 2) {
      quickPick.busy = false;
      quickPick.items = withSeparators(
        model
          .cachedUsers()
          .filter(({ user }) => user.state === 'enabled')
          .slice(0, 200)
          .flatMap(({ tenantId: id, user }) => {
            const tenant = model.tenant(id);
            return tenant ? [{ tenant, user }] : [];
          }),
      );
      return;
    }
    const problem = searchTextProblem(text);
    if (problem) {
      quickPick.busy = false;
      quickPick.items = [{ label: '$(warning) Search text too long', detail: problem, alwaysShow: true }];
      return;
    }
    quickPick.busy = true;
    timer = timers.setTimeout(() => {
      void actions.searchUsers(tenants, text, { ...(states ? { states } : {}), isCancelled: () => mine !== generation }).then(
        (result) => {
          if (mine !== generation) return;
          const items = withSeparators(result.hits);
          for (const failure of result.failures) {
            items.push({ label: `$(warning) ${noIcons(failure.tenant.displayName)}: not searched`, detail: failure.message, alwaysShow: true });
          }
          if (result.truncated.length > 0) {
            items.push({ label: '$(info) More users match', detail: 'Type more of the name to narrow the search.', alwaysShow: true });
          }
          quickPick.items = items;
          quickPick.busy = false;
        },
        (error: unknown) => {
          if (mine !== generation) return;
          quickPick.items = [{ label: '$(error) Search failed', detail: error instanceof Error ? error.message : String(error), alwaysShow: true }];
          quickPick.busy = false;
        },
      );
    }, 250);
  };

  return new Promise((resolve) => {
    quickPick.onDidChangeValue(search);
    quickPick.onDidAccept(() => {
      const hit = quickPick.selectedItems[0]?.hit;
      if (!hit) return;
      resolve(hit);
      quickPick.hide();
    });
    quickPick.onDidHide(() => {
      generation++;
      if (timer !== undefined) timers.clearTimeout(timer);
      resolve(undefined);
      quickPick.dispose();
    });
    quickPick.show();
    search('');
  });
}
