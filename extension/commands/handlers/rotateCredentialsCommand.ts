import * as vscode from 'vscode';
import type { CommandServices } from '../commandServices';
import { pickTenant } from '../prompts/pickTenant';
import { promptCredential } from '../prompts/promptCredential';
import { showTenantOutcome } from './tenantOutcome';

/** Replaces a tenant's secret or certificate; the daemon checks the new one before answering. */
export async function rotateCredentialsCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const tenant = await pickTenant(services, arg, 'Rotate the credentials of which tenant?');
  if (!tenant) return;
  const credential = await promptCredential(`Rotate credentials: ${tenant.displayName}`, services.timers);
  if (!credential) return;
  const updated = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Rotating the credentials of ${tenant.displayName} and checking them…` },
    () => services.actions.rotateCredentials(tenant.id, credential),
  );
  await showTenantOutcome(updated, 'Rotated the credentials of', services.timers.now());
}
