import { SeededRandom } from '../../sim/seededRandom';
import { chaosRound, type ChaosReport } from './chaosRound';
import { EventClients, type EventClientsReport } from './eventClients';
import { hostileInputs, type HostileInputsReport } from './hostileInputs';
import { killLoop, type KillLoopReport } from './killLoop';
import { SoakWorld } from './soakWorld';

export interface SoakOptions {
  /** kill -9 rounds during locks, unlocks and refreshes. */
  kills: number;
  /** How long Graph misbehaves in the chaos phase. */
  chaosMs: number;
  tenants: number;
  usersPerTenant: number;
  neverReadingClients: number;
  slowClients: number;
  convergeTimeoutMs: number;
  seed: number;
  /** Progress lines, for the long form. */
  log?: (line: string) => void;
}

export interface SoakReport {
  killLoop: KillLoopReport;
  chaos: ChaosReport;
  eventClients: EventClientsReport & { rssBeforeBytes: number | undefined; rssAfterBytes: number | undefined };
  hostile: HostileInputsReport;
  /** Why the run failed; empty when it passed. */
  problems: string[];
}

/**
 * The soak: the daemon as a real process against the simulator, through kill -9 loops, Graph chaos with
 * outside changes and misbehaving event-stream clients, then hostile input on every route.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const random = new SeededRandom(options.seed);
  const world = await SoakWorld.start({ seed: options.seed });
  try {
    for (let i = 0; i < options.tenants; i++) await world.addTenant(options.usersPerTenant);
    for (const tenant of world.tenants) await world.untilSynced(tenant);
    const [first] = world.tenants;
    if (!first) throw new Error('the soak needs at least one tenant');

    log(`kill -9 loop: ${options.kills} kills`);
    const kills = await killLoop(world, first, { kills: options.kills, random });

    log(`chaos: ${options.chaosMs} ms on ${world.tenants.length} tenants, with ${options.neverReadingClients} never-reading and ${options.slowClients} slow event-stream clients`);
    const rssBeforeBytes = await world.daemon.rssBytes();
    const clients = new EventClients(world.daemon.url, world.daemon.token());
    clients.open({ neverReading: options.neverReadingClients, slow: options.slowClients });
    const chaos = await chaosRound(world, world.tenants, { durationMs: options.chaosMs, random, convergeTimeoutMs: options.convergeTimeoutMs });
    const rssAfterBytes = await world.daemon.rssBytes();
    const eventClients = { ...clients.close(), rssBeforeBytes, rssAfterBytes };

    log('hostile inputs on every route');
    const target = [...(await world.daemonUsers(first)).values()].find((u) => u.state === 'enabled');
    const hostile = await hostileInputs(world, first, target?.id ?? 'no-enabled-user');

    const problems: string[] = [];
    if (kills.lost.length > 0) problems.push(`${kills.lost.length} acknowledged actions lost`, ...kills.lost.slice(0, 20));
    if (!chaos.converged) problems.push(`the daemon did not converge with the simulator (${chaos.divergent.length} users differ)`, ...chaos.divergent.slice(0, 20));
    const chaos5xx = Object.entries(chaos.statuses).filter(([status]) => Number(status) >= 500);
    if (chaos5xx.length > 0) problems.push(`the daemon answered 5xx during chaos: ${JSON.stringify(Object.fromEntries(chaos5xx))}`);
    if (hostile.failures.length > 0) problems.push(`${hostile.failures.length} hostile inputs answered 5xx or killed the daemon`, ...hostile.failures.slice(0, 20));
    if (hostile.changed.length > 0) problems.push(`hostile inputs changed the store: ${hostile.changed.join(', ')}`);
    return { killLoop: kills, chaos, eventClients, hostile, problems };
  } finally {
    await world.stop();
  }
}
