import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetch } from 'undici';
import { daemonContract } from '../../protocol/daemonContract';
import type { DaemonEndpointFile, TenantView } from '../../protocol/daemonApi';
import { systemClock } from '../../daemon/clock';
import { LowdbStore } from '../../daemon/store/lowdbStore';
import { Vault } from '../../daemon/vault/vault';
import { killHard, spawnTypeScript, waitForLine } from '../support/childProcess';
import { SimHarness } from '../support/simHarness';
import { tempDataDir } from '../support/tempDataDir';

const TENANTS = 100;

describe('daemon process: SIGTERM while the first credential-health check runs', function () {
  this.timeout(180_000);
  let sim: SimHarness;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let caFile: string;
  const children: ChildProcessWithoutNullStreams[] = [];
  /** Token requests answered, by simulator tenant: the first round asks one, each credential check one more. */
  const tokenRequests = new Map<string, number>();

  before(async () => {
    sim = await SimHarness.start({
      observe: ({ path, tenantId }) => {
        if (tenantId !== null && path.endsWith('/oauth2/v2.0/token')) tokenRequests.set(tenantId, (tokenRequests.get(tenantId) ?? 0) + 1);
      },
    });
    ({ dir: dataDir, cleanup } = await tempDataDir('m365-stop-during-check'));
    caFile = join(dataDir, 'sim-ca.pem');
    await writeFile(caFile, sim.sim.caPem);
    // The tenants go straight into the data directory, as a daemon that ran before left them: registering
    // 100 through the API would check each one's credential on the way in.
    const store = await LowdbStore.open({ dataDir, clock: systemClock });
    const vault = await Vault.open(dataDir);
    try {
      for (let i = 0; i < TENANTS; i++) {
        const simTenant = await sim.createTenant({ users: 1 });
        // Every request answered after a pause: the check, one tenant after another, takes seconds.
        await sim.control('PUT', `/tenants/${simTenant.id}/faults`, { latencyMs: 30 });
        const tenant = await store.addTenant({ tenantIdOrDomain: simTenant.id, displayName: `tenant ${i}`, appId: simTenant.app.appId, credentialKind: 'secret', by: 'alice' });
        await vault.put(tenant.id, { kind: 'secret', clientSecret: simTenant.app.secret });
      }
    } finally {
      await store.close();
      await vault.close();
    }
  });
  after(async () => {
    for (const child of children) await killHard(child);
    await sim.stop();
    await cleanup();
  });

  it('stops cleanly, checks no tenant after the stop, and leaves no error in daemon.log', async () => {
    const child = spawnTypeScript(new URL('../../daemon/main.ts', import.meta.url), [
      '--data-dir', dataDir,
      '--authority-host', sim.sim.url,
      '--graph-base-url', `${sim.sim.url}/v1.0`,
      '--ca-file', caFile,
      '--log-level', 'info',
    ]);
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    await waitForLine(child, /listening on/);
    const endpoint = JSON.parse(await readFile(join(dataDir, daemonContract.files.endpoint), 'utf8')) as DaemonEndpointFile;
    const checked = async (): Promise<number> => {
      const response = await fetch(`${endpoint.url}/v1/tenants`, { headers: { authorization: `Bearer ${endpoint.token}` } });
      const { tenants } = (await response.json()) as { tenants: TenantView[] };
      return tenants.filter((tenant) => tenant.credentialHealth !== null).length;
    };
    // The first check starts once the first round is over; stop as soon as it has checked a tenant.
    const started = Date.now();
    while ((await checked()) === 0) {
      if (Date.now() - started > 120_000) throw new Error('the first credential-health check never started');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);

    // The stop landed in the middle of the check: some tenants checked, not all. Every tenant whose
    // credential was tried has its result kept: the check went no further than the tenant it was on.
    const store = await LowdbStore.open({ dataDir, clock: systemClock });
    const tenants = await store.listTenants();
    await store.close();
    const recorded = tenants.filter((tenant) => tenant.credentialHealth !== null).length;
    const probed = [...tokenRequests.values()].filter((count) => count >= 2).length;
    assert.ok(recorded >= 1 && recorded < TENANTS, `checked ${recorded} of ${TENANTS}`);
    assert.equal(probed, recorded, `${probed} credentials tried, ${recorded} results kept`);

    const lines = (await readFile(join(dataDir, daemonContract.files.log), 'utf8'))
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const errors = lines.filter((line) => line['level'] === 'error');
    assert.equal(errors.length, 0, `${errors.length} error lines after a clean stop, the first: ${JSON.stringify(errors.slice(0, 2))}`);
    assert.ok(lines.some((line) => line['msg'] === 'daemon stopped'), 'the daemon logged its stop');
    assert.doesNotMatch(stderr, /unhandled|UnhandledPromiseRejection/i);
  });
});
