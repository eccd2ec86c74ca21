import type { DaemonEndpointFile } from '../../protocol/daemonApi';
import type { ExtensionSettings } from '../common/extensionSettings';
import type { Logger } from '../common/logger';
import { silentLogger } from '../common/logger';
import type { DaemonConnection } from './daemonConnection';
import { readDaemonEndpoint, resolveDataDirectory } from './daemonEndpoint';
import { daemonLaunchPlan } from './daemonLaunchPlan';
import type { DaemonProcess } from './daemonProcess';
import { answersWithToken } from './daemonProcess';

export interface DaemonControllerOptions {
  settings: () => ExtensionSettings;
  process: DaemonProcess;
  /** dist/daemon.cjs inside the installed extension. */
  daemonScript: string;
  execPath?: string;
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
}

/** Start, stop and restart as the operator asks for them, with the settings of the moment. */
export class DaemonController {
  readonly #options: DaemonControllerOptions;
  readonly #logger: Logger;
  #connection: DaemonConnection | undefined;

  constructor(options: DaemonControllerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  attach(connection: DaemonConnection): void {
    this.#connection = connection;
  }

  dataDirectory(): string {
    return resolveDataDirectory(this.#options.settings().daemon.dataDirectory, this.#options.env ?? process.env);
  }

  /** Whether the daemon that wrote `daemon.json` still answers there, and its pid. */
  async running(): Promise<{ pid: number; url: string } | undefined> {
    if (this.#sharedUrl()) return undefined;
    const endpoint = await readDaemonEndpoint(this.dataDirectory());
    return endpoint && (await answersWithToken(endpoint)) ? { pid: endpoint.pid, url: endpoint.url } : undefined;
  }

  /** Spawns the bundled daemon and waits until it answers; the connection follows it from then on. */
  launch = async (): Promise<DaemonEndpointFile> => {
    this.#refuseInSharedMode('start');
    const dataDirectory = this.dataDirectory();
    const plan = daemonLaunchPlan({
      settings: this.#options.settings(),
      dataDirectory,
      execPath: this.#options.execPath ?? process.execPath,
      daemonScript: this.#options.daemonScript,
      baseEnv: this.#options.env ?? process.env,
    });
    this.#logger.info(`daemon: starting ${plan.command} ${plan.args.join(' ')}`);
    return this.#options.process.start(plan, dataDirectory);
  };

  async start(): Promise<'started' | 'already-running'> {
    this.#refuseInSharedMode('start');
    if (await this.running()) {
      this.#connection?.retryNow();
      return 'already-running';
    }
    await this.#requireConnection().startDaemon(this.launch);
    return 'started';
  }

  async stop(): Promise<'stopped' | 'not-running'> {
    this.#refuseInSharedMode('stop');
    const stopped = await this.#options.process.stop(this.dataDirectory());
    this.#requireConnection().restartWatching('the daemon was stopped');
    return stopped ? 'stopped' : 'not-running';
  }

  async restart(): Promise<void> {
    this.#refuseInSharedMode('restart');
    await this.#options.process.stop(this.dataDirectory());
    await this.#requireConnection().startDaemon(this.launch);
  }

  #sharedUrl(): string {
    return this.#options.settings().shared.url;
  }

  /** A shared deployment's daemons run on the team's servers: this window neither starts nor stops them. */
  #refuseInSharedMode(action: 'start' | 'stop' | 'restart'): void {
    const url = this.#sharedUrl();
    if (!url) return;
    throw new Error(
      `This window uses the shared deployment at ${url}, whose daemons are run by your team: the extension does not ${action} them. ` +
        'Sign out of the shared deployment to use a daemon on this machine.',
    );
  }

  #requireConnection(): DaemonConnection {
    if (!this.#connection) throw new Error('The daemon controller is not attached to a connection.');
    return this.#connection;
  }
}
