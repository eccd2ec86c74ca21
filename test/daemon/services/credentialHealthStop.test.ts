import assert from 'node:assert/strict';
import { systemClock } from '../../../daemon/clock';
import type { ErrorSinks } from '../../../daemon/errors/handleError';
import { createLogger } from '../../../daemon/logging/logger';
import { CredentialHealthService } from '../../../daemon/services/credentialHealthService';
import { TenantConnections } from '../../../daemon/services/tenantConnections';
import type { StoredTenant } from '../../../daemon/store/storeTypes';
import { SimHarness } from '../../support/simHarness';
import { RefreshTaskParts } from '../tasks/fixtures/refreshTaskParts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('services: credential health when the daemon stops', function () {
  this.timeout(60_000);
  let sim: SimHarness;
  /** Token requests answered, by simulator tenant: each credential check asks one. */
  const tokenRequests = new Map<string, number>();
  const opened: RefreshTaskParts[] = [];

  before(async () => {
    sim = await SimHarness.start({
      observe: ({ path, tenantId }) => {
        if (tenantId !== null && path.endsWith('/oauth2/v2.0/token')) tokenRequests.set(tenantId, (tokenRequests.get(tenantId) ?? 0) + 1);
      },
    });
  });
  after(async () => {
    for (const parts of opened) await parts.close();
    await sim.stop();
  });

  /** A store and vault on real files holding `count` simulator tenants, each answered after `latencyMs`. */
  async function tenantsAnsweringAfter(count: number, latencyMs: number) {
    const parts = await RefreshTaskParts.open(sim);
    opened.push(parts);
    const tenants: Array<{ stored: StoredTenant; simId: string }> = [];
    for (let i = 0; i < count; i++) {
      const simTenant = await sim.createTenant({ users: 1 });
      await sim.control('PUT', `/tenants/${simTenant.id}/faults`, { latencyMs });
      tenants.push({ stored: await parts.addTenant(simTenant.id, simTenant.app.appId, simTenant.app.secret), simId: simTenant.id });
    }
    const lines: Array<Record<string, unknown>> = [];
    const stopping = new AbortController();
    const sinks: ErrorSinks = {
      logger: createLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>), level: 'debug' }),
      systemLog: parts.store,
      stopping: stopping.signal,
    };
    const health = new CredentialHealthService(parts.store, new TenantConnections(parts.vault, sim.endpoints, sim.dispatcher, 0), parts.status, systemClock, sinks);
    const recorded = async () => (await parts.store.listTenants()).filter((tenant) => tenant.credentialHealth !== null).map((tenant) => tenant.id);
    const probed = () => tenants.filter((tenant) => (tokenRequests.get(tenant.simId) ?? 0) > 0).map((tenant) => tenant.stored.id);
    return { parts, tenants, lines, stopping, health, recorded, probed };
  }

  async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > 20_000) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  it('ends a running check after the tenant it is checking, recording that one, and checks no tenant after', async () => {
    const { parts, tenants, lines, stopping, health, recorded, probed } = await tenantsAnsweringAfter(6, 150);
    health.start();
    await until(async () => (await recorded()).length >= 1, 'the first tenant checked');
    stopping.abort();
    await health.stop(10_000);
    const atStop = await recorded();
    // Long enough for two more checks (a token and a Graph request each, 150 ms apiece) had it gone on.
    await sleep(1_000);
    assert.ok(atStop.length >= 1 && atStop.length < tenants.length, `checked ${atStop.length} of ${tenants.length}`);
    assert.deepEqual(probed(), atStop, 'every tenant tried was recorded, and none tried after the stop');
    assert.deepEqual(await recorded(), atStop);
    await parts.store.close();
    assert.deepEqual(lines.filter((line) => line['level'] === 'error' || line['level'] === 'warn'), []);
  });

  it('lets a check that outlives the bound end on the closed store at debug, not as an error', async () => {
    const { parts, tenants, lines, stopping, health, recorded } = await tenantsAnsweringAfter(1, 1_500);
    const [hung] = tenants;
    health.start();
    await sleep(200);
    stopping.abort();
    const asked = Date.now();
    await health.stop(100);
    assert.ok(Date.now() - asked < 1_000, 'the stop waited no longer than its bound');
    await parts.store.close();
    await until(() => lines.some((line) => line['code'] === 'STORE_CLOSED'), 'the check to meet the closed store');
    assert.deepEqual(
      lines.filter((line) => line['code'] === 'STORE_CLOSED').map((line) => [line['level'], line['source'], line['tenantId']]),
      [['debug', 'credential-health', hung?.stored.id]],
    );
    assert.deepEqual(lines.filter((line) => line['level'] === 'error' || line['level'] === 'warn'), []);
    assert.deepEqual(await recorded(), []);
  });

  it('starts no check when stopped before the first round it waits for has ended', async () => {
    const { tenants, lines, stopping, health, probed } = await tenantsAnsweringAfter(2, 0);
    let firstRoundEnds: () => void = () => undefined;
    health.start(new Promise<void>((resolve) => (firstRoundEnds = resolve)));
    stopping.abort();
    await health.stop(10_000);
    firstRoundEnds();
    await sleep(500);
    assert.deepEqual(probed(), [], `${tenants.length} tenants, none checked`);
    assert.deepEqual(lines, []);
  });
});
