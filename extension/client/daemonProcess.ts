import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DaemonEndpointFile } from '../../protocol/daemonApi';
import { daemonContract } from '../../protocol/daemonContract';
import type { Logger } from '../common/logger';
import { silentLogger } from '../common/logger';
import type { Timers } from '../common/timers';
import { realTimers } from '../common/timers';
import { DaemonApiError } from './daemonApiError';
import { DaemonClient } from './daemonClient';
import type { DaemonLaunchPlan } from './daemonLaunchPlan';
import { DAEMON_ENDPOINT_FILE_NAME, readDaemonEndpoint } from './daemonEndpoint';

export const DAEMON_START_LOG = daemonContract.files.startLog;

export interface DaemonProcessOptions {
  logger?: Logger;
  /** How long a start may take before it is called failed. */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  pollMs?: number;
  timers?: Timers;
}

/**
 * Starts the bundled daemon and stops a running one. The daemon is a service shared by every window, so
 * it is started detached and outlives the window that started it; its early output goes to a file in its
 * data directory, which is what explains a start that fails.
 */
export class DaemonProcess {
  readonly #logger: Logger;
  readonly #startTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #pollMs: number;
  readonly #timers: Timers;

  constructor(options: DaemonProcessOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#startTimeoutMs = options.startTimeoutMs ?? 20_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
    this.#pollMs = options.pollMs ?? 100;
    this.#timers = options.timers ?? realTimers;
  }

  /** Starts it and waits until it answers `/v1/health` at the address it wrote to `daemon.json`. */
  async start(plan: DaemonLaunchPlan, dataDirectory: string): Promise<DaemonEndpointFile> {
    mkdirSync(dataDirectory, { recursive: true, mode: 0o700 });
    const logPath = join(dataDirectory, DAEMON_START_LOG);
    const output = openSync(logPath, 'w', 0o600);
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let pid: number | undefined;
    try {
      const child = spawn(plan.command, plan.args, {
        env: plan.env,
        detached: true,
        windowsHide: true,
        stdio: ['ignore', output, output],
      });
      pid = child.pid;
      child.once('exit', (code, signal) => {
        exit = { code, signal };
      });
      child.once('error', (error) => {
        exit = { code: null, signal: null };
        this.#logger.error(`daemon: could not start ${plan.command}: ${error.message}`);
      });
      child.unref();
    } finally {
      closeSync(output);
    }
    this.#logger.info(`daemon: started ${plan.args[0] ?? plan.command} (pid ${pid ?? 'unknown'}) with data directory ${dataDirectory}`);

    const deadline = this.#timers.now() + this.#startTimeoutMs;
    while (this.#timers.now() < deadline) {
      if (exit) {
        const why = exit.signal ? `was stopped by ${exit.signal}` : `exited with code ${exit.code ?? 'unknown'}`;
        throw new Error(`The daemon ${why} while starting. ${await lastLines(logPath)}`.trim());
      }
      const endpoint = await readDaemonEndpoint(dataDirectory);
      if (endpoint && endpoint.pid === pid && (await answersHealth(endpoint))) return endpoint;
      await this.#sleep(this.#pollMs);
    }
    throw new Error(`The daemon did not answer within ${Math.round(this.#startTimeoutMs / 1000)} s of starting. ${await lastLines(logPath)}`.trim());
  }

  /**
   * Asks the daemon in `daemon.json` to stop (SIGTERM: it finishes or records in-flight work) and waits.
   * The file outlives a daemon killed with -9 or a reboot, and its pid may then be another program's: the
   * signal goes only to a daemon that still answers with the file's token, which proves the pid its own.
   */
  async stop(dataDirectory: string): Promise<boolean> {
    const endpoint = await readDaemonEndpoint(dataDirectory);
    if (!endpoint || !isAlive(endpoint.pid)) return false;
    if (!(await answersWithToken(endpoint))) {
      this.#logger.warn(
        `daemon: ${DAEMON_ENDPOINT_FILE_NAME} names pid ${endpoint.pid}, but no daemon answers at ${endpoint.url} with its token: ` +
          'the file is left from a daemon that is gone, so nothing was stopped',
      );
      return false;
    }
    this.#logger.info(`daemon: stopping pid ${endpoint.pid}`);
    process.kill(endpoint.pid, 'SIGTERM');
    const deadline = this.#timers.now() + this.#stopTimeoutMs;
    while (this.#timers.now() < deadline) {
      if (!isAlive(endpoint.pid)) return true;
      await this.#sleep(this.#pollMs);
    }
    throw new Error(`The daemon (pid ${endpoint.pid}) did not stop within ${Math.round(this.#stopTimeoutMs / 1000)} s.`);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void this.#timers.setTimeout(resolve, ms));
  }
}

export async function answersHealth(endpoint: Pick<DaemonEndpointFile, 'url' | 'token'>): Promise<boolean> {
  const client = new DaemonClient({ endpoint: () => endpoint, timeoutMs: 2000 });
  try {
    return (await client.health()).ok === true;
  } catch {
    return false;
  } finally {
    client.dispose();
  }
}

/**
 * Whether the daemon that wrote this `daemon.json` answers: its token is made afresh at every start, so
 * only that daemon accepts it (another one on the same port, or no daemon at all, does not).
 */
export async function answersWithToken(endpoint: Pick<DaemonEndpointFile, 'url' | 'token'>): Promise<boolean> {
  const client = new DaemonClient({ endpoint: () => ({ mode: 'local', ...endpoint }), timeoutMs: 2000 });
  try {
    await client.session();
    return true;
  } catch (error) {
    // A daemon from before sessions answers 404 only after accepting the token.
    return error instanceof DaemonApiError && error.status === 404;
  } finally {
    client.dispose();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lastLines(path: string): Promise<string> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (!text) return '';
    return `Its output ends with: ${text.split('\n').slice(-5).join(' | ').slice(-800)}`;
  } catch {
    return '';
  }
}
