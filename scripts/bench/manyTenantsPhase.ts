import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchDaemon } from './benchDaemon';
import { BenchSim, type BenchSimTenant } from './benchSim';
import { percentile } from './benchReport';

export interface ManyTenantsOptions {
  dir: string;
  tenants: number;
  usersPerTenant: number;
  intervalSeconds: number;
  changes: number;
  log: (line: string) => void;
}

export interface ManyTenantsResult {
  /** Share of one core over the measured window (1 = a whole core). */
  cpuShare: number;
  windowSeconds: number;
  propagationP95Seconds: number;
  detected: number;
  changes: number;
  peakRssBytes: number;
  /** An operator's refresh of one tenant among them: the daemon's time for each answer, in ms. */
  refreshMs: number[];
  /** Bytes the daemon wrote per refresh (write_bytes), its tasks' work included. */
  refreshWriteBytes: number;
}

const REFRESHES = 30;

/**
 * Many small tenants at a short interval, synced and then kept true while users change outside: the
 * daemon's CPU share over whole intervals, how soon each change shows on its event stream, its memory;
 * then an operator's refresh of one tenant among them.
 */
export async function runManyTenants(options: ManyTenantsOptions): Promise<ManyTenantsResult> {
  const { dir, tenants, usersPerTenant, intervalSeconds, changes, log } = options;
  const sim = await BenchSim.start(join(dir, 'sim'));
  const daemon = new BenchDaemon({ dataDir: join(dir, 'daemon'), simUrl: sim.url, identityUrl: sim.identityUrl, caFile: sim.caFile, pollInterval: `${intervalSeconds}s` });
  try {
    const simTenants: BenchSimTenant[] = [];
    for (let i = 0; i < tenants; i++) simTenants.push(await sim.addTenant(usersPerTenant, i + 1));
    await daemon.start();
    const ids: string[] = [];
    for (const t of simTenants) ids.push(await daemon.register(t));
    await daemon.untilSynced(new Map(ids.map((id) => [id, usersPerTenant])));
    log(`  ${tenants} × ${usersPerTenant} synced`);
    await daemon.follow();
    // Let the first rounds after registration settle into their steady rhythm.
    await sleep(intervalSeconds * 1000);

    const targets = await Promise.all(
      Array.from({ length: changes }, async (_, n) => {
        const i = Math.floor((n * tenants) / changes);
        const user = (await daemon.users(ids[i] ?? '', 'state=enabled&limit=1')).users[0];
        return { i, userId: user?.id ?? '' };
      }),
    );
    const windowMs = intervalSeconds * 4 * 1000;
    const before = await daemon.stats();
    const started = Date.now();
    const sent: Array<{ i: number; userId: string; at: number }> = [];
    for (const [n, target] of targets.entries()) {
      await sleep(Math.max(0, started + (n * (windowMs - intervalSeconds * 1000)) / changes - Date.now()));
      const at = Date.now();
      await sim.setAccountEnabled(simTenants[target.i]?.simId ?? '', target.userId, false);
      sent.push({ ...target, at });
    }
    await sleep(Math.max(0, started + windowMs - Date.now()));
    const after = await daemon.stats();
    const windowSeconds = (Date.now() - started) / 1000;
    await sleep(intervalSeconds * 1000 + 2000);
    const latencies = sent.flatMap((s) => {
      const at = daemon.detectedAt(ids[s.i] ?? '', s.userId, false, s.at);
      return at === undefined ? [] : [(at - s.at) / 1000];
    });
    // An operator's refresh of one tenant among 1,000: what it waits for and writes, while the rounds go on.
    const refreshMs: number[] = [];
    const beforeRefresh = await daemon.stats();
    for (let n = 0; n < REFRESHES; n++) {
      refreshMs.push((await daemon.timedApi('POST', `/v1/tenants/${ids[(n * 37) % ids.length] ?? ''}/refresh`)).daemonMs);
      await sleep(250);
    }
    await sleep(2000);
    const refreshWriteBytes = ((await daemon.stats()).writeBytes - beforeRefresh.writeBytes) / REFRESHES;
    return {
      refreshMs,
      refreshWriteBytes,
      cpuShare: (after.cpuMs - before.cpuMs) / (windowSeconds * 1000),
      windowSeconds,
      propagationP95Seconds: latencies.length < sent.length ? Number.POSITIVE_INFINITY : percentile(latencies, 95),
      detected: latencies.length,
      changes: sent.length,
      peakRssBytes: after.peakRssBytes,
    };
  } finally {
    await daemon.stop();
    await sim.stop();
  }
}
