import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@microsoft/microsoft-graph-client';
import { createHttpDispatcher } from '../../daemon/microsoft/httpDispatcher';
import { createTenantGraphClient } from '../../daemon/microsoft/tenantGraphClient';
import { TenantTokenSource } from '../../daemon/microsoft/tenantTokenSource';
import { BenchDaemon } from './benchDaemon';
import { BenchSim, type BenchSimTenant, type SimCounters } from './benchSim';
import { percentile, type Comparison, type ComparisonSide } from './benchReport';

export interface BaselineOptions {
  dir: string;
  /** Tenants on each side. */
  tenants: number;
  usersPerTenant: number;
  /** Outside changes on each side. */
  changes: number;
  /** Seconds of the scaled run over which the changes fall. */
  changeWindowSeconds: number;
  log: (line: string) => void;
}

/** The daemon's default interval, and the full poll hosted portals run. */
const productIntervalSeconds = 60;
const baselineIntervalSeconds = 15 * 60;
/** The shortest interval the daemon accepts, so the scale that keeps the run short. */
const scaledProductIntervalSeconds = 5;
const timeScale = productIntervalSeconds / scaledProductIntervalSeconds;
const listPath = '/users?$select=id,userPrincipalName,displayName,accountEnabled&$top=999';

interface OutsideChange {
  side: 'baseline' | 'product';
  tenant: number;
  userId: string;
  accountEnabled: boolean;
  /** Wall-clock ms of the PATCH; filled when sent. */
  at: number;
  detectedAt?: number;
}

/**
 * The baseline (a full list of every tenant's users every 15 minutes) and the product (the daemon at its
 * 60 s interval with `/users/delta`) side by side against one simulator, on a clock run `timeScale` times
 * faster: each side gets the same number of outside changes at random moments on tenants of its own, so
 * the simulator's per-tenant counters tell their Graph traffic apart.
 */
