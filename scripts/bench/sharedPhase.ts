import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../test/support/postgresServer';
import { BUILT_DAEMON, SharedDaemonProcess } from '../../test/support/sharedDaemonProcess';
import { BenchDaemon } from './benchDaemon';
import { BenchSim, type BenchSimTenant } from './benchSim';
import { directoryBytes, procStats, type ProcStats } from './procStats';

export interface SharedOptions {
  dir: string;
  tenants: number;
  usersPerTenant: number;
  daemons: number;
  intervalSeconds: number;
  /** How many poll intervals the measured window of quiet rounds lasts. */
  windowRounds: number;
  log: (line: string) => void;
}

/** One daemon process over the measured window. */
export interface DaemonFigures {
  /** Tenants it synced in the window (shared: its leases; local: all). */
  tenants: number;
  /** Delta rounds it ran in the window (shared: its sync tasks; local: the simulator's count). */
  rounds: number;
  /** Share of one core over the window (1 = a whole core). */
  cpuShare: number;
  /** Its CPU over the window per delta round it ran. */
  cpuMsPerRound: number;
  rssBytes: number;
  peakRssBytes: number;
}

/** One side of the comparison: the shared deployment, or one local daemon. */
export interface SideFigures {
  /** From the first registration until every tenant is synced with all its users. */
  syncSeconds: number;
  /** Delta rounds the simulator answered per second over the window, every daemon together. */
  roundsPerSecond: number;
  /** What the interval asks for: tenants ÷ interval. */
  demandedRoundsPerSecond: number;
  /** Shared: `pg_database_size`; local: the data directory on disk. */
  storeBytes: number;
  daemons: DaemonFigures[];
}

export interface SharedResult {
  tenants: number;
  usersPerTenant: number;
  intervalSeconds: number;
  windowSeconds: number;
  shared: SideFigures & {
    /** The PostgreSQL server's CPU (postmaster and its backends) over the window, as a share of one core. */
    postgresCpuShare: number;
    /** Tenants that more than one daemon synced in the window: 0 when the leases hold. */
    tenantsSyncedByTwo: number;
  };
  local: SideFigures;
}

/** Tenants registered at once on each side: the same on both, so their sync times compare. */
const registrationWidth = 8;

/**
 * A fleet of small tenants kept true by a shared deployment — `daemons` processes of `dist/daemon.cjs` on
 * one PostgreSQL started for the run — and then, on the same simulated fleet, by one local daemon: each
 * side's first sync, then a window of quiet rounds with its rounds per second (from the simulator's
 * counters), its CPU and memory per daemon (/proc) and its store's size.
 */
export async function runShared(options: SharedOptions): Promise<SharedResult> {
  const { dir, tenants, usersPerTenant, intervalSeconds, log } = options;
  const sim = await BenchSim.start(join(dir, 'sim'));
  try {
    const fleet = await inParallel(Array.from({ length: tenants }, (_, i) => i), 8, (i) => sim.addTenant(usersPerTenant, i + 1));
    log(`  ${tenants} × ${usersPerTenant} in the simulator`);
    const windowSeconds = intervalSeconds * options.windowRounds;
    const server = await startPostgres();
    let shared: SharedResult['shared'];
    try {
      shared = await sharedSide(server, sim, fleet, options, windowSeconds);
    } finally {
      await server.stop();
    }
    log(`  shared: synced in ${shared.syncSeconds.toFixed(1)} s, ${shared.roundsPerSecond.toFixed(1)} rounds/s, database ${(shared.storeBytes / 2 ** 20).toFixed(0)} MiB`);
    const local = await localSide(sim, fleet, options, windowSeconds);
    log(`  local: synced in ${local.syncSeconds.toFixed(1)} s, ${local.roundsPerSecond.toFixed(1)} rounds/s, store ${(local.storeBytes / 2 ** 20).toFixed(0)} MiB`);
    return { tenants, usersPerTenant, intervalSeconds, windowSeconds, shared, local };
  } finally {
    await sim.stop();
  }
}

