import { daemonContract } from '../../protocol/daemonContract';
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
 * thresholds in the environment variables the daemon's config reads (protocol/daemonContract.ts), in the
 * units it accepts (`60s`, `14d`).
 */
export function daemonLaunchPlan(inputs: DaemonLaunchInputs): DaemonLaunchPlan {
  const { settings } = inputs;
  const names = daemonContract.settings;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(inputs.baseEnv)) if (value !== undefined) env[key] = value;
  env.ELECTRON_RUN_AS_NODE = '1';
  // The data directory is given by flag; an inherited variable must not contradict it.
  delete env[names.dataDirectory.env];
  delete env[names.port.env];
  env[names.pollInterval.env] = `${settings.polling.intervalSeconds}s`;
  env[names.staleAfterPolls.env] = String(settings.polling.staleAfterPolls);
  env[names.inactiveAfter.env] = `${settings.polling.inactiveAfterDays}d`;
  // The daemon refuses a dormant threshold that is not longer than the inactive one.
  env[names.dormantAfter.env] = `${Math.max(settings.polling.dormantAfterDays, settings.polling.inactiveAfterDays + 1)}d`;
  return {
    command: inputs.execPath,
    args: [inputs.daemonScript, names.dataDirectory.flag, inputs.dataDirectory, names.port.flag, String(settings.daemon.port)],
    env,
  };
}
