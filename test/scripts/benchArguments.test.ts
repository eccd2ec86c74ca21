import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `npm run bench` with these arguments, stopped before it builds or starts anything when they are wrong. */
function bench(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench/main.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('npm run bench: its command line', () => {
  it('lists its options with --help and runs nothing', () => {
    const run = bench('--help');
    assert.equal(run.status, 0, run.stderr);
    for (const option of ['--quick', '--full', '--only PHASE', '--fleet-users N', '--single-tenant-users N', '--cpu-prof-dir DIR']) {
      assert.match(run.stdout, new RegExp(option), `--help does not list ${option}`);
    }
    assert.doesNotMatch(run.stderr, /bench, (quick|full) mode/);
  });

  it('names an unknown option in one line with the usage, not a stack trace, and exits 2', () => {
    const run = bench('--fleet', '100');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^m365-status bench: Unknown option '--fleet'/);
    assert.match(run.stderr, /Usage: npm run bench/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'a stack trace was printed');
  });

  it('names a wrong value with what the option takes', () => {
    for (const [args, message] of [
      [['--only', 'fleets'], /--only takes one of fleet, single-tenant, baseline, many-tenants, shared, not "fleets"/],
      [['--fleet-users', '250'], /--fleet-users takes a multiple of 100, not "250"/],
      [['--single-tenant-users', 'many'], /--single-tenant-users takes a whole number of users, not "many"/],
      [['--quick', '--full'], /choose one of --quick and --full/],
    ] as const) {
      const run = bench(...args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });
});
