import * as vscode from 'vscode';
import type { TenantView } from '../../../protocol/daemonApi';
import { tenantPickItem } from '../../model/tenantPickItem';
import { commandTarget } from '../commandArgs';
import type { CommandServices } from '../commandServices';

interface TenantItem extends vscode.QuickPickItem {
  tenant: TenantView;
}

/** The tenant a command was run on, or one picked from a list that shows each tenant's status. */
export async function pickTenant(
  { model, timers }: Pick<CommandServices, 'model' | 'timers'>,
  arg: unknown,
  placeHolder: string,
): Promise<TenantView | undefined> {
  const { tenantId } = commandTarget(arg);
  if (tenantId) {
    const tenant = model.tenant(tenantId);
    if (!tenant) throw new Error('That tenant is no longer registered with the daemon.');
    return tenant;
  }
  const tenants = model.tenants();
  if (tenants.length === 0) {
    void vscode.window.showInformationMessage(model.connection.kind === 'connected' ? 'No tenant is registered yet.' : 'The daemon is not connected.');
    return undefined;
  }
  const now = timers.now();
  const items: TenantItem[] = tenants.map((tenant) => ({ ...tenantPickItem(tenant, now), tenant }));
  const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true });
  return picked?.tenant;
}
