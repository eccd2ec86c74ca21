import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Agent, fetch } from 'undici';
import type { EngineerRole } from '../../../protocol/daemonApi';
import { repoRoot } from '../../../scripts/local/codeServer.mjs';
import type { SimState } from '../../../scripts/local/localProduct.mjs';
import { stopProcess } from '../../../scripts/local/localProduct.mjs';
import { POSTGRES_BIN, startPostgres, type PostgresServer } from '../../support/postgresServer';
import { buildOnce, screenshotRoot } from './e2eProduct';

const run = promisify(execFile);

/** One daemon process of the deployment: its own port and data directory, the shared database. */
export interface SharedDaemon {
  /** `a`, `b`…: which of the deployment's daemons, for the logs. */
  name: string;
  /** `http://127.0.0.1:PORT`: what an engineer's `m365Status.shared.url` names. */
  url: string;
  dataDir: string;
  child: ChildProcess;
}

export interface SharedDeploymentOptions {
  /** Names the data directory and the log file (`test-output/e2e/<suite>/deployment.log`). */
  suite: string;
  /** The loopback port of each daemon, chosen beforehand so that VS Code's settings can name them. */
  ports: readonly number[];
  /** Engineers added with `m365-status users add`, before any daemon starts. */
  engineers: ReadonlyArray<{ name: string; role: EngineerRole }>;
  pollInterval?: string;
}

export interface SharedDeployment {
  sim: SimState;
  daemons: readonly SharedDaemon[];
  /** Each engineer's token, as `users add` printed it. */
  tokens: Readonly<Record<string, string>>;
  /** Calls a daemon's API as an engineer. */
  api<T = unknown>(daemon: SharedDaemon, engineer: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Calls the simulator's control API (trusting its CA, as the daemons do). */
  simControl<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Every line the simulator, the daemons and the commands printed, prefixed with the time and source. */
  logs: readonly string[];
  note(line: string): void;
  /** Stops the daemons, the simulator and PostgreSQL; safe to call twice and after a failed start. */
  stop(): Promise<void>;
}

/**
 * A shared deployment as an admin sets one up, for real: a PostgreSQL server of its own, the vault key
 * made by `m365-status vault new-key`, engineers added by `m365-status users add`, the simulator with its
 * demo tenants, and the bundled daemon (`dist/daemon.cjs`, built beforehand) started once per port with
 * `--store`, `--vault-key-file` and `--listen`, each with its own data directory.
 */
export async function startSharedDeployment(options: SharedDeploymentOptions): Promise<SharedDeployment> {
  if (!process.env.M365_E2E_SKIP_BUILD) await buildOnce();
  if (!existsSync(join(POSTGRES_BIN, 'initdb'))) throw new Error(`PostgreSQL is missing (no initdb in ${POSTGRES_BIN}): run bash scripts/install-postgres.sh first`);
  const dataRoot = join(repoRoot, 'test-output', 'e2e-data');
  const base = join(dataRoot, `${options.suite}-${process.pid}`);
  const logDir = join(screenshotRoot, options.suite);
  // What an interrupted earlier run left behind (its process is gone) goes now.
  for (const entry of await readdir(dataRoot).catch(() => [] as string[])) {
    const pid = Number(/-(\d+)$/.exec(entry)?.[1]);
    if (entry.startsWith(`${options.suite}-`) && Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) {
      await rm(join(dataRoot, entry), { recursive: true, force: true });
    }
  }
  await rm(base, { recursive: true, force: true });
  await mkdir(base, { recursive: true, mode: 0o700 });
  await mkdir(logDir, { recursive: true });

  const logs: string[] = [];
  const onLine = (name: string, line: string): void => {
    logs.push(`[${new Date().toISOString().slice(11, 23)} ${name}] ${line}`);
  };
  const processes: ChildProcess[] = [];
  let postgres: PostgresServer | undefined;
  let ca: Agent | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Each step on its own: one that fails must not leave the others running. Daemons first, so that
    // none is left talking to a database that went away.
    for (const child of [...processes].reverse()) await stopProcess(child).catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    await ca?.close().catch(() => undefined);
    await writeFile(join(logDir, 'deployment.log'), `${logs.join('\n')}\n`).catch(() => undefined);
    if (!process.env.M365_E2E_KEEP_DATA) await rm(base, { recursive: true, force: true }).catch(() => undefined);
  };

