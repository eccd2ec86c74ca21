// The soak suite, long form: `npm run soak -- --minutes 10 --kills 50`. Not in CI (a short form runs
// there as test/soak/soak.test.ts). Prints what it ran and exits non-zero on any lost acknowledged action,
// any divergence once faults stop, or any 5xx.
import { parseArgs } from 'node:util';
import { runSoak } from './runSoak';
import { formatSoakReport } from './formatSoakReport';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    kills: { type: 'string', default: '20' },
    tenants: { type: 'string', default: '3' },
    users: { type: 'string', default: '300' },
    seed: { type: 'string', default: '7' },
  },
  strict: true,
});

function positive(name: string, raw: string | undefined, integer: boolean): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    process.stderr.write(`--${name}: expected a positive ${integer ? 'whole ' : ''}number, got "${raw ?? ''}"\n`);
    process.exit(2);
  }
  return value;
}

const minutes = positive('minutes', values.minutes, false);
const report = await runSoak({
  kills: positive('kills', values.kills, true),
  chaosMs: Math.round(minutes * 60_000),
  tenants: positive('tenants', values.tenants, true),
  usersPerTenant: positive('users', values.users, true),
  neverReadingClients: 20,
  slowClients: 20,
  convergeTimeoutMs: 120_000,
  seed: positive('seed', values.seed, true),
  log: (line) => process.stdout.write(`soak: ${line}\n`),
});
process.stdout.write(`${formatSoakReport(report)}\n`);
process.exit(report.problems.length === 0 ? 0 : 1);
