import * as vscode from 'vscode';
import { DaemonApiError } from '../client/daemonApiError';
import { DaemonUnreachableError } from '../client/daemonUnreachableError';
import type { CommandKey, CommandSpec } from '../common/commandTable';
import { COMMANDS } from '../common/commandTable';
import { accessRefusal } from '../model/accessRefusal';
import { roleRefusal } from '../model/roleRefusal';
import { commandRunKey } from './commandArgs';
import type { CommandHandler, CommandServices } from './commandServices';

// Errors already shown once, so a command that runs another does not report the same failure twice.
const reported = new WeakSet<object>();

/**
 * Registers every command of the table through one wrapper, which owns the disposable, refuses a command
 * the session's role does not allow before it asks anything (menus hide such commands; the palette and
 * links do not), ignores a second run of the same command on the same row while the first is under way
 * (double clicks), and reports a failure once: in the log, and as a notification with a way on.
 */
export function registerCommands(services: CommandServices, handlers: Readonly<Record<CommandKey, CommandHandler>>): vscode.Disposable[] {
  const running = new Set<string>();
  return (Object.keys(COMMANDS) as CommandKey[]).map((key) => {
    const spec: CommandSpec = COMMANDS[key];
    const handler = handlers[key];
    return vscode.commands.registerCommand(spec.id, async (...args: unknown[]) => {
      const refusal = spec.needs && roleRefusal(spec.needs, services.model.session, services.settings().shared.url ? 'shared' : 'local');
      if (refusal) {
        services.logger.info(`${spec.id}: refused before asking anything: ${refusal}`);
        void vscode.window.showWarningMessage(refusal);
        return undefined;
      }
      const runKey = commandRunKey(spec.id, args[0]);
      if (running.has(runKey)) {
        services.logger.debug(`${spec.id}: already running for this target; ignored`);
        return undefined;
      }
      running.add(runKey);
      try {
        return await handler(services, ...args);
      } catch (error) {
        // Not awaited: the notification stays up as long as the operator likes; the command is over.
        void report(services, spec.title, error);
        return undefined;
      } finally {
        running.delete(runKey);
      }
    });
  });
}

async function report(services: CommandServices, title: string, error: unknown): Promise<void> {
  if (typeof error === 'object' && error !== null) {
    if (reported.has(error)) return;
    reported.add(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof DaemonApiError ? ` [${error.code}${error.errorId ? `, error id ${error.errorId}` : ''}]` : '';
  const refusal = accessRefusal(error, services.model.session);
  if (refusal) {
    services.logger.warn(`${title} refused: ${refusal.message}${code}`);
    // The token no longer counts: stop the stream's attempts too, and say so in every view.
    if (refusal.signIn) services.connection.signInNeeded('the shared deployment refused the token: it was revoked or is wrong');
    const choice = await vscode.window.showErrorMessage(`${title}: ${refusal.message}`, ...(refusal.signIn ? ['Sign In…'] : []), 'Show Log');
    if (choice === 'Sign In…') await vscode.commands.executeCommand(COMMANDS.signInToSharedDeployment.id);
    else if (choice === 'Show Log') services.output.show(true);
    return;
  }
  services.logger.error(`${title} failed: ${message}${code}`);
  if (error instanceof DaemonUnreachableError && !services.settings().shared.url) {
    const choice = await vscode.window.showErrorMessage(`${title}: ${message}`, 'Start Daemon', 'Show Log');
    if (choice === 'Start Daemon') await vscode.commands.executeCommand(COMMANDS.startDaemon.id);
    else if (choice === 'Show Log') services.output.show(true);
    return;
  }
  const choice = await vscode.window.showErrorMessage(`${title}: ${message}`, 'Show Log');
  if (choice === 'Show Log') services.output.show(true);
}
