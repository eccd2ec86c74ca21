import { readFile } from 'node:fs/promises';
import { readDaemonEndpoint } from './daemonEndpoint';
import { sharedDeploymentUrl } from './sharedDeploymentUrl';
import { SignInNeededError } from './signInNeededError';

/** Where the daemon is and how to be let in: everything a request to it needs. */
export interface DaemonLocation {
  mode: 'local' | 'shared';
  url: string;
  /** Local: the token in `daemon.json`. Shared: the engineer's own token. Never logged. */
  token: string;
  /** A private certificate authority to trust for a shared deployment's HTTPS. */
  caPem?: string;
}

/**
 * How the connection finds its daemon, asked before every attempt: undefined while no local daemon has
 * written `daemon.json`; a SignInNeededError when a shared deployment has no usable token.
 */
export type DaemonLocator = () => Promise<DaemonLocation | undefined>;

export interface DaemonLocatorOptions {
  /** `m365Status.shared.url`: empty for local mode. */
  sharedUrl: () => string;
  /** `m365Status.shared.caFile`: empty to trust only the public certificate authorities. */
  caFile: () => string;
  /** The engineer's token for a shared deployment's URL, from secret storage. */
  token: (url: string) => Promise<string | undefined>;
  /** The local daemon's data directory, where it writes `daemon.json`. */
  dataDirectory: () => string;
}

/** Local mode when no shared URL is set, shared mode otherwise: settings read at every attempt. */
export function daemonLocator(options: DaemonLocatorOptions): DaemonLocator {
  return async () => {
    const sharedUrl = options.sharedUrl().trim();
    if (sharedUrl === '') return localDaemonLocator(options.dataDirectory)();
    return sharedDaemonLocator({ url: sharedDeploymentUrl(sharedUrl), caFile: options.caFile(), token: options.token })();
  };
}

/** Today's daemon: its address and token from `daemon.json` in the data directory. */
export function localDaemonLocator(dataDirectory: () => string): DaemonLocator {
  return async () => {
    const endpoint = await readDaemonEndpoint(dataDirectory());
    return endpoint ? { mode: 'local', url: endpoint.url, token: endpoint.token } : undefined;
  };
}

/** A team's deployment: the URL the team gave, the engineer's token, and its CA when private. */
export function sharedDaemonLocator(options: { url: string; caFile: string; token: (url: string) => Promise<string | undefined> }): DaemonLocator {
  return async () => {
    const token = await options.token(options.url);
    if (!token) throw new SignInNeededError(`Not signed in to the shared deployment at ${options.url}.`);
    const caFile = options.caFile.trim();
    if (caFile === '') return { mode: 'shared', url: options.url, token };
    let caPem: string;
    try {
      caPem = await readFile(caFile, 'utf8');
    } catch (error) {
      const reason = (error as { code?: string }).code === 'ENOENT' ? 'there is no such file' : error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot read the certificate authority file set in m365Status.shared.caFile (${caFile}): ${reason}.`, { cause: error });
    }
    if (!caPem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error(`The file set in m365Status.shared.caFile (${caFile}) holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
    }
    return { mode: 'shared', url: options.url, token, caPem };
  };
}
