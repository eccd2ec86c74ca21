import type { ExtensionSettings } from '../common/extensionSettings';

export interface DaemonLaunchPlan {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface DaemonLaunchInputs {
  settings: ExtensionSettings;
  dataDirectory: string;
  /** The extension host's own Node (Electron's in desktop VS Code, hence ELECTRON_RUN_AS_NODE). */
  execPath: string;
  daemonScript: string;
  baseEnv: Readonly<Record<string, string | undefined>>;
}

/**
 * How the bundled daemon is started: data directory and port on the command line, the poll interval and
 * thresholds in the environment variables the daemon's config reads (daemon/config.ts), in the units it
 * accepts (`60s`, `14d`).
 */
export function daemonLaunchPlan(inputs: DaemonLaunchInputs): DaemonLaunchPlan {
  const { settings } = inputs;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(inputs.baseEnv)) if (value !== undefined) env[key] = value;
  env.ELECTRON_RUN_AS_NODE = '1';
  // The data directory is given by flag; an inherited variable must not contradict it.
  delete env.M365_STATUS_DATA_DIR;
  delete env.M365_STATUS_PORT;
  env.M365_STATUS_POLL_INTERVAL = `${settings.polling.intervalSeconds}s`;
  env.M365_STATUS_STALE_AFTER_POLLS = String(settings.polling.staleAfterPolls);
  env.M365_STATUS_INACTIVE_AFTER = `${settings.polling.inactiveAfterDays}d`;
  // The daemon refuses a dormant threshold that is not longer than the inactive one.
  env.M365_STATUS_DORMANT_AFTER = `${Math.max(settings.polling.dormantAfterDays, settings.polling.inactiveAfterDays + 1)}d`;
  return {
    command: inputs.execPath,
    args: [inputs.daemonScript, '--data-dir', inputs.dataDirectory, '--port', String(settings.daemon.port)],
    env,
  };
}
