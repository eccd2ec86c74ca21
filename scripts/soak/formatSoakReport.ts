import type { SoakReport } from './runSoak';

const mib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);

/** The soak's figures as an operator reads them. */
export function formatSoakReport(report: SoakReport): string {
  const { killLoop, chaos, eventClients, hostile } = report;
  return [
    `kills: ${killLoop.kills} (kill -9), acknowledged: ${killLoop.acknowledged.locks} locks, ${killLoop.acknowledged.unlocks} unlocks, ${killLoop.acknowledged.refreshes} refreshes; cut by a kill: ${killLoop.cut}; refused: ${killLoop.refused}; lost: ${killLoop.lost.length}`,
    `faults: ${chaos.faults} injected or throttled, ${chaos.outsideChanges} outside changes, ${chaos.refreshes} refreshes; converged: ${chaos.converged ? `yes, ${(chaos.msToConverge / 1000).toFixed(1)} s after the faults stopped` : `NO, ${chaos.divergent.length} users differ`}; daemon answers ${JSON.stringify(chaos.statuses)}`,
    `event-stream clients: ${eventClients.neverReading} never reading, ${eventClients.slow} slow (read ${eventClients.slowBytesRead} bytes); daemon RSS ${mib(eventClients.rssBeforeBytes)} before, ${mib(eventClients.rssAfterBytes)} after`,
    `bad inputs: ${hostile.sent}; 5xx or fatal: ${hostile.failures.length}; store changed: ${hostile.changed.length === 0 ? 'no' : hostile.changed.join(', ')}`,
    ...Object.entries(hostile.statuses).map(([category, statuses]) => `  ${category}: ${JSON.stringify(statuses)}`),
    report.problems.length === 0 ? 'soak passed' : `soak FAILED:\n  ${report.problems.join('\n  ')}`,
  ].join('\n');
}
