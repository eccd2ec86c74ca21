import * as vscode from 'vscode';
import type { CustomerView } from '../../../protocol/daemonApi';
import { customerPickItem } from '../../model/onboardingInput';
import type { TenantBatchReport } from '../../model/tenantBatchReport';
import type { CommandServices } from '../commandServices';
import { pickAppProfile } from '../prompts/pickAppProfile';
import { showTenantBatchOutcome } from './tenantBatchOutcome';

interface CustomerItem extends vscode.QuickPickItem {
  customer: CustomerView;
}

/**
 * Lists the partner's GDAP customers through an app profile, lets the operator tick the ones to add, and
 * adds them in one step; those without consent come back with their consent links in the summary. An
 * argument `{profileId, tenantIds}` picks without prompts.
 */
export async function discoverCustomersCommand(services: CommandServices, arg?: unknown): Promise<TenantBatchReport | undefined> {
  const given = typeof arg === 'object' && arg !== null ? (arg as Record<string, unknown>) : {};
  const profileArg = typeof arg === 'string' ? arg : typeof given.profileId === 'string' ? given.profileId : undefined;
  const profile = await pickAppProfile(services, 'Discover customers', profileArg);
  if (!profile) return undefined;
  const listed = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Asking Microsoft for the GDAP customers of ${profile.partnerTenant}…` },
    () => services.actions.discoverCustomers(profile.id),
  );
  const candidates = listed.customers.filter((customer) => !customer.added);
  const alreadyAdded = listed.customers.length - candidates.length;
  let chosen: CustomerView[];
  if (Array.isArray(given.tenantIds)) {
    const wanted = new Set(given.tenantIds.filter((id): id is string => typeof id === 'string'));
    chosen = candidates.filter((customer) => wanted.has(customer.tenantId));
  } else {
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(
        listed.customers.length === 0
          ? `${profile.partnerTenant} has no customer with an active GDAP relationship.`
          : `Every GDAP customer of ${profile.partnerTenant} is added already (${alreadyAdded}).`,
      );
      return undefined;
    }
    const items: CustomerItem[] = candidates.map((customer) => ({ ...customerPickItem(customer), customer, picked: customer.consent === 'consented' }));
    const picked = await vscode.window.showQuickPick(items, {
      title: `Add GDAP customers with ${profile.name}${alreadyAdded > 0 ? ` (${alreadyAdded} added already, not listed)` : ''}`,
      placeHolder: 'Tick the customers to add; those not consented yet get a consent link',
      canPickMany: true,
      matchOnDescription: true,
      ignoreFocusOut: true,
    });
    if (!picked) return undefined;
    chosen = picked.map((item) => item.customer);
  }
  if (chosen.length === 0) return undefined;
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Adding ${chosen.length} ${chosen.length === 1 ? 'customer' : 'customers'}`, cancellable: true },
    (progress, token) =>
      services.actions.addCustomers(profile.id, chosen, {
        isCancelled: () => token.isCancellationRequested,
        onChunk: (sent, total) => progress.report({ message: `${sent} of ${total} sent` }),
      }),
  );
  await showTenantBatchOutcome(services, `the GDAP customers of ${profile.name}`, report);
  return report;
}
