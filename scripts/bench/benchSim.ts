import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch } from 'undici';

export interface BenchSimTenant {
  simId: string;
  appId: string;
  secret: string;
}

export interface SimCounters {
  graphRequests: number;
  bytesServed: number;
}

/**
 * The built simulator (`dist/sim.js`) as a child process, so its CPU and memory are not the bench's own,
 * spoken to over its control API.
 */
export class BenchSim {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    /** The identity platform's own origin: the daemons' authority host. */
    readonly identityUrl: string,
    readonly caFile: string,
    readonly agent: Agent,
  ) {}

  static async start(stateDir: string): Promise<BenchSim> {
    await mkdir(stateDir, { recursive: true });
    const child = spawn(process.execPath, ['dist/sim.js', '--port', '0', '--state-dir', stateDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (;;) {
      const state = await readFile(join(stateDir, 'sim.json'), 'utf8').then((t) => JSON.parse(t) as { url: string; identityUrl: string; caPath: string }, () => undefined);
      if (state) return new BenchSim(child, state.url, state.identityUrl, state.caPath, new Agent({ connect: { ca: await readFile(state.caPath, 'utf8') } }));
      if (child.exitCode !== null) throw new Error(`the simulator exited (${child.exitCode}) before it was up`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    await this.agent.close();
    if (this.child.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await gone;
  }

  async control<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/_sim${path}`, {
      method,
      dispatcher: this.agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`simulator ${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A tenant whose users can all be locked (no privileged or on-premises users), with its app's secret. */
  async addTenant(users: number, seed: number): Promise<BenchSimTenant> {
    const created = await this.control<{ id: string; app: { appId: string; secret: string } }>('POST', '/tenants', {
      users,
      seed,
      userMix: { privilegedShare: 0, onPremisesShare: 0, hostileShare: 0, disabledShare: 0.1 },
      app: {},
    });
    return { simId: created.id, appId: created.app.appId, secret: created.app.secret };
  }

  /** An outside change, as an admin makes it in the Entra admin center. */
  async setAccountEnabled(simId: string, userId: string, accountEnabled: boolean): Promise<void> {
    await this.control('PATCH', `/tenants/${simId}/users/${userId}`, {
      accountEnabled,
      actor: { userPrincipalName: 'bench.admin@contoso.example', displayName: 'Benchmark Administrator' },
    });
  }

  async counters(simId: string): Promise<SimCounters> {
    return this.control<SimCounters>('GET', `/tenants/${simId}/counters`);
  }

  async resetCounters(simId: string): Promise<void> {
    await this.control('DELETE', `/tenants/${simId}/counters`);
  }
}
