import type * as vscode from 'vscode';
import type { Logger } from '../common/logger';

/** The extension's Logger, writing to its "M365 Status" log output channel. */
export function outputLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  };
}
