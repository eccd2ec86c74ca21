import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchDaemon } from './benchDaemon';
import { percentile } from './benchReport';
import { BenchSim, type BenchSimTenant } from './benchSim';
import { measureChangeCost, type ChangeCost } from './changeCost';
import { measureWithDaemonTime, sampleWhile } from './measureLatency';
import { directoryBytes, untilDirectorySettles } from './procStats';
import { measureWindow, type WindowCost } from './quietWindow';

/** Restarts in a row on the same data, their median reported. */
const RESTARTS = 3;

export interface FleetOptions {
  dir: string;
  tenants: number;
  usersPerTenant: number;
  /** The daemon's poll interval in seconds; the checkpoint interval keeps the default 1 : 5 ratio. */
  intervalSeconds: number;
  /** How many poll intervals the quiet window lasts. */
  quietRounds: number;
  log: (line: string) => void;
}

export interface FleetResult {
  tenants: number;
  users: number;
  registerMs: number[];
  /** The same registrations as the daemon timed them (Server-Timing): without the client's and the network's share. */
  registerDaemonMs: number[];
  syncSeconds: number;
  peakRssBytes: number;
  storeBytes: number;
  usersPageDuringSyncMs: number[];
  tenantListMs: number[];
  /** The same calls as the daemon timed them (Server-Timing). Absent from reports written before it was kept. */
  tenantListDaemonMs?: number[];
  lockMs: number[];
  /** The same locks as the daemon timed them (Server-Timing). Absent from reports written before it was kept. */
  lockDaemonMs?: number[];
  quiet: WindowCost;
  /** The median of `restartRuns`. */
  restartSeconds: number;
  /** Each restart's time, in order: one restart moves by a tenth of a second or more from the next. */
  restartRuns: number[];
  change: ChangeCost;
}

/**
 * One daemon keeping `tenants` × `usersPerTenant` users true: registration one after another, the first
 * sync with a users page asked throughout, API latency once synced, a quiet window (CPU, bytes written),
 * a restart until the first round completes, and what one outside change writes.
 */
export async function runFleet(options: FleetOptions): Promise<FleetResult> {
  const { dir, tenants, usersPerTenant, intervalSeconds, log } = options;
  const checkpointSeconds = intervalSeconds * 5;
  const sim = await BenchSim.start(join(dir, 'sim'));
  const dataDir = join(dir, 'daemon');
  let daemon: BenchDaemon | undefined;
  try {
    const simTenants: BenchSimTenant[] = [];
    for (let i = 0; i < tenants; i++) simTenants.push(await sim.addTenant(usersPerTenant, i + 1));
    const daemonOptions = { dataDir, simUrl: sim.url, identityUrl: sim.identityUrl, caFile: sim.caFile, pollInterval: `${intervalSeconds}s`, checkpointInterval: `${checkpointSeconds}s` };
    const live = new BenchDaemon(daemonOptions);
    daemon = live;
    await live.start();
    await live.connect();

    const ids: string[] = [];
    const registerMs: number[] = [];
    const registerDaemonMs: number[] = [];
    const expected = new Map<string, number>();
    const register = async (t: BenchSimTenant) => {
      const { id, daemonMs, ms } = await measureWithDaemonTime(() => live.timedRegister(t));
      registerMs.push(ms);
      registerDaemonMs.push(daemonMs);
      ids.push(id);
      expected.set(id, usersPerTenant);
      return id;
    };
    const registering = Date.now();
    const first = await register(simTenants[0] as BenchSimTenant);
    const registered = (async () => {
      for (const t of simTenants.slice(1)) await register(t);
      await live.untilSynced(expected);
    })();
    // A users page of the first tenant, as the extension asks for it, all through the others' syncs.
    const usersPageDuringSyncMs = await sampleWhile(registered, () => live.users(first, 'limit=200'));
    await registered;
    const syncSeconds = (Date.now() - registering) / 1000;
    const peakRssBytes = (await live.stats()).peakRssBytes;
    const storeBytes = await directoryBytes(dataDir);
    log(`  ${tenants} × ${usersPerTenant}: synced in ${syncSeconds.toFixed(1)} s, peak RSS ${(peakRssBytes / 2 ** 20).toFixed(0)} MiB`);

    const tenantListMs: number[] = [];
    const tenantListDaemonMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const call = await measureWithDaemonTime(() => live.timedApi('GET', '/v1/tenants'));
      tenantListMs.push(call.ms);
      tenantListDaemonMs.push(call.daemonMs);
    }
    // The first checkpoint after the sync writes the sync's own bookkeeping (the rounds' task records,
    // every tenant's first delta link): the cost of the sync, not of a quiet hour, so the window starts
    // once it is done.
    await sleep(checkpointSeconds * 1000);
    await untilDirectorySettles(dataDir);
    const quiet = await measureWindow(live, intervalSeconds * options.quietRounds);
    log(`  quiet window ${quiet.seconds.toFixed(0)} s: ${quiet.cpuMs} ms CPU, write_bytes ${quiet.writeBytes}, wchar ${quiet.wchar}`);

    // After the quiet window, not before: a lock's activity reaches store.json at its next deferred write,
    // which would otherwise land in the window and be counted as a quiet hour's cost.
    const lockMs: number[] = [];
    const lockDaemonMs: number[] = [];
    const target = ids[Math.floor(ids.length / 2)] ?? first;
    const lockable = (await live.users(target, 'state=enabled&limit=20')).users;
    for (const user of lockable) {
      const call = await measureWithDaemonTime(() => live.timedApi('POST', `/v1/tenants/${target}/users/${user.id}/lock`, {}));
      lockMs.push(call.ms);
      lockDaemonMs.push(call.daemonMs);
      await live.api('POST', `/v1/tenants/${target}/users/${user.id}/unlock`, {});
    }

    // The restarts keep checkpoints out of the change window below, so one change is measured alone.
    let restarted = live;
    const restartRuns: number[] = [];
    for (let run = 0; run < RESTARTS; run++) {
      await restarted.stop();
      restarted = new BenchDaemon({ ...daemonOptions, checkpointInterval: '1h' });
      daemon = restarted;
      const restarting = Date.now();
      await restarted.start();
      restartRuns.push(((await restarted.whenSynced(expected, restarting)) - restarting) / 1000);
    }
    const restartSeconds = percentile(restartRuns, 50);

    const simTarget = simTenants[Math.floor(ids.length / 2)]?.simId ?? '';
    const change = await measureChangeCost(restarted, sim, { id: target, simId: simTarget }, intervalSeconds * 2 + 1);
    log(`  restart ${restartRuns.map((seconds) => seconds.toFixed(2)).join(' / ')} s; one change: data directory +${change.netDirGrowth} B, write_bytes ${change.netWriteBytes} B (net)`);
    return {
      tenants,
      users: tenants * usersPerTenant,
      registerMs,
      registerDaemonMs,
      syncSeconds,
      peakRssBytes,
      storeBytes,
      usersPageDuringSyncMs,
      tenantListMs,
      tenantListDaemonMs,
      lockMs,
      lockDaemonMs,
      quiet,
      restartSeconds,
      restartRuns,
      change,
    };
  } finally {
    await daemon?.stop();
    await sim.stop();
  }
}
