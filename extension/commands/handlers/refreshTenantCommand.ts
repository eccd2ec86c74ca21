import * as vscode from 'vscode';
import type { CommandServices } from '../commandServices';
import { pickTenant } from '../prompts/pickTenant';

/**
 * Refresh is never refused here: the daemon decides what a repeat does (queue the tasks again, or record
 * that an earlier one still counts) and the operator sees its answer.
 */
export async function refreshTenantCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const tenant = await pickTenant(services, arg, 'Refresh which tenant? (queues "Update AD cache" and "Check account status")');
  if (!tenant) return;
  const outcome = await services.actions.refreshTenant(tenant.id);
  void vscode.window.showInformationMessage(`${tenant.displayName}: ${outcome.message}`);
}
