import * as vscode from 'vscode';
import type { SystemLogFilter } from '../../model/systemLogDocument';
import { noIcons } from '../../model/tenantPickItem';
import { commandTarget } from '../commandArgs';
import type { CommandServices } from '../commandServices';

interface FilterItem extends vscode.QuickPickItem {
  filter: SystemLogFilter;
}

/** The daemon's system log: of one task (from a failed task's row), one tenant, or all, by level. */
export async function showSystemLogCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const target = commandTarget(arg);
  if (target.taskId || target.tenantId) {
    await services.systemLog.open({ ...(target.taskId ? { taskId: target.taskId } : {}), ...(target.tenantId && !target.taskId ? { tenantId: target.tenantId } : {}) });
    return;
  }
  const items: FilterItem[] = [
    { label: '$(list-flat) All entries', filter: {} },
    { label: '$(error) Errors only', filter: { level: 'error' } },
    { label: '$(warning) Warnings only', filter: { level: 'warn' } },
    ...services.model.tenants().map((tenant) => ({ label: `$(organization) ${noIcons(tenant.displayName)}`, description: tenant.status, filter: { tenantId: tenant.id } })),
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Show which system log entries?' });
  if (picked) await services.systemLog.open(picked.filter);
}
