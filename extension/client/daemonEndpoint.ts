import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DaemonEndpointFile } from '../../protocol/daemonApi';
import { daemonContract, resolveDataDirectoryPath } from '../../protocol/daemonContract';

export const DAEMON_ENDPOINT_FILE_NAME = daemonContract.files.endpoint;

/**
 * Where the daemon keeps its data: the setting when given, else `M365_STATUS_DATA_DIR`, else the
 * daemon's own default, so that a daemon started from a terminal and the extension find each other.
 */
export function resolveDataDirectory(setting: string, env: Readonly<Record<string, string | undefined>> = process.env, home = homedir()): string {
  const chosen = setting.trim() || env[daemonContract.settings.dataDirectory.env]?.trim() || daemonContract.defaultDataDirectory;
  return resolveDataDirectoryPath(chosen, home, { resolve });
}

/**
 * Reads `daemon.json`; undefined when there is none (no daemon ever ran there) or it is torn or foreign.
 * The file can be stale (a daemon killed with -9 leaves it behind), so callers still ask `/v1/health`.
 */
export async function readDaemonEndpoint(dataDirectory: string): Promise<DaemonEndpointFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDirectory, DAEMON_ENDPOINT_FILE_NAME), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isEndpointFile(parsed) ? parsed : undefined;
}

function isEndpointFile(value: unknown): value is DaemonEndpointFile {
  if (typeof value !== 'object' || value === null) return false;
  const file = value as Record<string, unknown>;
  if (typeof file.url !== 'string' || typeof file.token !== 'string' || file.token.length === 0) return false;
  if (typeof file.port !== 'number' || typeof file.pid !== 'number') return false;
  // The token goes only to the loopback address the daemon itself wrote: never to a host from a tampered file.
  try {
    const url = new URL(file.url);
    return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost');
  } catch {
    return false;
  }
}
