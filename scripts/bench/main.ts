// `npm run bench [-- --full]`: the product's performance report. Quick mode (the default) runs the
// smaller points in a few minutes; --full runs every row at its own scale in under half an hour. It
// writes Markdown and JSON to bench-results/ and prints the Markdown; it asserts nothing. `--only
// single-tenant` (or fleet, baseline, many-tenants, shared; repeat or comma-separate) runs just those phases, and
// the rows of the others say they were not measured; `--fleet-users N` (repeatable) replaces the fleet's
// points, and `--single-tenant-users N` (repeatable) the one large tenant's. `--cpu-prof-dir DIR` has each
// daemon it starts write a CPU profile there (`node --cpu-prof`), to open in Chrome DevTools; `--help` lists them.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBaseline } from './baselinePhase';
import { benchProfiling } from './benchDaemon';
import { machine, renderMarkdown, type BenchReport, type Comparison } from './benchReport';
import { runFleet, type FleetResult } from './fleetPhase';
import { runManyTenants, type ManyTenantsResult } from './manyTenantsPhase';
import { runShared, type SharedResult } from './sharedPhase';
import { writeBytesCounted } from './procStats';
import { reportRows } from './reportRows';
import { scaleCurve } from './scaleCurve';
import { runSingleTenant, type SingleTenantResult } from './singleTenantPhase';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Plan {
  fleetUsers: number[];
  singleTenantUsers: number[];
  baseline: { tenants: number; changes: number; changeWindowSeconds: number };
  manyTenants: boolean;
  /** Tenants of 250 users kept by three daemons on one PostgreSQL, then by one local daemon. */
  sharedTenants: number;
  sharedWindowRounds: number;
  /**
   * Rounds in the quiet window of the largest fleet point, which the rows quote. A full collection of its
   * heap (about 0.6 s of CPU with 250,000 users, V8's helper threads included) falls into a 30 s window or
   * not: full runs of one day read 2.2 to 3.6 ms a round over 30 s, and 150 s windows 1.9 ms. Two minutes
   * average it in.
   */
  largestFleetQuietRounds: number;
}

const plans: Record<BenchReport['mode'], Plan> = {
  quick: { fleetUsers: [25_000, 50_000], singleTenantUsers: [2_500, 25_000], baseline: { tenants: 10, changes: 100, changeWindowSeconds: 60 }, manyTenants: false, sharedTenants: 200, sharedWindowRounds: 3, largestFleetQuietRounds: 6 },
  full: {
    fleetUsers: [25_000, 50_000, 100_000, 250_000],
    singleTenantUsers: [2_500, 100_000],
    baseline: { tenants: 25, changes: 200, changeWindowSeconds: 150 },
    manyTenants: true,
    sharedTenants: 1000,
    sharedWindowRounds: 4,
    largestFleetQuietRounds: 24,
  },
};

/** Every fleet point has this many tenants; the daemon polls at its shortest interval, 12× its default. */
const fleetTenants = 100;

/** The phases `--only` can pick, so a change to one path can be measured without the whole run. */
const phases = ['fleet', 'single-tenant', 'baseline', 'many-tenants', 'shared'] as const;
type Phase = (typeof phases)[number];

function onlyPhases(only: string[] | undefined): ReadonlySet<Phase> {
  if (!only || only.length === 0) return new Set(phases);
  const chosen = new Set<Phase>();
  for (const name of only.flatMap((value) => value.split(','))) {
    const phase = phases.find((p) => p === name.trim());
    if (!phase) throw new BenchUsageError(`--only takes one of ${phases.join(', ')}, not "${name}"`);
    chosen.add(phase);
  }
  return chosen;
}
const intervalSeconds = 5;

const usage = `Usage: npm run bench [-- options]
  --quick                  the smaller points, in a few minutes (the default)
  --full                   every row at its own scale, in under 30 minutes
  --only PHASE             run only PHASE: ${phases.join(', ')}; repeat or comma-separate
  --fleet-users N          a fleet point of N users over ${fleetTenants} tenants, in place of the mode's (repeatable)
  --single-tenant-users N  the one large tenant's size, in place of the mode's (repeatable)
  --cpu-prof-dir DIR       each daemon started writes a CPU profile to DIR
  --help                   this text
It writes Markdown and JSON to bench-results/ and prints the Markdown.`;

/** A command line the bench cannot run: said in one line with the usage, not as a stack trace. */
class BenchUsageError extends Error {}

