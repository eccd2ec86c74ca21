import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TenantView } from '../../protocol/daemonApi';
import { Daemon } from '../../daemon/daemon';
import { createLogger } from '../../daemon/logging/logger';
import { DaemonHarness } from '../support/daemonHarness';

describe('daemon restart: tokens asked for while the users load', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '1h' });
  });
  after(async () => harness.stop());

  async function tokenRequests(simId: string): Promise<number> {
    return (await harness.sim.control<{ tokenRequests: number }>('GET', `/tenants/${simId}/counters`)).body.tokenRequests;
  }

  it("asks every tenant its token and opens Graph's connections before its users are loaded, and its first round uses that token", async () => {
    const tenants = [await harness.registerTenant({ users: 30 }), await harness.registerTenant({ users: 30 }), await harness.registerTenant({ users: 30 })];
    for (const { id } of tenants) await harness.until(async () => (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body.asOf, 10_000, 'the first sync');
    await harness.daemon.stop();
    for (const { sim } of tenants) await harness.sim.control('DELETE', `/tenants/${sim.id}/counters`);

    // One tenant's users log becomes a pipe: reading it waits until the test writes it, so the store
    // cannot finish loading before then.
    const held = tenants[1]?.id ?? '';
    const logPath = join(harness.dataDir, 'users', `${held}.log`);
    const content = await readFile(logPath);
    await rm(logPath);
    execFileSync('mkfifo', ['-m', '600', logPath]);

    const restarting = Date.now();
    // Signing in on the identity platform's own port, as on Microsoft's own host: Graph's connections are apart.
    const config = DaemonHarness.configFor(harness.sim, harness.dataDir, harness.caFile, { pollIntervalMs: '1h', authorityHost: harness.sim.sim.identityUrl });
    const graphConnections = harness.sim.sim.connectionsAccepted.main;
    const starting = Daemon.start({ config, logger: createLogger({ write: () => undefined }), random: () => 0.5 });
    let started = false;
    void starting.then(() => (started = true), () => (started = true));
    await harness.until(async () => {
      const counts = await Promise.all(tenants.map(({ sim }) => tokenRequests(sim.id)));
      return counts.every((count) => count === 1);
    }, 20_000, 'a token request from every tenant');
    // One for each of the three tenants' first syncs (at most `--max-concurrent-syncs`). Read without failing
    // here: the users load waits for the pipe below.
    const openedBy = Date.now() + 5_000;
    while (harness.sim.sim.connectionsAccepted.main - graphConnections < 3 && Date.now() < openedBy) await new Promise((resolve) => setTimeout(resolve, 20));
    const graphOpenedDuringLoad = harness.sim.sim.connectionsAccepted.main - graphConnections;
    const startedDuringLoad = started;

    await writeFile(logPath, content);
    harness.daemon = await starting;
    assert.equal(startedDuringLoad, false, 'the daemon waited for the users');
    assert.ok(graphOpenedDuringLoad >= 3, `Graph's connections opened while the users loaded: ${graphOpenedDuringLoad}`);
    // The pipe is read; a regular file takes its place for the appends to come.
    await writeFile(`${logPath}.tmp`, content);
    await rename(`${logPath}.tmp`, logPath);

    for (const { id } of tenants) {
      const view = await harness.until(async () => {
        const tenant = (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body;
        const checked = (tenant.credentialHealth?.checkedAt ?? 0) >= restarting;
        return tenant.asOf !== null && tenant.asOf >= restarting && checked ? tenant : undefined;
      }, 20_000, 'the first round and the credential check after the restart');
      assert.equal(view.counts.total, 30);
    }
    // The one asked ahead, taken by the round, and the credential check's own fresh one after the round.
    assert.deepEqual(await Promise.all(tenants.map(({ sim }) => tokenRequests(sim.id))), [2, 2, 2]);
  });

  it('keeps a token request that failed ahead of time for the round, which reports it without asking again', async () => {
    const sim = await harness.sim.createTenant({ users: 2 });
    const tokens = harness.sim.tokens(sim.id, sim.app.appId, { kind: 'secret', clientSecret: 'not-the-secret' });
    await tokens.prefetch();
    assert.equal(await tokenRequests(sim.id), 1);
    await assert.rejects(tokens.acquire(), /AADSTS7000215|invalid_client|secret/i);
    assert.equal(await tokenRequests(sim.id), 1, 'the round took the failure asked for ahead of time');
    await assert.rejects(tokens.acquire());
    assert.equal(await tokenRequests(sim.id), 2, 'a later round asks again');
  });
});
