import * as vscode from 'vscode';
import type { TenantBatchReport } from '../../model/tenantBatchReport';
import { tenantBatchDocument, tenantBatchSummary } from '../../model/tenantBatchReport';
import type { CommandServices } from '../commandServices';

/** One summary of a bulk add, with every line's outcome (consent links included) a click away. */
export async function showTenantBatchOutcome(services: CommandServices, source: string, report: TenantBatchReport): Promise<void> {
  const summary = tenantBatchSummary(report);
  services.logger.info(`Add tenants from ${source}: ${summary}`);
  const clean = report.counts.invalid === 0 && report.counts.needsConsent === 0 && report.failure === undefined && !report.cancelled;
  const show = clean
    ? vscode.window.showInformationMessage(summary, 'Show Details')
    : vscode.window.showWarningMessage(summary, 'Show Details');
  if ((await show) === 'Show Details') await services.reports.open(`Tenants added from ${source}`, tenantBatchDocument(source, report));
}
