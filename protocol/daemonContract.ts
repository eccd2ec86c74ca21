import type { PlatformPath } from 'node:path';

/**
 * What a client and the daemon it finds or starts must agree on outside the HTTP API: the files in the
 * data directory, where that directory is and how a path to it is read, and the settings a client passes
 * to a daemon it starts. The shape of `daemon.json` is `DaemonEndpointFile` in `daemonApi.ts`.
 *
 * Plain data and pure helpers only: the extension bundle and the daemon both import it.
 */
export const daemonContract = {
  files: {
    /**
     * Written by the daemon (0600): its url, port, pid, bearer token and version. How clients find a
     * local daemon. A shared deployment's daemon writes it without a token (`SharedDaemonEndpointFile`).
     */
    endpoint: 'daemon.json',
    /** The daemon's structured log. */
    log: 'daemon.log',
    /** The early output of a daemon the extension started, written by the extension: why a start failed. */
    startLog: 'daemon-start.log',
  },

  defaultDataDirectory: '~/.m365-status',

  /**
   * The settings a client passes to a daemon it starts, by flag or environment variable. The daemon's
   * settings table (daemon/config.ts) takes these names from here.
   */
  settings: {
    dataDirectory: { flag: '--data-dir', env: 'M365_STATUS_DATA_DIR' },
    port: { flag: '--port', env: 'M365_STATUS_PORT' },
    pollInterval: { flag: '--poll-interval', env: 'M365_STATUS_POLL_INTERVAL' },
    staleAfterPolls: { flag: '--stale-after-polls', env: 'M365_STATUS_STALE_AFTER_POLLS' },
    inactiveAfter: { flag: '--inactive-after', env: 'M365_STATUS_INACTIVE_AFTER' },
    dormantAfter: { flag: '--dormant-after', env: 'M365_STATUS_DORMANT_AFTER' },
  },

  /** How often a tenant may be polled, in seconds: the daemon's settings, the API and the extension's setting. */
  pollIntervalSeconds: { min: 5, max: 86_400 },
} as const;

/** How a data directory path is read, in words, for `--help` and the extension's setting description. */
export const dataDirectoryRule = '~ is your home directory, and a relative path is taken from your home directory, not from the working directory';

/**
 * The one rule for a data directory path, applied by the daemon and by the extension alike: trimmed, a
 * leading `~` is the home directory, and a relative path is resolved against the home directory. Not the
 * working directory: a daemon started from a terminal and the extension (whose working directory is
 * wherever VS Code was started) must arrive at the same directory from the same `M365_STATUS_DATA_DIR`.
 * `path` is the platform's `node:path`, passed in so that this module stays free of Node imports.
 */
export function resolveDataDirectoryPath(value: string, home: string, path: Pick<PlatformPath, 'resolve'>): string {
  const trimmed = value.trim();
  const fromHome = trimmed === '~' ? '' : /^~[\\/]/.test(trimmed) ? trimmed.slice(2) : trimmed;
  return path.resolve(home, fromHome);
}
