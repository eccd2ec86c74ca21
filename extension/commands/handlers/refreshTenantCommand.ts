import * as vscode from 'vscode';
import { tenantKey } from '../../model/tenantTreeModel';
import type { CommandServices } from '../commandServices';
import { pickTenant } from '../prompts/pickTenant';
import { withBusy } from '../../actions/withBusy';

/**
 * Refresh is never refused here: the daemon decides what a repeat does (queue the tasks again, or record
 * that an earlier one still counts) and the operator sees its answer.
 */
export async function refreshTenantCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const tenant = await pickTenant(services.model, arg, 'Refresh which tenant? (queues "Update AD cache" and "Check account status")');
  if (!tenant) return;
  const outcome = await withBusy(services.model, tenantKey(tenant.id), 'Refreshing…', () => services.client.refreshTenant(tenant.id));
  services.model.applyEvent({ type: 'activity', activity: outcome.activity });
  void vscode.window.showInformationMessage(`${tenant.displayName}: ${outcome.message}`);
}
