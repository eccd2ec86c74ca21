import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetch } from 'undici';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The built daemon, as an operator runs it on each host of a shared deployment. */
export const BUILT_DAEMON = join(repoRoot, 'dist', 'daemon.cjs');

export interface SharedDaemonOptions {
  dataDir: string;
  /** The deployment's `postgres://` connection string. */
  store: string;
  vaultKeyFile: string;
  simUrl: string;
  /** The identity platform's own origin (the simulator's `identityUrl`); `simUrl` when not given. */
  identityUrl?: string;
  caFile: string;
  pollInterval: string;
  /** `--tenant-lease`; the daemon's default when unset. */
  tenantLease?: string;
  /** More flags, after the ones above so they win. */
  extraArgs?: readonly string[];
}

export interface SharedAnswer<T> {
  status: number;
  body: T;
}

/**
 * One daemon of a shared deployment as a real child process of `dist/daemon.cjs`: started on its own data
 * directory, asked over its API with an engineer's token, killed with SIGKILL or stopped with SIGTERM.
 * Its address comes from the line it prints once listening, not from its data directory.
 */
export class SharedDaemonProcess {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly url: string,
    private readonly stderrTail: { text: string },
  ) {}

  static async start(options: SharedDaemonOptions): Promise<SharedDaemonProcess> {
    await access(BUILT_DAEMON).catch(() => {
      throw new Error('dist/daemon.cjs is missing: run `node scripts/build.mjs daemon` (npm run test:unit builds it)');
    });
    const child = spawn(
      process.execPath,
      [
        BUILT_DAEMON,
        '--store', options.store,
        '--vault-key-file', options.vaultKeyFile,
        '--data-dir', options.dataDir,
        '--authority-host', options.identityUrl ?? options.simUrl,
        '--graph-base-url', `${options.simUrl}/v1.0`,
        '--ca-file', options.caFile,
        '--poll-interval', options.pollInterval,
        '--poll-jitter', '0',
        '--graph-timeout', '10s',
        '--log-level', 'warn',
        ...(options.tenantLease === undefined ? [] : ['--tenant-lease', options.tenantLease]),
        ...(options.extraArgs ?? []),
      ],
      { cwd: repoRoot, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } },
    );
    const tail = { text: '' };
    child.stderr.on('data', (chunk: Buffer) => {
      tail.text = (tail.text + chunk.toString('utf8')).slice(-20_000);
    });
    const url = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      const onData = (chunk: Buffer): void => {
        buffered += chunk.toString('utf8');
        const match = /listening on (\S+)/.exec(buffered);
        if (!match?.[1]) return;
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        // Keep draining stdout so a chatty daemon never blocks on a full pipe.
        child.stdout.resume();
        resolve(match[1]);
      };
      const onExit = (code: number | null): void => reject(new Error(`the daemon exited (${code}) before listening: ${tail.text}`));
      child.stdout.on('data', onData);
      child.once('exit', onExit);
    });
    return new SharedDaemonProcess(child, url, tail);
  }

  /** The tail of what it wrote to stderr, for a report when it misbehaves. */
  get stderr(): string {
    return this.stderrTail.text;
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('the daemon has no process');
    return pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A JSON request as the engineer whose token is given. */
  async api<T = unknown>(token: string, method: string, path: string, body?: unknown): Promise<SharedAnswer<T>> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** SIGKILL: no shutdown handler runs, its leases and heartbeat are left to expire. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM, as an operator stops it; SIGKILL if it has not gone within 15 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(force);
  }
}
