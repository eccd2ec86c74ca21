import { join } from 'node:path';
import { BenchDaemon } from './benchDaemon';
import { BenchSim } from './benchSim';
import { measureChangeCost, type ChangeCost } from './changeCost';
import { measureLatency, measureWithDaemonTime, sampleWhile } from './measureLatency';
import { directoryBytes } from './procStats';

export interface SingleTenantOptions {
  dir: string;
  users: number;
  intervalSeconds: number;
  log: (line: string) => void;
}

export interface SingleTenantResult {
  users: number;
  syncSeconds: number;
  peakRssBytes: number;
  storeBytes: number;
  /** Asked one after another while the tenant's first sync runs. */
  duringSync: {
    usersPageMs: number[];
    lockMs: number[];
    /** The same locks as the daemon timed them (Server-Timing). Absent from reports written before it was kept. */
    lockDaemonMs?: number[];
    tenantListMs: number[];
  };
  change: ChangeCost;
}

/**
 * One large tenant: its first sync, with a users page of it, a lock in a small tenant beside it and
 * `GET /v1/tenants` asked throughout, then what one outside change in it writes to disk.
 */
export async function runSingleTenant(options: SingleTenantOptions): Promise<SingleTenantResult> {
  const { dir, users, intervalSeconds, log } = options;
  const sim = await BenchSim.start(join(dir, 'sim'));
  const dataDir = join(dir, 'daemon');
  // No checkpoint falls in the change window, so the bytes written are the change's own.
  const daemon = new BenchDaemon({ dataDir, simUrl: sim.url, identityUrl: sim.identityUrl, caFile: sim.caFile, pollInterval: `${intervalSeconds}s`, checkpointInterval: '1h' });
  try {
    const small = await sim.addTenant(250, 1);
    const large = await sim.addTenant(users, 2);
    await daemon.start();
    const smallId = await daemon.register(small);
    await daemon.untilSynced(new Map([[smallId, 250]]));
    const lockable = (await daemon.users(smallId, 'state=enabled&limit=200')).users;

    const started = Date.now();
    const largeId = await daemon.register(large);
    const synced = daemon.untilSynced(new Map([[largeId, users]]));
    const duringSync = { usersPageMs: [] as number[], lockMs: [] as number[], lockDaemonMs: [] as number[], tenantListMs: [] as number[] };
    let turn = 0;
    await sampleWhile(synced, async () => {
      const user = lockable[turn % lockable.length];
      turn++;
      duringSync.usersPageMs.push(await measureLatency(() => daemon.users(largeId, 'limit=200')));
      duringSync.tenantListMs.push(await measureLatency(() => daemon.tenants()));
      if (user) {
        const verb = Math.floor((turn - 1) / lockable.length) % 2 === 0 ? 'lock' : 'unlock';
        const call = await measureWithDaemonTime(() => daemon.timedApi('POST', `/v1/tenants/${smallId}/users/${user.id}/${verb}`, {}));
        duringSync.lockMs.push(call.ms);
        duringSync.lockDaemonMs.push(call.daemonMs);
      }
    });
    await synced;
    const syncSeconds = (Date.now() - started) / 1000;
    const peakRssBytes = (await daemon.stats()).peakRssBytes;
    const storeBytes = await directoryBytes(dataDir);
    const change = await measureChangeCost(daemon, sim, { id: largeId, simId: large.simId }, intervalSeconds * 2 + 1);
    log(`  one ${users}-user tenant: synced in ${syncSeconds.toFixed(1)} s, one change: data directory +${change.netDirGrowth} B, write_bytes ${change.netWriteBytes} B (net)`);
    return { users, syncSeconds, peakRssBytes, storeBytes, duringSync, change };
  } finally {
    await daemon.stop();
    await sim.stop();
  }
}