  const start = (name: string, args: readonly string[]): ChildProcess => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    processes.push(child);
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.trim()) onLine(name, line);
      });
    }
    return child;
  };

  /** `node dist/daemon.cjs <command…>` to its end; answers what it printed. */
  const command = async (args: readonly string[]): Promise<string> => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['dist/daemon.cjs', ...args], { cwd: repoRoot, timeout: 30_000 });
      if (stderr.trim()) onLine(`m365-status ${args[0] ?? ''}`, stderr.trim());
      return stdout;
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`m365-status ${args.slice(0, 2).join(' ')} failed: ${(stderr || stdout || (error as Error).message).trim()}`, { cause: error });
    }
  };

  try {
    postgres = await startPostgres();
    const store = await postgres.createDatabase('m365_e2e');
    onLine('test', `PostgreSQL on port ${postgres.port}`);

    const vaultKeyFile = join(base, 'vault.key');
    await command(['vault', 'new-key', '--out', vaultKeyFile]);
    const tokens: Record<string, string> = {};
    for (const engineer of options.engineers) {
      const printed = await command(['users', 'add', '--role', engineer.role, engineer.name, '--store', store]);
      const token = /^m365s_\S+$/m.exec(printed)?.[0];
      if (!token) throw new Error(`users add ${engineer.name} printed no token`);
      tokens[engineer.name] = token;
      onLine('test', `added ${engineer.name} (${engineer.role})`);
    }

    const simDir = join(base, 'sim');
    await mkdir(simDir, { recursive: true, mode: 0o700 });
    const simProcess = start('sim', ['dist/sim.js', '--demo', '--port', '0', '--state-dir', simDir]);
    const sim = await until('the simulator', simProcess, async () => JSON.parse(await readFile(join(simDir, 'sim.json'), 'utf8')) as SimState);
    ca = new Agent({ connect: { ca: await readFile(sim.caPath, 'utf8') } });

    const daemons = await Promise.all(
      options.ports.map(async (port, index) => {
        const name = String.fromCharCode('a'.charCodeAt(0) + index);
        const dataDir = join(base, `daemon-${name}`);
        const child = start(`daemon ${name}`, [
          'dist/daemon.cjs',
          '--store', store,
          '--vault-key-file', vaultKeyFile,
          '--listen', `127.0.0.1:${port}`,
          '--data-dir', dataDir,
          '--authority-host', sim.url,
          '--graph-base-url', `${sim.url}/v1.0`,
          '--ca-file', sim.caPath,
          '--poll-interval', options.pollInterval ?? '60s',
        ]);
        const url = `http://127.0.0.1:${port}`;
        await until(`daemon ${name}`, child, async () => {
          const response = await fetch(`${url}/v1/health`);
          if (!response.ok) throw new Error(`health answered ${response.status}`);
          return response.json();
        });
        return { name, url, dataDir, child };
      }),
    );

    const call = async <T>(url: string, init: { method: string; headers: Record<string, string>; dispatcher?: Agent }, body: unknown) => {
      const response = await fetch(url, {
        method: init.method,
        ...(init.dispatcher ? { dispatcher: init.dispatcher } : {}),
        headers: { ...init.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    };
    const agent = ca;
    return {
      sim,
      daemons,
      tokens,
      logs,
      note: (line) => onLine('test', line),
      api<T>(daemon: SharedDaemon, engineer: string, method: string, path: string, body?: unknown) {
        const token = tokens[engineer];
        if (!token) throw new Error(`no engineer ${engineer} in this deployment`);
        return call<T>(`${daemon.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } }, body);
      },
      simControl<T>(method: string, path: string, body?: unknown) {
        return call<T>(`${sim.url}/_sim${path}`, { method, headers: {}, dispatcher: agent }, body);
      },
      stop,
    };
  } catch (error) {
    await stop();
    process.stderr.write(`${logs.slice(-40).join('\n')}\n`);
    throw error;
  }
}

/** Reads `read()` until it answers, for up to 30 s, unless `child` exits first. */
async function until<T>(what: string, child: ChildProcess, read: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    try {
      return await read();
    } catch (error) {
      last = error;
      await sleep(100);
    }
  }
  throw new Error(`${what} was not ready within 30 s: ${last instanceof Error ? last.message : String(last)}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// A daemon or simulator must not outlive the run when mocha exits without `stop()` (an interrupted run).
const started = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  started.add(child);
  child.once('exit', () => started.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const running of started) running.kill('SIGKILL');
  });
}
