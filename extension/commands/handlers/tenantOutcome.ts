import * as vscode from 'vscode';
import type { TenantView } from '../../../protocol/daemonApi';
import { COMMANDS } from '../../common/commandTable';
import { credentialHealthRow } from '../../model/credentialHealthViewModel';

/** After adding a tenant or rotating its credentials: what the daemon's check found, and a way on if it failed. */
export async function showTenantOutcome(tenant: TenantView, done: string, now: number): Promise<void> {
  const row = credentialHealthRow(tenant, now);
  if (row.check === 'failing') {
    const choice = await vscode.window.showWarningMessage(
      `${done} ${tenant.displayName}, but its credential check is failing: ${row.failure?.message ?? row.result}`,
      'Show Credential Health',
    );
    if (choice) await vscode.commands.executeCommand(COMMANDS.showCredentialHealth.id);
    return;
  }
  void vscode.window.showInformationMessage(`${done} ${tenant.displayName} (${tenant.status}). Credential check: ${row.result}.`);
}
