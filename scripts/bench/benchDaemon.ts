import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonEvent, TenantView, UserPage } from '../../protocol/daemonApi';
import { DaemonProcess } from '../soak/daemonProcess';
import type { BenchSimTenant } from './benchSim';
import { procStats, type ProcStats } from './procStats';

export interface BenchDaemonOptions {
  dataDir: string;
  simUrl: string;
  /** The simulator's identity platform, on a port of its own as Microsoft's is on a host of its own. */
  identityUrl: string;
  caFile: string;
  pollInterval: string;
  checkpointInterval?: string;
}

/** Set by `npm run bench -- --cpu-prof-dir DIR`: every daemon the bench starts writes its CPU profile there. */
export const benchProfiling: { cpuProfileDir: string | null } = { cpuProfileDir: null };

/** When the daemon's event stream showed a user with a given accountEnabled. */
export interface SeenUser {
  at: number;
  accountEnabled: boolean;
}

/**
 * The built daemon as a child process, measured from outside: its API, its event stream and /proc.
 * Nothing here reads the store's files or code, so it measures whatever the store does.
 */
export class BenchDaemon {
  readonly process: DaemonProcess;
  /** Every `users` event, by `<tenantId>/<userId>`. */
  readonly seen = new Map<string, SeenUser[]>();
  private stream: ClientRequest | undefined;

  constructor(readonly options: BenchDaemonOptions) {
    this.process = new DaemonProcess({
      dataDir: options.dataDir,
      simUrl: options.simUrl,
      identityUrl: options.identityUrl,
      caFile: options.caFile,
      pollInterval: options.pollInterval,
      extraArgs: ['--checkpoint-interval', options.checkpointInterval ?? '5m', '--max-concurrent-syncs', '8'],
      nodeArgs: benchProfiling.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', benchProfiling.cpuProfileDir] : [],
      // As the extension asks: its client keeps its connections to the daemon open.
      keepAlive: true,
    });
  }

  get pid(): number {
    const pid = this.process.pid;
    if (pid === undefined) throw new Error('the daemon is not running');
    return pid;
  }

  async start(): Promise<void> {
    await this.process.start();
  }

  /**
   * What the extension does when it finds the daemon, before anything is asked of it: checks that it answers,
   * then reads the tenants and the activity. A timed request that came first would also time this client's
   * and the daemon's first HTTP exchange, which no operator's registration or lock ever is.
   */
  async connect(): Promise<void> {
    await this.api('GET', '/v1/health');
    await this.tenants();
    await this.api('GET', '/v1/tasks');
  }

  async stop(): Promise<void> {
    this.stream?.destroy();
    this.stream = undefined;
    await this.process.stop();
  }

