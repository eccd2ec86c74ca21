import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch } from 'undici';
import type { TenantView, UserPage, UserView } from '../../protocol/daemonApi';
import { SimServer } from '../../sim/simServer';
import { DaemonProcess } from './daemonProcess';

export interface SoakTenant {
  /** The daemon's id for it. */
  id: string;
  /** The directory (tenant) id in the simulator. */
  simId: string;
}

/**
 * What every soak phase works on: the simulator in this process, the daemon as a real child process on a
 * data directory of its own, and tenants registered with both.
 */
export class SoakWorld {
  readonly tenants: SoakTenant[] = [];

  private constructor(
    readonly sim: SimServer,
    readonly daemon: DaemonProcess,
    private readonly agent: Agent,
    private readonly dir: string,
  ) {}

  static async start(options: { seed?: number; pollInterval?: string } = {}): Promise<SoakWorld> {
    const sim = await SimServer.start({ port: 0, seed: options.seed ?? 1 });
    const dir = await mkdtemp(join(tmpdir(), 'm365-soak-'));
    const caFile = join(dir, 'sim-ca.pem');
    await writeFile(caFile, sim.caPem);
    const dataDir = join(dir, 'data');
    const daemon = new DaemonProcess({ dataDir, simUrl: sim.url, identityUrl: sim.identityUrl, caFile, ...(options.pollInterval ? { pollInterval: options.pollInterval } : {}) });
    await daemon.start();
    return new SoakWorld(sim, daemon, new Agent({ connect: { ca: sim.caPem } }), dir);
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
    await this.agent.close();
    await this.sim.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The simulator's control API. */
  async control<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.sim.url}/_sim${path}`, {
      method,
      dispatcher: this.agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** A tenant in the simulator (no privileged or on-premises users: every lock can go through), registered with the daemon. */
  async addTenant(users: number): Promise<SoakTenant> {
    const created = await this.control<{ id: string; app: { appId: string; secret: string } }>('POST', '/tenants', {
      users,
      userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0.1 },
      app: {},
    });
    if (created.status !== 201) throw new Error(`the simulator refused a tenant: ${created.status}`);
    const answer = await this.daemon.api<TenantView>('POST', '/v1/tenants', {
      tenant: created.body.id,
      appId: created.body.app.appId,
      credential: { kind: 'secret', clientSecret: created.body.app.secret },
    });
    if (answer.status !== 201) throw new Error(`the daemon refused a tenant: ${answer.status} ${answer.text}`);
    const tenant = { id: answer.body.id, simId: created.body.id };
    this.tenants.push(tenant);
    return tenant;
  }

  /** Every user's accountEnabled as the simulator holds it. */
  simUsers(tenant: SoakTenant): Map<string, boolean> {
    const simTenant = this.sim.directory.find(tenant.simId);
    if (!simTenant) throw new Error(`no tenant ${tenant.simId} in the simulator`);
    return new Map(simTenant.users.filter((u) => !u.deleted).map((u) => [u.id, u.accountEnabled]));
  }

  /** Every user as the daemon's store holds it, read through its API. */
  async daemonUsers(tenant: SoakTenant): Promise<Map<string, UserView>> {
    const users = new Map<string, UserView>();
    for (let offset = 0; ; offset += 1000) {
      const page = await this.daemon.api<UserPage>('GET', `/v1/tenants/${tenant.id}/users?limit=1000&offset=${offset}`);
      if (page.status !== 200) throw new Error(`listing users answered ${page.status}: ${page.text}`);
      for (const user of page.body.users) users.set(user.id, user);
      if (offset + page.body.users.length >= page.body.total || page.body.users.length === 0) return users;
    }
  }

  /** Waits until the daemon has synced the tenant's users at least once. */
  async untilSynced(tenant: SoakTenant, timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    const expected = this.simUsers(tenant).size;
    while (Date.now() - started < timeoutMs) {
      const answer = await this.daemon.api<UserPage>('GET', `/v1/tenants/${tenant.id}/users?limit=1`);
      if (answer.status === 200 && answer.body.total >= expected) return;
      await sleep(100);
    }
    throw new Error(`the daemon did not sync tenant ${tenant.simId} within ${timeoutMs} ms`);
  }
}
