import * as vscode from 'vscode';
import type { TenantView } from '../../../protocol/daemonApi';
import { tenantsNeedingAttention } from '../../model/statusBarPresentation';
import { tenantPickItem } from '../../model/tenantPickItem';
import type { CommandServices } from '../commandServices';

interface TenantItem extends vscode.QuickPickItem {
  tenant: TenantView;
}

/** Offers every tenant that needs attention, all ticked, and refreshes the ones kept. */
export async function refreshStaleTenantsCommand(services: CommandServices): Promise<void> {
  const attention = tenantsNeedingAttention(services.model.tenants());
  if (attention.length === 0) {
    void vscode.window.showInformationMessage('Every tenant is ACTIVE: nothing to refresh.');
    return;
  }
  const now = services.timers.now();
  const items: TenantItem[] = attention.map((tenant) => ({ ...tenantPickItem(tenant, now), tenant, picked: true }));
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    title: `Refresh ${attention.length === 1 ? 'the tenant' : `${attention.length} tenants`} that need attention`,
    placeHolder: 'Untick any to leave out; each refresh queues "Update AD cache" and "Check account status"',
    matchOnDescription: true,
  });
  if (!picked || picked.length === 0) return;
  const outcomes = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Refreshing tenants', cancellable: true },
    (progress, token) =>
      services.actions.refreshTenants(
        picked.map((item) => item.tenant),
        {
          isCancelled: () => token.isCancellationRequested,
          onTenant: (tenant) => progress.report({ message: tenant.displayName, increment: 100 / picked.length }),
        },
      ),
  );
  const queued = outcomes.filter((entry) => entry.outcome?.outcome === 'queued').length;
  const already = outcomes.filter((entry) => entry.outcome?.outcome === 'already-requested').length;
  const failed = outcomes.filter((entry) => entry.error !== undefined);
  const parts = [`Queued a refresh for ${queued} ${queued === 1 ? 'tenant' : 'tenants'}`];
  if (already > 0) parts.push(`${already} already had one under way or just done`);
  if (failed.length > 0) {
    for (const entry of failed) services.logger.error(`refresh ${entry.tenant.displayName}: ${entry.error ?? ''}`);
    parts.push(`${failed.length} failed (${failed.map((entry) => entry.tenant.displayName).join(', ')})`);
    const choice = await vscode.window.showWarningMessage(`${parts.join('; ')}.`, 'Show Log');
    if (choice === 'Show Log') services.output.show(true);
    return;
  }
  void vscode.window.showInformationMessage(`${parts.join('; ')}.`);
}