  stats(): Promise<ProcStats> {
    return procStats(this.pid);
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.timedApi<T>(method, path, body)).body;
  }

  /** `api`, with the daemon's own time for the request as its answer's `Server-Timing` says. */
  async timedApi<T>(method: string, path: string, body?: unknown): Promise<{ body: T; daemonMs: number }> {
    const answer = await this.process.api<T>(method, path, body);
    if (answer.status >= 300) throw new Error(`daemon ${method} ${path} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    const timing = /daemon;dur=([\d.]+)/.exec(String(answer.headers['server-timing'] ?? ''));
    if (!timing) throw new Error(`daemon ${method} ${path} answered without Server-Timing`);
    return { body: answer.body, daemonMs: Number(timing[1]) };
  }

  /** Registers a tenant and answers its daemon id. */
  async register(tenant: BenchSimTenant): Promise<string> {
    return (await this.timedRegister(tenant)).id;
  }

  /** `register`, with the daemon's own time for it. */
  async timedRegister(tenant: BenchSimTenant): Promise<{ id: string; daemonMs: number }> {
    const { body, daemonMs } = await this.timedApi<TenantView>('POST', '/v1/tenants', {
      tenant: tenant.simId,
      appId: tenant.appId,
      credential: { kind: 'secret', clientSecret: tenant.secret },
    });
    return { id: body.id, daemonMs };
  }

  async tenants(): Promise<TenantView[]> {
    return (await this.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).tenants;
  }

  /** Waits until every tenant has had a successful sync after `since` (0: any) holding `users` users each. */
  async untilSynced(expected: Map<string, number>, since = 0, timeoutMs = 30 * 60_000): Promise<void> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const views = await this.tenants();
      const done = views.filter((t) => expected.has(t.id) && t.asOf !== null && t.asOf > since && t.counts.total === expected.get(t.id));
      if (done.length === expected.size) return;
      await sleep(200);
    }
    throw new Error(`the daemon did not sync ${expected.size} tenants within ${timeoutMs / 1000} s`);
  }

  /**
   * When every tenant has had a successful sync after `since` holding `users` users each, as the event
   * stream tells it: the moment the last one's `tenant` event arrives. Polling the tenant list every
   * 200 ms added up to 200 ms to a restart's time, and polling it faster would take the daemon's time.
   */
  async whenSynced(expected: Map<string, number>, since: number, timeoutMs = 5 * 60_000): Promise<number> {
    const pending = new Set(expected.keys());
    const synced = (t: TenantView): boolean => t.asOf !== null && t.asOf > since && t.counts.total === expected.get(t.id);
    const url = new URL(this.process.url);
    let settle: (at: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => {
      settle = resolve;
    });
    const seen = (views: TenantView[], at: number): void => {
      for (const view of views) if (synced(view)) pending.delete(view.id);
      if (pending.size === 0) settle(at);
    };
    const req = httpRequest({ host: url.hostname, port: url.port, path: '/v1/events', headers: { authorization: `Bearer ${this.process.token()}` } });
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        req.on('response', resolve);
        req.on('error', reject);
        req.end();
      });
      onDaemonEvents(res, (event, at) => {
        if (event.type === 'tenant') seen([event.tenant], at);
      });
      // Rounds that ended before the stream was open: the list shows them.
      const listed = await this.tenants();
      seen(listed, Date.now());
      const timeout = setTimeout(() => settle(Number.NaN), timeoutMs);
      const at = await done;
      clearTimeout(timeout);
      if (Number.isNaN(at)) throw new Error(`the daemon did not sync ${pending.size} of ${expected.size} tenants within ${timeoutMs / 1000} s`);
      return at;
    } finally {
      req.destroy();
    }
  }

  async users(tenantId: string, query: string): Promise<UserPage> {
    return this.api<UserPage>('GET', `/v1/tenants/${tenantId}/users?${query}`);
  }

  /** Follows `GET /v1/events`, recording every user a `users` event carries, with when it arrived. */
  async follow(): Promise<void> {
    const url = new URL(this.process.url);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: '/v1/events', headers: { authorization: `Bearer ${this.process.token()}` } },
        (res) => {
          onDaemonEvents(res, (event, at) => this.record(event, at));
          resolve();
        },
      );
      req.on('error', reject);
      req.end();
      this.stream = req;
    });
  }

  private record(event: DaemonEvent, at: number): void {
    if (event.type !== 'users') return;
    for (const user of event.users) {
      const key = `${event.tenantId}/${user.id}`;
      const list = this.seen.get(key) ?? [];
      list.push({ at, accountEnabled: user.accountEnabled });
      this.seen.set(key, list);
    }
  }

  /** When the event stream first showed the user with that accountEnabled at or after `from`. */
  detectedAt(tenantId: string, userId: string, accountEnabled: boolean, from: number): number | undefined {
    return this.seen.get(`${tenantId}/${userId}`)?.find((s) => s.at >= from && s.accountEnabled === accountEnabled)?.at;
  }
}

/**
 * Hands each data event of a `GET /v1/events` answer to `onEvent` with the time its frame arrived; named
 * events (`hello`, `reload`, `overflow`) are the stream's own and are left out.
 */
function onDaemonEvents(res: IncomingMessage, onEvent: (event: DaemonEvent, at: number) => void): void {
  res.setEncoding('utf8');
  let buffered = '';
  res.on('data', (chunk: string) => {
    const at = Date.now();
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const frame = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (frame.startsWith('event:')) continue;
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) onEvent(JSON.parse(data) as DaemonEvent, at);
    }
  });
  res.on('error', () => undefined);
}