export async function runBaseline(options: BaselineOptions): Promise<Comparison> {
  const { dir, tenants, usersPerTenant, changes, changeWindowSeconds, log } = options;
  const sim = await BenchSim.start(join(dir, 'sim'));
  const daemon = new BenchDaemon({ dataDir: join(dir, 'daemon'), simUrl: sim.url, identityUrl: sim.identityUrl, caFile: sim.caFile, pollInterval: `${scaledProductIntervalSeconds}s` });
  const endpoints = { authorityHost: sim.identityUrl, graphHost: sim.url, caPem: await readFile(sim.caFile, 'utf8') };
  const dispatcher = createHttpDispatcher(endpoints);
  // The baseline lists until this moment: whole periods, so each tenant has listed as often as the others.
  let stopAt = Number.POSITIVE_INFINITY;
  try {
    const baselineTenants: BenchSimTenant[] = [];
    const productTenants: BenchSimTenant[] = [];
    for (let i = 0; i < tenants; i++) baselineTenants.push(await sim.addTenant(usersPerTenant, 1000 + i));
    for (let i = 0; i < tenants; i++) productTenants.push(await sim.addTenant(usersPerTenant, 2000 + i));

    await daemon.start();
    const productIds: string[] = [];
    for (const t of productTenants) productIds.push(await daemon.register(t));
    await daemon.untilSynced(new Map(productIds.map((id) => [id, usersPerTenant])));
    await daemon.follow();

    const clients: Client[] = baselineTenants.map((t) =>
      createTenantGraphClient(
        new TenantTokenSource({ tenant: t.simId, clientId: t.appId, credential: { kind: 'secret', clientSecret: t.secret } }, endpoints, dispatcher),
        endpoints,
        dispatcher,
        { maxRetries: 3, delaySeconds: 1 },
      ),
    );
    const fullList = async (client: Client): Promise<Map<string, boolean>> => {
      const users = new Map<string, boolean>();
      let page = (await client.api(listPath).get()) as { value: Array<{ id: string; accountEnabled: boolean }>; '@odata.nextLink'?: string };
      for (;;) {
        for (const u of page.value) users.set(u.id, u.accountEnabled);
        const next = page['@odata.nextLink'];
        if (!next) return users;
        page = (await client.api(next).get()) as typeof page;
      }
    };
    // Who is in each tenant, and in what state, before the clock starts.
    const baselineUsers = await Promise.all(clients.map(fullList));
    const productUsers = await Promise.all(
      productIds.map(async (id) => new Map((await daemon.users(id, 'limit=1000')).users.map((u) => [u.id, u.accountEnabled]))),
    );

    const planned: OutsideChange[] = [];
    const plan = (side: OutsideChange['side'], users: Array<Map<string, boolean>>) => {
      const used = new Set<string>();
      while (planned.filter((c) => c.side === side).length < changes) {
        const tenant = Math.floor(Math.random() * users.length);
        const entries = [...(users[tenant] ?? new Map<string, boolean>()).entries()];
        const [userId, enabled] = entries[Math.floor(Math.random() * entries.length)] ?? ['', true];
        if (!userId || used.has(userId)) continue;
        used.add(userId);
        planned.push({ side, tenant, userId, accountEnabled: !enabled, at: Math.random() * changeWindowSeconds * 1000 });
      }
    };
    plan('baseline', baselineUsers);
    plan('product', productUsers);
    planned.sort((a, b) => a.at - b.at);

    for (const t of [...baselineTenants, ...productTenants]) await sim.resetCounters(t.simId);
    const t0 = Date.now();
    const periodMs = (baselineIntervalSeconds / timeScale) * 1000;
    // Each tenant's full list at its own phase of the period, as a portal spreads its polls.
    const baselineLoops = clients.map(async (client, i) => {
      let next = t0 + (i * periodMs) / clients.length;
      while (next < stopAt) {
        await sleep(Math.max(0, next - Date.now()));
        if (next >= stopAt) return;
        const users = await fullList(client);
        const at = Date.now();
        for (const change of planned) {
          if (change.side === 'baseline' && change.tenant === i && change.detectedAt === undefined && change.at > 0 && change.at <= at && users.get(change.userId) === change.accountEnabled) {
            change.detectedAt = at;
          }
        }
        next += periodMs;
      }
    });

    for (const change of planned) {
      const offset = change.at;
      await sleep(Math.max(0, t0 + offset - Date.now()));
      const simId = (change.side === 'baseline' ? baselineTenants : productTenants)[change.tenant]?.simId ?? '';
      change.at = Date.now();
      await sim.setAccountEnabled(simId, change.userId, change.accountEnabled);
    }
    const deadline = Date.now() + periodMs + 30_000;
    const pending = () =>
      planned.filter((c) => {
        if (c.side === 'product' && c.detectedAt === undefined) {
          const at = daemon.detectedAt(productIds[c.tenant] ?? '', c.userId, c.accountEnabled, c.at);
          if (at !== undefined) c.detectedAt = at;
        }
        return c.detectedAt === undefined;
      });
    while (pending().length > 0 && Date.now() < deadline) await sleep(200);
    const periods = Math.ceil((Date.now() - t0) / periodMs);
    stopAt = t0 + periods * periodMs;
    await sleep(Math.max(0, stopAt - Date.now()));
    const productCounters = await Promise.all(productTenants.map((t) => sim.counters(t.simId)));
    await Promise.all(baselineLoops);
    const baselineCounters = await Promise.all(baselineTenants.map((t) => sim.counters(t.simId)));
    const elapsedHours = ((periods * periodMs) / 1000 / 3600) * timeScale;

    const side = (name: string, which: OutsideChange['side'], counters: SimCounters[]): ComparisonSide => {
      const ofSide = planned.filter((c) => c.side === which);
      const latencies = ofSide.flatMap((c) => (c.detectedAt === undefined ? [] : [((c.detectedAt - c.at) / 1000) * timeScale]));
      return {
        name,
        tenants: counters.length,
        changes: ofSide.length,
        detected: latencies.length,
        p50Seconds: percentile(latencies, 50),
        p95Seconds: percentile(latencies, 95),
        maxSeconds: latencies.length ? Math.max(...latencies) : Number.NaN,
        requestsPerTenantHour: counters.reduce((sum, c) => sum + c.graphRequests, 0) / counters.length / elapsedHours,
        bytesPerTenantHour: counters.reduce((sum, c) => sum + c.bytesServed, 0) / counters.length / elapsedHours,
      };
    };
    const comparison: Comparison = {
      timeScale,
      note:
        `the daemon polled every ${scaledProductIntervalSeconds} s (its default ${productIntervalSeconds} s) and the baseline listed every tenant every ${periodMs / 1000} s (15 min); ` +
        `every latency and per-hour figure is given in unscaled time (measured × ${timeScale}), which also multiplies the processing time of both sides. ` +
        `${tenants} tenants × ${usersPerTenant} users each side, ${changes} outside changes each over ${changeWindowSeconds} s of the run (${((changeWindowSeconds * timeScale) / 60).toFixed(0)} min unscaled).`,
      baseline: side('baseline: full list every 15 min', 'baseline', baselineCounters),
      product: side('product: daemon, /users/delta every 60 s', 'product', productCounters),
    };
    log(`  baseline p95 ${comparison.baseline.p95Seconds.toFixed(0)} s, product p95 ${comparison.product.p95Seconds.toFixed(0)} s (unscaled)`);
    return comparison;
  } finally {
    stopAt = 0;
    await daemon.stop();
    await dispatcher.close();
    await sim.stop();
  }
}
