import { daemonContract } from '../../protocol/daemonContract';

/** The extension's settings (`m365Status.*` in package.json), read through whatever holds them. */
export interface ExtensionSettings {
  daemon: {
    autoStart: boolean;
    /** Empty: `M365_STATUS_DATA_DIR`, else the daemon's default `~/.m365-status`; read by the rule in protocol/daemonContract.ts. */
    dataDirectory: string;
    /** The loopback port a daemon started by the extension listens on; 0 lets it choose. */
    port: number;
  };
  /** Passed to a daemon the extension starts; a daemon started elsewhere keeps its own. */
  polling: {
    intervalSeconds: number;
    staleAfterPolls: number;
    inactiveAfterDays: number;
    dormantAfterDays: number;
  };
  activity: { showAutomatedTasks: boolean };
  users: { pageSize: number };
  /** A team's deployment to connect to instead of a local daemon; the token is in secret storage, not here. */
  shared: {
    /** Empty: local mode. */
    url: string;
    /** A PEM file of the private certificate authority that issued the deployment's certificate. */
    caFile: string;
  };
}

export const SETTINGS_SECTION = 'm365Status';

export const defaultSettings: ExtensionSettings = {
  daemon: { autoStart: true, dataDirectory: '', port: 0 },
  polling: { intervalSeconds: 60, staleAfterPolls: 3, inactiveAfterDays: 14, dormantAfterDays: 30 },
  activity: { showAutomatedTasks: false },
  users: { pageSize: 200 },
  shared: { url: '', caFile: '' },
};

/** Reads `section.key` as VS Code's `WorkspaceConfiguration.get` does, with the default when unset or of the wrong type. */
export type SettingReader = (key: string) => unknown;

export function readExtensionSettings(read: SettingReader): ExtensionSettings {
  const bool = (key: string, fallback: boolean): boolean => {
    const value = read(key);
    return typeof value === 'boolean' ? value : fallback;
  };
  const text = (key: string, fallback: string): string => {
    const value = read(key);
    return typeof value === 'string' ? value : fallback;
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const value = read(key);
    return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, Math.round(value))) : fallback;
  };
  const d = defaultSettings;
  const { pollIntervalSeconds } = daemonContract;
  return {
    daemon: {
      autoStart: bool('daemon.autoStart', d.daemon.autoStart),
      dataDirectory: text('daemon.dataDirectory', d.daemon.dataDirectory),
      port: int('daemon.port', d.daemon.port, 0, 65_535),
    },
    polling: {
      intervalSeconds: int('polling.intervalSeconds', d.polling.intervalSeconds, pollIntervalSeconds.min, pollIntervalSeconds.max),
      staleAfterPolls: int('polling.staleAfterPolls', d.polling.staleAfterPolls, 1, 100),
      // One day under the daemon's longest threshold, which the dormant one must still exceed.
      inactiveAfterDays: int('polling.inactiveAfterDays', d.polling.inactiveAfterDays, 1, 3649),
      dormantAfterDays: int('polling.dormantAfterDays', d.polling.dormantAfterDays, 2, 3650),
    },
    activity: { showAutomatedTasks: bool('activity.showAutomatedTasks', d.activity.showAutomatedTasks) },
    users: { pageSize: int('users.pageSize', d.users.pageSize, 20, 1000) },
    shared: {
      url: text('shared.url', d.shared.url).trim(),
      caFile: text('shared.caFile', d.shared.caFile).trim(),
    },
  };
}
