import * as vscode from 'vscode';
import type { CommandServices } from '../commandServices';
import { pickTenant } from '../prompts/pickTenant';

export async function removeTenantCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const tenant = await pickTenant(services, arg, 'Remove which tenant?');
  if (!tenant) return;
  const answer = await vscode.window.showWarningMessage(
    `Remove ${tenant.displayName}?`,
    {
      modal: true,
      detail:
        'The daemon stops watching this tenant and deletes its stored credentials and cached users. Nothing changes in Microsoft 365: ' +
        'users it locked stay locked. You can add the tenant again later.',
    },
    'Remove',
  );
  if (answer !== 'Remove') return;
  await services.actions.removeTenant(tenant.id);
  void vscode.window.showInformationMessage(`Removed ${tenant.displayName}.`);
}
