import * as vscode from 'vscode';
import { credentialHealthRow } from '../../model/credentialHealthViewModel';
import { tenantKey } from '../../model/tenantTreeModel';
import type { CommandServices } from '../commandServices';
import { COMMANDS } from '../../common/commandTable';
import { pickTenant } from '../prompts/pickTenant';
import { withBusy } from '../../actions/withBusy';

export async function recheckCredentialHealthCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const tenant = await pickTenant(services.model, arg, 'Re-check the credentials of which tenant?');
  if (!tenant) return;
  const updated = await withBusy(services.model, tenantKey(tenant.id), 'Checking credentials…', () => services.client.recheckCredentialHealth(tenant.id));
  services.model.applyTenant(updated);
  const row = credentialHealthRow(updated, Date.now());
  if (row.check === 'failing') {
    const choice = await vscode.window.showWarningMessage(`${updated.displayName}: ${row.result}. ${row.failure?.message ?? ''}`.trim(), 'Show Credential Health');
    if (choice) await vscode.commands.executeCommand(COMMANDS.showCredentialHealth.id);
  } else {
    void vscode.window.showInformationMessage(`${updated.displayName}: ${row.result}.`);
  }
}
