import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetch, type Response } from 'undici';
import type { ApiError } from '../../protocol/daemonApi';
import type { Clock } from '../../daemon/clock';
import type { ManualClock } from './manualClock';
import { loadConfig, type ConfigOverrides } from '../../daemon/config';
import { Daemon, type DaemonOptions } from '../../daemon/daemon';
import { createLogger } from '../../daemon/logging/logger';
import type { SimServerOptions } from '../../sim/simServer';
import { SimHarness, type CreatedTenant } from './simHarness';
import { tempDataDir } from './tempDataDir';

export type SimTenant = CreatedTenant & { app: { appId: string; secret: string } };

/** Daemon options that are not settings, such as the event stream's bounds or engineer authentication and where to listen. */
export type ExtraDaemonOptions = Pick<DaemonOptions, 'eventStreamLimits' | 'authentication' | 'listen' | 'eventStreamHeartbeatMs'>;

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/**
 * A simulator and a real daemon in this process, talking over real sockets: the daemon trusts the
 * simulator's CA by configuration, stores on real files in a temporary data directory, and serves its
 * API on a free loopback port.
 */
export class DaemonHarness {
  private constructor(
    /** Every line the daemon logged, as it logged it. */
    readonly logLines: string[],
    readonly sim: SimHarness,
    readonly dataDir: string,
    readonly caFile: string,
    private readonly cleanupDir: () => Promise<void>,
    public daemon: Daemon,
    private readonly settings: ConfigOverrides,
    private readonly clock: Clock | undefined,
    private readonly extra: ExtraDaemonOptions,
  ) {}

  static async start(settings: ConfigOverrides = {}, clock?: Clock, extra: ExtraDaemonOptions = {}, simOptions: Omit<SimServerOptions, 'port'> = {}): Promise<DaemonHarness> {
    const sim = await SimHarness.start(simOptions);
    const { dir, cleanup } = await tempDataDir('m365-daemon');
    const caFile = join(dir, 'sim-ca.pem');
    await writeFile(caFile, sim.sim.caPem);
    const lines: string[] = [];
    const daemon = await DaemonHarness.startDaemon(sim, dir, caFile, settings, clock, lines, extra);
    return new DaemonHarness(lines, sim, dir, caFile, cleanup, daemon, settings, clock, extra);
  }

  static configFor(sim: SimHarness, dataDir: string, caFile: string, settings: ConfigOverrides) {
    return loadConfig({
      env: {},
      overrides: {
        dataDir,
        authorityHost: sim.sim.url,
        graphBaseUrl: `${sim.sim.url}/v1.0`,
        caFile,
        pollJitterRatio: 0,
        graphTimeoutMs: '10s',
        ...settings,
      },
    });
  }

  private static startDaemon(
    sim: SimHarness,
    dataDir: string,
    caFile: string,
    settings: ConfigOverrides,
    clock: Clock | undefined,
    lines: string[],
    extra: ExtraDaemonOptions,
  ): Promise<Daemon> {
    const config = DaemonHarness.configFor(sim, dataDir, caFile, settings);
    const logger = createLogger({ write: (line) => lines.push(line), level: 'debug', ...(clock ? { clock } : {}) });
    return Daemon.start({ config, logger, ...(clock ? { clock } : {}), random: () => 0.5, ...extra });
  }

  /** Stops the daemon cleanly and starts a new one on the same data directory. */
  async restart(): Promise<void> {
    await this.daemon.stop();
    this.daemon = await DaemonHarness.startDaemon(this.sim, this.dataDir, this.caFile, this.settings, this.clock, this.logLines, this.extra);
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
    await this.sim.stop();
    await this.cleanupDir();
  }

  /** One authenticated request to the daemon's API, its answer unread (for a test that looks at its headers). */
  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.daemon.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.daemon.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  async api<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> {
    const response = await this.request(method, path, body, headers);
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** Creates a tenant in the simulator and registers it with the daemon. */
  async registerTenant(spec: Record<string, unknown> = {}, options: { secret?: string } = {}): Promise<{ sim: SimTenant; id: string }> {
    const sim = await this.sim.createTenant(spec);
    const answer = await this.api<{ id: string } & Partial<ApiError>>('POST', '/v1/tenants', {
      tenant: sim.id,
      displayName: sim.domain.split('.')[0],
      appId: sim.app.appId,
      credential: { kind: 'secret', clientSecret: options.secret ?? sim.app.secret },
    });
    if (answer.status !== 201) throw new Error(`registering answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return { sim, id: answer.body.id };
  }

  /**
   * With a manual clock: moves the daemon's time forward in steps, letting every sync and task that
   * comes due finish (over real sockets) before the next step.
   */
  async advance(clock: ManualClock, ms: number, stepMs: number): Promise<void> {
    for (let done = 0; done < ms; done += stepMs) {
      await clock.advanceAsync(Math.min(stepMs, ms - done));
      await this.daemon.whenIdle();
    }
  }

  /** Waits until `check` holds, polling every 50 ms, up to `timeoutMs`. */
  async until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
    const started = Date.now();
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
