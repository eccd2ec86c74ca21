import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DaemonEndpointFile } from '../../protocol/daemonApi';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface DaemonAnswer<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: T;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Leave out the bearer token. */
  anonymous?: boolean;
}

export interface DaemonProcessOptions {
  dataDir: string;
  simUrl: string;
  /** The identity platform's own origin (the simulator's `identityUrl`); `simUrl` when not given. */
  identityUrl?: string;
  caFile: string;
  pollInterval?: string;
  /** More daemon flags, after the defaults above so they win (`--checkpoint-interval 25s`). */
  extraArgs?: readonly string[];
  /** Node's own flags for the daemon process (`--cpu-prof`), before the script. */
  nodeArgs?: readonly string[];
  /**
   * Keep connections open between requests, as the extension's client does; off by default, so that each
   * hostile request of the soak goes out on a connection of its own.
   */
  keepAlive?: boolean;
}

/**
 * The built daemon (`dist/daemon.cjs`) as a real child process on a data directory, as an operator runs
 * it: started, spoken to over its API on loopback, killed with SIGKILL, started again on the same files.
 */
export class DaemonProcess {
  private child: ChildProcessWithoutNullStreams | undefined;
  private endpoint: DaemonEndpointFile | undefined;
  /** What the daemon wrote to stderr, for a report when it misbehaves. */
  stderr = '';

  private readonly agent: HttpAgent | false;

  constructor(private readonly options: DaemonProcessOptions) {
    this.agent = options.keepAlive ? new HttpAgent({ keepAlive: true }) : false;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The bearer token from daemon.json. */
  token(): string {
    if (!this.endpoint) throw new Error('the daemon is not running');
    return this.endpoint.token;
  }

  get url(): string {
    if (!this.endpoint) throw new Error('the daemon is not running');
    return this.endpoint.url;
  }

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        ...(this.options.nodeArgs ?? []),
        join(repoRoot, 'dist', 'daemon.cjs'),
        '--data-dir', this.options.dataDir,
        '--authority-host', this.options.identityUrl ?? this.options.simUrl,
        '--graph-base-url', `${this.options.simUrl}/v1.0`,
        '--ca-file', this.options.caFile,
        '--poll-interval', this.options.pollInterval ?? '5s',
        '--poll-jitter', '0',
        '--graph-timeout', '5s',
        // Every refresh goes to Graph, so the chaos phase makes traffic for the faults to hit.
        '--refresh-dedup-window', '0s',
        '--log-level', 'warn',
        ...(this.options.extraArgs ?? []),
      ],
      { cwd: repoRoot, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } },
    );
    this.child = child;
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-20_000);
    });
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        if (/listening on/.test(buffered)) {
          child.stdout.off('data', onData);
          child.off('exit', onExit);
          // Keep draining stdout so a chatty daemon never blocks on a full pipe.
          child.stdout.resume();
          resolve();
        }
      };
      const onExit = (code: number | null) => reject(new Error(`the daemon exited (${code}) before listening: ${this.stderr}`));
      child.stdout.on('data', onData);
      child.once('exit', onExit);
    });
    this.endpoint = JSON.parse(await readFile(join(this.options.dataDir, 'daemon.json'), 'utf8')) as DaemonEndpointFile;
  }

  /** SIGKILL: no shutdown handler runs, whatever was in flight is cut. */
  async kill9(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.#dropConnections();
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.#dropConnections();
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(force);
  }

  /** Connections kept open belong to the process that ends: the next one is spoken to afresh. */
  #dropConnections(): void {
    if (this.agent) this.agent.destroy();
  }

  /** Resident memory of the daemon process now, from /proc (Linux); undefined elsewhere. */
  async rssBytes(): Promise<number | undefined> {
    if (!this.child?.pid) return undefined;
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8').catch(() => '');
    const kb = status.match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  }

  /** A JSON call with the bearer token. */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<DaemonAnswer<T>> {
    return this.raw<T>({
      method,
      path,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  }

  /** Any request at all, over node:http, so hostile shapes (a body on a GET) go out as written. */
  raw<T = unknown>(spec: RawRequest, timeoutMs = 15_000): Promise<DaemonAnswer<T>> {
    const endpoint = this.endpoint;
    if (!endpoint) return Promise.reject(new Error('the daemon is not running'));
    const url = new URL(endpoint.url);
    const body = spec.body === undefined ? undefined : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body, 'utf8');
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: spec.method,
          path: spec.path,
          agent: this.agent,
          headers: {
            ...(spec.anonymous ? {} : { authorization: `Bearer ${endpoint.token}` }),
            ...(body === undefined ? {} : { 'content-length': String(body.length) }),
            ...spec.headers,
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed as T });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${spec.method} ${spec.path.slice(0, 80)} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