async function sharedSide(server: PostgresServer, sim: BenchSim, fleet: readonly BenchSimTenant[], options: SharedOptions, windowSeconds: number): Promise<SharedResult['shared']> {
  const { dir, intervalSeconds, usersPerTenant } = options;
  const url = await server.createDatabase('bench');
  const vaultKeyFile = join(dir, 'vault.key');
  await writeFile(vaultKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  // As an admin sets up a deployment: the command makes the schema and prints the engineer's token once.
  const { stdout } = await promisify(execFile)(process.execPath, [BUILT_DAEMON, 'users', 'add', '--role', 'admin', 'bench', '--store', url]);
  const token = /^m365s_\S+$/m.exec(stdout)?.[0];
  if (!token) throw new Error(`users add printed no token: ${stdout.slice(0, 200)}`);
  const db = new pg.Pool({ connectionString: url, max: 2 });
  const daemons: Array<{ process: SharedDaemonProcess; id: string }> = [];
  try {
    // One after another, so each daemon's id is the row its start added to `daemons`.
    for (let i = 0; i < options.daemons; i++) {
      const known = new Set(await daemonIds(db));
      const child = await SharedDaemonProcess.start({
        dataDir: join(dir, `shared-${i}`),
        store: url,
        vaultKeyFile,
        simUrl: sim.url,
        identityUrl: sim.identityUrl,
        caFile: sim.caFile,
        pollInterval: `${intervalSeconds}s`,
        extraArgs: ['--max-concurrent-syncs', '8'],
      });
      daemons.push({ process: child, id: (await daemonIds(db)).find((id) => !known.has(id)) ?? '' });
    }
    const registering = Date.now();
    await inParallel(fleet, registrationWidth, async (t, i) => {
      const daemon = daemons[i % daemons.length] as (typeof daemons)[number];
      const answer = await daemon.process.api(token, 'POST', '/v1/tenants', { tenant: t.simId, appId: t.appId, credential: { kind: 'secret', clientSecret: t.secret } });
      if (answer.status !== 201) throw new Error(`registering answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    });
    await waitFor(
      async () => (await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM tenants WHERE users_total = $1', [usersPerTenant])).rows[0]?.n === fleet.length,
      'the shared deployment to sync every tenant',
    );
    const syncSeconds = (Date.now() - registering) / 1000;
    // Let the rounds after the first syncs settle into their rhythm.
    await sleep(intervalSeconds * 1000);

    const postmaster = await postmasterPid(db);
    const before = await Promise.all(daemons.map((d) => procStats(d.process.pid)));
    const postgresBefore = await processTreeCpuMs(postmaster);
    const countersBefore = await deltaRounds(sim, fleet);
    const started = Date.now();
    await sleep(windowSeconds * 1000);
    const seconds = (Date.now() - started) / 1000;
    const after = await Promise.all(daemons.map((d) => procStats(d.process.pid)));
    const postgresAfter = await processTreeCpuMs(postmaster);
    const rounds = (await deltaRounds(sim, fleet)) - countersBefore;
    const { rows: byDaemon } = await db.query<{ daemon_id: string; rounds: number }>(
      "SELECT daemon_id, count(*)::integer AS rounds FROM tasks WHERE kind = 'sync-users' AND started_at BETWEEN $1 AND $2 GROUP BY daemon_id",
      [started, started + seconds * 1000],
    );
    const { rows: doubled } = await db.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM (
         SELECT tenant_id FROM tasks WHERE kind = 'sync-users' AND started_at BETWEEN $1 AND $2 GROUP BY tenant_id HAVING count(DISTINCT daemon_id) > 1
       ) AS doubled`,
      [started, started + seconds * 1000],
    );
    const { rows: leases } = await db.query<{ daemon_id: string; tenants: number }>('SELECT daemon_id, count(*)::integer AS tenants FROM tenant_leases GROUP BY daemon_id');
    const { rows: size } = await db.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
    return {
      syncSeconds,
      roundsPerSecond: rounds / seconds,
      demandedRoundsPerSecond: fleet.length / intervalSeconds,
      storeBytes: Number(size[0]?.bytes ?? 0),
      postgresCpuShare: (postgresAfter - postgresBefore) / (seconds * 1000),
      tenantsSyncedByTwo: doubled[0]?.n ?? 0,
      daemons: daemons.map((d, i) =>
        figures(before[i] as ProcStats, after[i] as ProcStats, seconds, {
          tenants: leases.find((row) => row.daemon_id === d.id)?.tenants ?? 0,
          rounds: byDaemon.find((row) => row.daemon_id === d.id)?.rounds ?? 0,
        }),
      ),
    };
  } finally {
    await Promise.allSettled(daemons.map((d) => d.process.stop()));
    await db.end();
  }
}

async function localSide(sim: BenchSim, fleet: readonly BenchSimTenant[], options: SharedOptions, windowSeconds: number): Promise<SideFigures> {
  const { dir, intervalSeconds, usersPerTenant } = options;
  const dataDir = join(dir, 'local');
  const daemon = new BenchDaemon({ dataDir, simUrl: sim.url, identityUrl: sim.identityUrl, caFile: sim.caFile, pollInterval: `${intervalSeconds}s`, checkpointInterval: `${intervalSeconds * 5}s` });
  await daemon.start();
  try {
    const registering = Date.now();
    const ids = await inParallel(fleet, registrationWidth, (t) => daemon.register(t));
    await daemon.untilSynced(new Map(ids.map((id) => [id, usersPerTenant])));
    const syncSeconds = (Date.now() - registering) / 1000;
    await sleep(intervalSeconds * 1000);

    const before = await daemon.stats();
    const countersBefore = await deltaRounds(sim, fleet);
    const started = Date.now();
    await sleep(windowSeconds * 1000);
    const seconds = (Date.now() - started) / 1000;
    const after = await daemon.stats();
    const rounds = (await deltaRounds(sim, fleet)) - countersBefore;
    return {
      syncSeconds,
      roundsPerSecond: rounds / seconds,
      demandedRoundsPerSecond: fleet.length / intervalSeconds,
      storeBytes: await directoryBytes(dataDir),
      daemons: [figures(before, after, seconds, { tenants: fleet.length, rounds })],
    };
  } finally {
    await daemon.stop();
  }
}

function figures(before: ProcStats, after: ProcStats, seconds: number, work: { tenants: number; rounds: number }): DaemonFigures {
  const cpuMs = after.cpuMs - before.cpuMs;
  return {
    tenants: work.tenants,
    rounds: work.rounds,
    cpuShare: cpuMs / (seconds * 1000),
    cpuMsPerRound: work.rounds > 0 ? cpuMs / work.rounds : Number.NaN,
    rssBytes: after.rssBytes,
    peakRssBytes: after.peakRssBytes,
  };
}

async function daemonIds(db: pg.Pool): Promise<string[]> {
  return (await db.query<{ id: string }>('SELECT id FROM daemons')).rows.map((row) => row.id);
}

/** Every delta request the simulator answered for the fleet so far (a quiet round is one request). */
async function deltaRounds(sim: BenchSim, fleet: readonly BenchSimTenant[]): Promise<number> {
  const counts = await inParallel(fleet, 16, async (t) => {
    const counters = await sim.control<{ byOperation: Record<string, number> }>('GET', `/tenants/${t.simId}/counters`);
    return counters.byOperation['users.delta'] ?? 0;
  });
  return counts.reduce((sum, n) => sum + n, 0);
}

/** The server's main process: the parent of the backend serving this connection. */
async function postmasterPid(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const stat = await readFile(`/proc/${rows[0]?.pid ?? 0}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * CPU of a PostgreSQL server in milliseconds: the postmaster's own and that of the backends it has reaped
 * (cutime, cstime), and the live backends' utime + stime, so a connection closing between two readings
 * moves its CPU from one term to the other instead of losing it.
 */
async function processTreeCpuMs(root: number): Promise<number> {
  let ticks = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    // The fields after the command name, from field 3 (state): ppid is [1], utime [11], stime [12], cutime [13], cstime [14].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    if (Number(entry) === root) ticks += (fields[11] ?? 0) + (fields[12] ?? 0) + (fields[13] ?? 0) + (fields[14] ?? 0);
    else if (fields[1] === root) ticks += (fields[11] ?? 0) + (fields[12] ?? 0);
  }
  return (ticks * 1000) / 100;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30 * 60_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

/** Runs `work` over `items`, `width` at a time, answering in the items' order. */
async function inParallel<T, R>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, index);
      }
    }),
  );
  return results;
}
