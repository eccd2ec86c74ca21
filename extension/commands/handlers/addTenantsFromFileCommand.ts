import * as vscode from 'vscode';
import type { TenantBatchReport } from '../../model/tenantBatchReport';
import type { CommandServices } from '../commandServices';
import { showTenantBatchOutcome } from './tenantBatchOutcome';

// A file of a few thousand customers is well under this; anything larger is not a list of tenants.
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Adds the tenants listed in a CSV (`tenant,displayName,profile,pollIntervalSeconds`) or JSON
 * (`{"tenants": [...]}`) file, with a cancellable progress, then one summary. Takes the file's path or
 * URI as its argument, so a flow can drive it without the open dialog.
 */
export async function addTenantsFromFileCommand(services: CommandServices, arg?: unknown): Promise<TenantBatchReport | undefined> {
  const uri = fileArgument(arg) ?? (await pickFile());
  if (!uri) return undefined;
  const stat = await vscode.workspace.fs.stat(uri);
  if (stat.size > MAX_FILE_BYTES) throw new Error(`${uri.fsPath} is ${Math.round(stat.size / 1024 / 1024)} MiB: too large to be a list of tenants.`);
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  const name = uri.path.split('/').pop() ?? uri.fsPath;
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Adding tenants from ${name}`, cancellable: true },
    (progress, token) => {
      let reported = 0;
      return services.actions.addTenantsFromFile(name, text, {
        isCancelled: () => token.isCancellationRequested,
        onChunk: (sent, total) => {
          const percent = (sent / total) * 100;
          progress.report({ message: `${sent} of ${total} sent`, increment: percent - reported });
          reported = percent;
        },
      });
    },
  );
  await showTenantBatchOutcome(services, name, report);
  return report;
}

function fileArgument(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.trim() !== '') return vscode.Uri.file(arg.trim());
  if (typeof arg === 'object' && arg !== null && typeof (arg as Record<string, unknown>).path === 'string') return vscode.Uri.file((arg as { path: string }).path);
  return undefined;
}

async function pickFile(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'Add tenants from a CSV or JSON file',
    openLabel: 'Add Tenants',
    canSelectMany: false,
    canSelectFiles: true,
    canSelectFolders: false,
    filters: { 'Tenant lists': ['csv', 'json'], 'All files': ['*'] },
  });
  return picked?.[0];
}
