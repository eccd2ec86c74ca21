import { setTimeout as sleep } from 'node:timers/promises';
import type { SeededRandom } from '../../sim/seededRandom';
import type { SoakTenant, SoakWorld } from './soakWorld';

export interface ChaosReport {
  /** Faults the simulator injected (latency not counted) plus requests it throttled. */
  faults: number;
  outsideChanges: number;
  refreshes: number;
  /** Daemon answers during the chaos by status. */
  statuses: Record<string, number>;
  converged: boolean;
  msToConverge: number;
  /** Users whose accountEnabled differs between the daemon and the simulator when the wait ended. */
  divergent: string[];
}

const faultPlans: Array<{ faults: Record<string, unknown>; throttling?: Record<string, unknown> }> = [
  { faults: { latencyMs: 150, errorRate: 0.3, errorStatus: 503 } },
  { faults: { resetRate: 0.25, malformedRate: 0.25 } },
  { faults: { errorRate: 0.2, errorStatus: 500, latencyMs: 40 }, throttling: { enabled: true, resourceUnitsPer10s: 6 } },
  { faults: { errorRate: 0.15, errorStatus: 504, malformedRate: 0.1, resetRate: 0.1 } },
];

/**
 * Graph misbehaving on several tenants at once (latency, 5xx, resets, cut bodies, throttling) while
 * users are changed outside the product; once the faults stop, the daemon must come to hold every user's
 * sign-in state as the simulator does.
 */
export async function chaosRound(
  world: SoakWorld,
  tenants: SoakTenant[],
  options: { durationMs: number; random: SeededRandom; convergeTimeoutMs: number },
): Promise<ChaosReport> {
  const report: ChaosReport = { faults: 0, outsideChanges: 0, refreshes: 0, statuses: {}, converged: false, msToConverge: 0, divergent: [] };
  const count = (status: number) => (report.statuses[status] = (report.statuses[status] ?? 0) + 1);
  for (const tenant of tenants) await world.control('DELETE', `/tenants/${tenant.simId}/counters`);
  const started = Date.now();
  let plan = 0;
  let lastPlanAt = 0;
  while (Date.now() - started < options.durationMs) {
    if (Date.now() - lastPlanAt >= 2000) {
      for (const [i, tenant] of tenants.entries()) {
        const { faults, throttling } = faultPlans[(plan + i) % faultPlans.length] ?? { faults: {} };
        await world.control('PUT', `/tenants/${tenant.simId}/faults`, { latencyMs: 0, errorRate: 0, resetRate: 0, malformedRate: 0, ...faults });
        await world.control('PUT', `/tenants/${tenant.simId}/throttling`, throttling ?? { enabled: true, resourceUnitsPer10s: null });
      }
      plan++;
      lastPlanAt = Date.now();
    }
    const tenant = tenants[Math.floor(options.random.next() * tenants.length)];
    if (!tenant) break;
    const users = [...world.simUsers(tenant)];
    const [id, enabled] = users[Math.floor(options.random.next() * users.length)] ?? [];
    if (id !== undefined) {
      const changed = await world.control('PATCH', `/tenants/${tenant.simId}/users/${id}`, { accountEnabled: !enabled });
      if (changed.status === 200) report.outsideChanges++;
    }
    if (options.random.next() < 0.5) {
      count((await world.daemon.api('POST', `/v1/tenants/${tenant.id}/refresh`)).status);
      report.refreshes++;
    }
    count((await world.daemon.api('GET', `/v1/tenants/${tenant.id}/users?limit=50`)).status);
    await sleep(100);
  }
  for (const tenant of tenants) {
    await world.control('PUT', `/tenants/${tenant.simId}/faults`, { latencyMs: 0, errorRate: 0, resetRate: 0, malformedRate: 0 });
    await world.control('PUT', `/tenants/${tenant.simId}/throttling`, { enabled: true, resourceUnitsPer10s: null });
    const counters = await world.control<{ faultsInjected: number; throttled: number }>('GET', `/tenants/${tenant.simId}/counters`);
    report.faults += counters.body.faultsInjected + counters.body.throttled;
  }

  const calm = Date.now();
  for (const tenant of tenants) count((await world.daemon.api('POST', `/v1/tenants/${tenant.id}/refresh`)).status);
  while (Date.now() - calm < options.convergeTimeoutMs) {
    report.divergent = await divergence(world, tenants);
    if (report.divergent.length === 0) {
      report.converged = true;
      break;
    }
    await sleep(500);
  }
  report.msToConverge = Date.now() - calm;
  return report;
}

async function divergence(world: SoakWorld, tenants: SoakTenant[]): Promise<string[]> {
  const divergent: string[] = [];
  for (const tenant of tenants) {
    const inDaemon = await world.daemonUsers(tenant);
    for (const [id, enabled] of world.simUsers(tenant)) {
      const user = inDaemon.get(id);
      if (!user || user.accountEnabled !== enabled) divergent.push(`${tenant.simId}/${id}: simulator ${enabled}, daemon ${user ? user.accountEnabled : 'missing'}`);
    }
  }
  return divergent;
}