function parseBenchArguments(args: string[]) {
  try {
    return parseArgs({ args, options: { full: { type: 'boolean' }, quick: { type: 'boolean' }, only: { type: 'string', multiple: true }, 'fleet-users': { type: 'string', multiple: true }, 'single-tenant-users': { type: 'string', multiple: true }, 'cpu-prof-dir': { type: 'string' }, help: { type: 'boolean' } }, strict: true }).values;
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
}

async function main(): Promise<void> {
  const values = parseBenchArguments(process.argv.slice(2));
  if (values.help) {
    console.log(usage);
    return;
  }
  if (values['cpu-prof-dir']) benchProfiling.cpuProfileDir = resolve(values['cpu-prof-dir']);
  if (values.full && values.quick) throw new BenchUsageError('choose one of --quick and --full');
  const only = onlyPhases(values.only);
  const mode: BenchReport['mode'] = values.full ? 'full' : 'quick';
  const fleetUsers = (values['fleet-users'] ?? []).map((text) => {
    const users = Number(text);
    if (!Number.isInteger(users) || users < fleetTenants || users % fleetTenants !== 0) throw new BenchUsageError(`--fleet-users takes a multiple of ${fleetTenants}, not "${text}"`);
    return users;
  });
  const singleTenantUsers = (values['single-tenant-users'] ?? []).map((text) => {
    const users = Number(text);
    if (!Number.isInteger(users) || users < 1) throw new BenchUsageError(`--single-tenant-users takes a whole number of users, not "${text}"`);
    return users;
  });
  const base = plans[mode];
  const plan: Plan = {
    ...base,
    fleetUsers: !only.has('fleet') ? [] : fleetUsers.length > 0 ? fleetUsers : base.fleetUsers,
    singleTenantUsers: !only.has('single-tenant') ? [] : singleTenantUsers.length > 0 ? singleTenantUsers : base.singleTenantUsers,
    manyTenants: only.has('many-tenants') && (base.manyTenants || values.only !== undefined),
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`m365-status bench, ${mode} mode (${mode === 'quick' ? 'a few minutes; --full for every row at its own scale' : 'under 30 minutes'})`);
  const build = spawnSync(process.execPath, ['scripts/build.mjs', 'sim', 'daemon'], { cwd: repoRoot, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed');

  const started = Date.now();
  const root = await mkdtemp(join(tmpdir(), 'm365-bench-'));
  const writeBytes = await writeBytesCounted(root);
  log(`write_bytes in /proc/<pid>/io ${writeBytes ? 'is counted here' : 'stays 0 here: rows use the data directory growth'}`);
  const fleet: FleetResult[] = [];
  const single: SingleTenantResult[] = [];
  let comparison: Comparison | undefined;
  let many: ManyTenantsResult | null = null;
  let shared: SharedResult | null = null;
  try {
    for (const users of only.has('fleet') ? plan.fleetUsers : []) {
      log(`fleet: ${fleetTenants} tenants × ${users / fleetTenants} users`);
      const quietRounds = users === Math.max(...plan.fleetUsers) ? plan.largestFleetQuietRounds : 6;
      fleet.push(await runFleet({ dir: join(root, `fleet-${users}`), tenants: fleetTenants, usersPerTenant: users / fleetTenants, intervalSeconds, quietRounds, log }));
    }
    for (const users of only.has('single-tenant') ? plan.singleTenantUsers : []) {
      log(`one tenant of ${users} users`);
      single.push(await runSingleTenant({ dir: join(root, `single-${users}`), users, intervalSeconds, log }));
    }
    if (only.has('baseline')) {
      log(`baseline side by side: ${plan.baseline.tenants} tenants each side`);
      comparison = await runBaseline({ dir: join(root, 'baseline'), usersPerTenant: 2_500, ...plan.baseline, log });
    }
    if (plan.manyTenants) {
      log('1,000 tenants × 250 users at 15 s');
      many = await runManyTenants({ dir: join(root, 'many'), tenants: 1000, usersPerTenant: 250, intervalSeconds: 15, changes: 100, log });
    }
    if (only.has('shared')) {
      const scale = plan.sharedTenants < 1000 ? ', scaled down from 1,000 × 250 (--full runs it at scale)' : '';
      log(`shared mode: ${plan.sharedTenants.toLocaleString('en')} tenants × 250 users over 3 daemons on one PostgreSQL, then one local daemon${scale}`);
      shared = await runShared({ dir: join(root, 'shared'), tenants: plan.sharedTenants, usersPerTenant: 250, daemons: 3, intervalSeconds: 15, windowRounds: plan.sharedWindowRounds, log });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }

  const curve = scaleCurve(fleet, single);
  const report: BenchReport = {
    mode,
    date: new Date().toISOString(),
    machine: machine(),
    durationSeconds: (Date.now() - started) / 1000,
    comparison: comparison ?? null,
    shared,
    rows: reportRows({ fleet, single, many, intervalSeconds, mode, writeBytesCounted: writeBytes }),
    scale: curve.points,
    growth: curve.growth,
  };
  const markdown = renderMarkdown(report);
  const out = join(repoRoot, 'bench-results');
  await mkdir(out, { recursive: true });
  const stem = `bench-${mode}-${report.date.replace(/[:.]/g, '-')}`;
  await writeFile(join(out, `${stem}.md`), `${markdown}\n`);
  await writeFile(join(out, `${stem}.json`), `${JSON.stringify({ ...report, raw: { fleet, single, many, shared } }, null, 2)}\n`);
  console.log(markdown);
  log(`written to bench-results/${stem}.md and .json`);
}

main().catch((error: unknown) => {
  if (error instanceof BenchUsageError) {
    console.error(`m365-status bench: ${error.message}\n\n${usage}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
