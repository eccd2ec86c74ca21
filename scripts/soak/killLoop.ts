import { setTimeout as sleep } from 'node:timers/promises';
import type { LockOutcome, RefreshOutcome, TaskListEntry } from '../../protocol/daemonApi';
import type { SeededRandom } from '../../sim/seededRandom';
import type { SoakTenant, SoakWorld } from './soakWorld';

export interface KillLoopReport {
  kills: number;
  acknowledged: { locks: number; unlocks: number; refreshes: number };
  /** Requests cut by a kill: their outcome is unknown, so their users are no longer checked. */
  cut: number;
  /** Lock and unlock requests answered with an error (their users are no longer checked either). */
  refused: number;
  /** Acknowledged actions found not true after a restart, each described. */
  lost: string[];
}

type Expectation = { action: 'lock' | 'unlock'; enabled: boolean };

/**
 * Locks, unlocks and refreshes through the daemon's API while Graph is slow, then `kill -9` at a random
 * moment, start the daemon again on the same data directory, and check that everything the API had
 * acknowledged (answered 200/202) is still true in the daemon's store and in the simulator.
 */
export async function killLoop(world: SoakWorld, tenant: SoakTenant, options: { kills: number; random: SeededRandom; workers?: number }): Promise<KillLoopReport> {
  const report: KillLoopReport = { kills: 0, acknowledged: { locks: 0, unlocks: 0, refreshes: 0 }, cut: 0, refused: 0, lost: [] };
  const expected = new Map<string, Expectation>();
  /** Users with a request whose answer never came: the daemon may or may not have acted. */
  const unknown = new Set<string>();
  const busy = new Set<string>();
  await world.untilSynced(tenant);
  const initial = await world.daemonUsers(tenant);
  const fresh = [...initial.values()].filter((u) => u.state === 'enabled').map((u) => u.id);

  for (let cycle = 0; cycle < options.kills; cycle++) {
    const refreshes: string[] = [];
    let killed = false;
    await world.control('PUT', `/tenants/${tenant.simId}/faults`, { latencyMs: 20 + Math.floor(options.random.next() * 100) });
    const worker = async () => {
      while (!killed) {
        const roll = options.random.next();
        const lockedByUs = [...expected].filter(([id, e]) => e.action === 'lock' && !busy.has(id)).map(([id]) => id);
        let target: string | undefined;
        let request: { path: string; body?: unknown; action: 'lock' | 'unlock' | 'refresh' };
        if (roll < 0.15) {
          request = { path: `/v1/tenants/${tenant.id}/refresh`, action: 'refresh' };
        } else if (roll < 0.45 && lockedByUs.length > 0) {
          target = lockedByUs[Math.floor(options.random.next() * lockedByUs.length)];
          request = { path: `/v1/tenants/${tenant.id}/users/${target}/unlock`, body: {}, action: 'unlock' };
        } else {
          target = fresh.shift();
          if (!target) return;
          request = { path: `/v1/tenants/${tenant.id}/users/${target}/lock`, body: { revokeSessions: options.random.next() < 0.5 }, action: 'lock' };
        }
        if (target) busy.add(target);
        try {
          const answer = await world.daemon.api<LockOutcome | RefreshOutcome>('POST', request.path, request.body);
          if (request.action === 'refresh') {
            if (answer.status === 202 || answer.status === 200) {
              report.acknowledged.refreshes++;
              if ('activity' in answer.body && answer.body.activity) refreshes.push(answer.body.activity.id);
            }
          } else if (answer.status === 200 && target) {
            report.acknowledged[request.action === 'lock' ? 'locks' : 'unlocks']++;
            expected.set(target, { action: request.action, enabled: request.action === 'unlock' });
          } else if (target) {
            // Refused or failed: whether Graph was changed before the answer is not known, so stop checking the user.
            report.refused++;
            unknown.add(target);
            expected.delete(target);
          }
        } catch {
          report.cut++;
          if (target) {
            unknown.add(target);
            expected.delete(target);
          }
        } finally {
          if (target && !unknown.has(target)) busy.delete(target);
        }
      }
    };
    const workers = Array.from({ length: options.workers ?? 3 }, () => worker());
    await sleep(800 + Math.floor(options.random.next() * 2000));
    killed = true;
    await world.daemon.kill9();
    report.kills++;
    await Promise.all(workers);
    await world.control('PUT', `/tenants/${tenant.simId}/faults`, { latencyMs: 0 });
    await world.daemon.start();
    report.lost.push(...(await checkAcknowledged(world, tenant, expected, refreshes, cycle)));
  }
  return report;
}

async function checkAcknowledged(
  world: SoakWorld,
  tenant: SoakTenant,
  expected: Map<string, Expectation>,
  refreshes: string[],
  cycle: number,
): Promise<string[]> {
  const lost: string[] = [];
  const inDaemon = await world.daemonUsers(tenant);
  const inSim = world.simUsers(tenant);
  for (const [id, expectation] of expected) {
    const user = inDaemon.get(id);
    const wantState = expectation.action === 'lock' ? 'locked' : undefined;
    if (!user || user.accountEnabled !== expectation.enabled || (wantState && user.state !== wantState) || (!wantState && user.state === 'locked')) {
      lost.push(`after kill ${cycle + 1}: the daemon's store lost the acknowledged ${expectation.action} of ${id} (${user ? `${user.state}, accountEnabled ${user.accountEnabled}` : 'no user'})`);
    }
    if (inSim.get(id) !== expectation.enabled) {
      lost.push(`after kill ${cycle + 1}: the simulator does not hold the acknowledged ${expectation.action} of ${id}`);
    }
  }
  if (refreshes.length > 0) {
    const tasks = await world.daemon.api<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?automated=true&tenantId=${tenant.id}&limit=1000`);
    const activities = new Set(tasks.body.entries.flatMap((e) => (e.type === 'activity' ? [e.activity.id] : [])));
    for (const id of refreshes) {
      if (!activities.has(id)) lost.push(`after kill ${cycle + 1}: the acknowledged refresh activity ${id} is gone`);
    }
  }
  return lost;
}
