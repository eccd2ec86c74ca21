import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runSoak, type SoakReport } from '../../scripts/soak/runSoak';
import { formatSoakReport } from '../../scripts/soak/formatSoakReport';

const daemonBuild = fileURLToPath(new URL('../../dist/daemon.cjs', import.meta.url));

// The soak's short form: the built daemon as a real process, a few kill -9 rounds, a short chaos phase,
// misbehaving event-stream clients and every hostile input. `npm run soak` is the long form.
describe('soak (short form): the daemon process through kill -9, Graph chaos and hostile input', function () {
  this.timeout(120_000);
  let report: SoakReport;

  before(async function () {
    await access(daemonBuild).catch(() => {
      throw new Error('dist/daemon.cjs is missing: run `node scripts/build.mjs daemon` (npm run test:unit builds it)');
    });
    report = await runSoak({
      kills: 3,
      chaosMs: 12_000,
      tenants: 3,
      usersPerTenant: 60,
      neverReadingClients: 10,
      slowClients: 10,
      convergeTimeoutMs: 30_000,
      seed: 11,
    });
    process.stdout.write(`${formatSoakReport(report).replace(/^/gm, '      ')}\n`);
  });

  it('loses no action the API acknowledged, across kill -9 during locks, unlocks and refreshes', () => {
    assert.equal(report.killLoop.kills, 3);
    assert.ok(report.killLoop.acknowledged.locks > 0, 'some locks were acknowledged, so there was something to lose');
    assert.deepEqual(report.killLoop.lost, []);
  });

  it('converges with the simulator once Graph stops failing, after faults and outside changes on several tenants', () => {
    assert.ok(report.chaos.faults > 0, 'faults were injected');
    assert.ok(report.chaos.outsideChanges > 0, 'users were changed outside the product');
    assert.deepEqual(report.chaos.divergent, []);
    assert.equal(report.chaos.converged, true);
    assert.deepEqual(Object.keys(report.chaos.statuses).filter((s) => Number(s) >= 500), []);
  });

  it('keeps serving while event-stream clients never read or read slowly', () => {
    assert.equal(report.eventClients.neverReading, 10);
    assert.ok(report.eventClients.slowBytesRead > 0, 'the slow clients got events');
  });

  it('answers hostile input on every route without a 5xx and changes nothing in the store', () => {
    assert.ok(report.hostile.sent > 150);
    assert.deepEqual(report.hostile.failures, []);
    assert.deepEqual(report.hostile.changed, []);
  });

  it('passes overall', () => {
    assert.deepEqual(report.problems, []);
  });
});
