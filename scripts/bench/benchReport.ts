import { cpus, totalmem } from 'node:os';
import type { SideFigures, SharedResult } from './sharedPhase';

export type Verdict = 'PASS' | 'MISS' | 'not measured';

/** One row of the targets table. */
export interface TargetRow {
  row: string;
  target: string;
  measured: string;
  verdict: Verdict;
  /** Why it was not measured, or at what scale it was when that is not the row's own. */
  note: string;
}

export interface ScalePoint {
  label: string;
  tenants: number;
  users: number;
  syncSeconds: number;
  peakRssMiB: number;
  storeMiB: number;
  /** How much the data directory grew for one outside change, net of a quiet window as long; null when not measured. */
  bytesPerChange: number | null;
}

export interface ComparisonSide {
  name: string;
  tenants: number;
  changes: number;
  detected: number;
  p50Seconds: number;
  p95Seconds: number;
  maxSeconds: number;
  requestsPerTenantHour: number;
  bytesPerTenantHour: number;
}

export interface Comparison {
  timeScale: number;
  note: string;
  baseline: ComparisonSide;
  product: ComparisonSide;
}

export interface BenchReport {
  mode: 'quick' | 'full';
  date: string;
  machine: { cores: number; cpuModel: string; memoryMiB: number; node: string; platform: string };
  durationSeconds: number;
  comparison: Comparison | null;
  /** Three daemons on one PostgreSQL beside one local daemon, on the same fleet; null when not run. */
  shared: SharedResult | null;
  rows: TargetRow[];
  scale: ScalePoint[];
  growth: string[];
}

export function machine(): BenchReport['machine'] {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const mib = (bytes: number): number => bytes / 1024 / 1024;

export function verdict(passed: boolean): Verdict {
  return passed ? 'PASS' : 'MISS';
}

export function notMeasured(row: string, target: string, why: string): TargetRow {
  return { row, target, measured: '—', verdict: 'not measured', note: why };
}

const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const cell = (text: string) => text.replace(/\|/g, '\\|');

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `# m365-status performance report (${report.mode} mode)`,
    '',
    `${report.date} · ${m.cores} cores (${m.cpuModel}) · ${Math.round(m.memoryMiB / 1024)} GiB · Node ${m.node} · ${m.platform} · ran ${fixed(report.durationSeconds / 60)} min`,
    '',
    '## Targets',
    '',
    '| row | target | measured | verdict | note |',
    '| --- | --- | --- | --- | --- |',
    ...report.rows.map((r) => `| ${cell(r.row)} | ${cell(r.target)} | ${cell(r.measured)} | ${r.verdict} | ${cell(r.note)} |`),
    '',
  ];
  const c = report.comparison;
  if (c) {
    const side = (s: ComparisonSide) =>
      `| ${s.name} | ${s.tenants} | ${s.detected}/${s.changes} | ${fixed(s.p50Seconds)} | ${fixed(s.p95Seconds)} | ${fixed(s.maxSeconds)} | ${fixed(s.requestsPerTenantHour, 0)} | ${fixed(mib(s.bytesPerTenantHour), 2)} |`;
    const ratio = (a: number, b: number) => (b > 0 ? `${fixed(a / b, 2)}×` : '—');
    lines.push(
      '## Baseline side by side',
      '',
      `Time scale ${c.timeScale}×: ${c.note}`,
      '',
      '| side | tenants | changes detected | p50 s | p95 s | max s | Graph requests / tenant-hour | MiB served / tenant-hour |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      side(c.baseline),
      side(c.product),
      `| baseline ÷ product | | | ${ratio(c.baseline.p50Seconds, c.product.p50Seconds)} | ${ratio(c.baseline.p95Seconds, c.product.p95Seconds)} | ${ratio(c.baseline.maxSeconds, c.product.maxSeconds)} | ${ratio(c.baseline.requestsPerTenantHour, c.product.requestsPerTenantHour)} | ${ratio(c.baseline.bytesPerTenantHour, c.product.bytesPerTenantHour)} |`,
      '',
    );
  }
  const shared = report.shared;
  if (shared) {
    const perDaemon = (side: SideFigures, pick: (d: SideFigures['daemons'][number]) => string) => side.daemons.map(pick).join(' / ');
    const side = (name: string, s: SideFigures, store: string) =>
      `| ${name} | ${s.daemons.length} | ${fixed(s.syncSeconds)} | ${fixed(s.roundsPerSecond)} of ${fixed(s.demandedRoundsPerSecond)} | ${store} | ${perDaemon(s, (d) => String(d.tenants))} | ${perDaemon(s, (d) => String(d.rounds))} | ${perDaemon(s, (d) => `${fixed(d.cpuShare * 100)}%`)} | ${perDaemon(s, (d) => fixed(d.cpuMsPerRound, 2))} | ${perDaemon(s, (d) => fixed(mib(d.rssBytes), 0))} | ${perDaemon(s, (d) => fixed(mib(d.peakRssBytes), 0))} |`;
    const atScale = shared.tenants >= 1000 ? '' : ` Measured at ${shared.tenants.toLocaleString('en')} tenants, below the row's 1,000 (run --full).`;
    lines.push(
      '## Shared mode beside one local daemon',
      '',
      `${shared.tenants.toLocaleString('en')} tenants × ${shared.usersPerTenant} users at a ${shared.intervalSeconds} s interval: three daemon processes on one PostgreSQL started for the run, then one local daemon on the same simulated fleet, one after the other.${atScale} Sync time runs from the first registration (eight at a time) until every tenant holds all its users; rounds per second are the delta requests the simulator answered over ${fixed(shared.windowSeconds, 0)} s of quiet rounds, against what the interval asks for; CPU, CPU per round and RSS are per daemon process over that window (VmRSS at its end, VmHWM for the peak). PostgreSQL's own CPU over the window (server and backends): ${fixed(shared.shared.postgresCpuShare * 100)}% of a core.`,
      '',
      `Tenants synced by more than one daemon in the window: ${shared.shared.tenantsSyncedByTwo}.`,
      '',
      '| side | daemons | sync s | rounds/s (of asked) | store | tenants per daemon | rounds per daemon | CPU, % of a core | CPU ms per round | RSS MiB | peak RSS MiB |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      side('shared (PostgreSQL)', shared.shared, `${fixed(mib(shared.shared.storeBytes))} MiB (pg_database_size)`),
      side('local (files)', shared.local, `${fixed(mib(shared.local.storeBytes))} MiB (data directory)`),
      '',
    );
  }
  if (report.scale.length > 0) {
    lines.push(
      '## Scale curve',
      '',
      'Sync time runs from the first registration until every tenant is synced, so for 100 tenants it includes registering them one after another, each with its credential check.',
      '',
      '| point | tenants | users | sync s | peak RSS MiB | store on disk MiB | bytes written per change |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...report.scale.map((p) => `| ${p.label} | ${p.tenants} | ${p.users} | ${fixed(p.syncSeconds)} | ${fixed(p.peakRssMiB, 0)} | ${fixed(p.storeMiB)} | ${p.bytesPerChange === null ? '—' : String(Math.round(p.bytesPerChange))} |`),
      '',
      ...report.growth.map((g) => `- ${g}`),
      '',
    );
  }
  return lines.join('\n');
}
