import * as vscode from 'vscode';
import { COMMANDS } from '../../common/commandTable';
import { credentialHealthRow } from '../../model/credentialHealthViewModel';
import type { CommandServices } from '../commandServices';
import { pickTenant } from '../prompts/pickTenant';

export async function recheckCredentialHealthCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const tenant = await pickTenant(services, arg, 'Re-check the credentials of which tenant?');
  if (!tenant) return;
  const updated = await services.actions.recheckCredentialHealth(tenant.id);
  const row = credentialHealthRow(updated, services.timers.now());
  if (row.check === 'failing') {
    const choice = await vscode.window.showWarningMessage(`${updated.displayName}: ${row.result}. ${row.failure?.message ?? ''}`.trim(), 'Show Credential Health');
    if (choice) await vscode.commands.executeCommand(COMMANDS.showCredentialHealth.id);
  } else {
    void vscode.window.showInformationMessage(`${updated.displayName}: ${row.result}.`);
  }
}
