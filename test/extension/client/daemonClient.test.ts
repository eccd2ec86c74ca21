import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddTenantRequest, DaemonEndpointFile, TenantView, UserView } from '../../../protocol/daemonApi';
import { DaemonApiError } from '../../../extension/client/daemonApiError';
import { DaemonClient } from '../../../extension/client/daemonClient';
import { readDaemonEndpoint, resolveDataDirectory } from '../../../extension/client/daemonEndpoint';
import { DaemonUnreachableError } from '../../../extension/client/daemonUnreachableError';
import { userSearch } from '../../../extension/model/userSearch';
import { DaemonHarness } from '../../support/daemonHarness';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('extension daemon client: the API of a real daemon (simulator over HTTPS)', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;
  let endpoint: DaemonEndpointFile;
  let client: DaemonClient;
  let tenantId: string;
  let secret: string;

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    const found = await readDaemonEndpoint(harness.dataDir);
    assert.ok(found, 'daemon.json is there');
    endpoint = found;
    client = new DaemonClient({ endpoint: () => endpoint, operator: 'test-operator' });
    let sim;
    ({ id: tenantId, sim } = await harness.registerTenant({ users: 30, userMix: { privilegedShare: 0, onPremisesShare: 0.3, disabledShare: 0.1 } }));
    secret = sim.app.secret;
    await harness.until(async () => (await client.getTenant(tenantId)).asOf, 20_000, 'the first sync');
  });
  after(async () => {
    client?.dispose();
    await harness?.stop();
  });

  it("finds the daemon through daemon.json in its data directory, and asks its health without a token", async () => {
    assert.equal(endpoint.url, harness.daemon.url);
    assert.equal(endpoint.token, harness.daemon.token);
    const anonymous = new DaemonClient({ endpoint: () => ({ url: endpoint.url, token: 'wrong' }) });
    try {
      const health = await anonymous.health();
      assert.equal(health.ok, true);
      assert.equal(typeof health.version, 'string');
    } finally {
      anonymous.dispose();
    }
  });

  it('resolves the data directory from the setting, else the environment variable, else ~/.m365-status', () => {
    assert.equal(resolveDataDirectory('/srv/m365', {}, '/home/op'), '/srv/m365');
    assert.equal(resolveDataDirectory('~/tenants', {}, '/home/op'), '/home/op/tenants');
    assert.equal(resolveDataDirectory('', { M365_STATUS_DATA_DIR: '/var/m365' }, '/home/op'), '/var/m365');
    assert.equal(resolveDataDirectory('  ', {}, '/home/op'), '/home/op/.m365-status');
  });

  it('lists tenants with status, counts, as-of time and credential health, and never a secret', async () => {
    const tenants = await client.listTenants();
    const tenant = tenants.find((candidate) => candidate.id === tenantId) as TenantView;
    assert.ok(tenant);
    assert.equal(tenant.status, 'ACTIVE');
    assert.equal(tenant.counts.total, 30);
    assert.equal(tenant.credentialHealth?.canGetToken, true);
    assert.ok(tenant.asOf !== null);
    assert.ok(!JSON.stringify(tenants).includes(secret), 'the secret never comes back');
  });

  it('pages users: locked first, then disabled, then the rest; offsets line up', async () => {
    const first = await client.listUsers(tenantId, { offset: 0, limit: 10 });
    const second = await client.listUsers(tenantId, { offset: 10, limit: 10 });
    assert.equal(first.total, 30);
    assert.equal(first.users.length, 10);
    const ids = [...first.users, ...second.users].map((user) => user.id);
    assert.equal(new Set(ids).size, 20);
    const rank = { locked: 0, disabled: 1, enabled: 2 } as const;
    const ranks = [...first.users, ...second.users].map((user) => rank[user.state]);
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
  });

  it('locks and unlocks a cloud user, naming the operator, and answers "unchanged" for a repeat', async () => {
    const page = await client.listUsers(tenantId, { state: 'enabled', limit: 100 });
    const target = page.users.find((user) => !user.onPremisesSyncEnabled) as UserView;
    assert.ok(target);
    const locked = await client.lockUser(tenantId, target.id, { revokeSessions: true });
    assert.equal(locked.outcome, 'locked');
    assert.equal(locked.user.state, 'locked');
    assert.equal(locked.user.lock?.by, 'test-operator');
    assert.equal(locked.user.lock?.revokedSessions, true);
    const again = await client.lockUser(tenantId, target.id);
    assert.equal(again.outcome, 'unchanged');
    const unlocked = await client.unlockUser(tenantId, target.id);
    assert.equal(unlocked.outcome, 'unlocked');
    assert.equal(unlocked.user.state, 'enabled');
  });

  it('refuses to lock a user synced from on-premises without the override (409 ON_PREMISES_USER), and locks with it', async () => {
    const page = await client.listUsers(tenantId, { state: 'enabled', limit: 100 });
    const synced = page.users.find((user) => user.onPremisesSyncEnabled) as UserView;
    assert.ok(synced, 'the simulator made on-premises users');
    await assert.rejects(client.lockUser(tenantId, synced.id), (error: unknown) => {
      assert.ok(error instanceof DaemonApiError);
      assert.equal(error.status, 409);
      assert.equal(error.code, 'ON_PREMISES_USER');
      assert.match(error.message, /synced from on-premises/);
      return true;
    });
    const locked = await client.lockUser(tenantId, synced.id, { overrideOnPremises: true });
    assert.equal(locked.outcome, 'locked');
  });

  it('refreshes a tenant: tasks queued the first time, the earlier task named the second', async () => {
    const first = await client.refreshTenant(tenantId);
    assert.equal(first.outcome, 'queued');
    assert.equal(first.activity.name, 'Updating account status');
    const second = await client.refreshTenant(tenantId);
    assert.equal(second.outcome, 'already-requested');
    assert.ok(second.outcome === 'already-requested' && second.earlierTask.id);
  });

  it('lists management tasks and activities, and automated ones only when asked', async () => {
    const entries = await client.listTasks({ limit: 50 });
    assert.ok(entries.some((entry) => entry.type === 'activity' && entry.activity.name === 'Updating account status'));
    assert.ok(entries.every((entry) => entry.type !== 'task' || !entry.task.automated));
    const withAutomated = await client.listTasks({ automated: true, limit: 200 });
    assert.ok(withAutomated.some((entry) => entry.type === 'task' && entry.task.automated));
  });

  it('searches users across tenants through the daemon, each user once, locked first within a tenant', async () => {
    const { id: otherId } = await harness.registerTenant({ users: 10, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    await harness.until(async () => (await client.getTenant(otherId)).asOf, 20_000, 'the second tenant to sync');
    const tenants = await client.listTenants();
    const unlockable = await userSearch(client, tenants, '', { states: ['locked', 'disabled'] });
    const keys = unlockable.hits.map((hit) => `${hit.tenant.id}/${hit.user.id}`);
    assert.equal(new Set(keys).size, keys.length, 'a locked user (also disabled) is listed once');
    assert.ok(unlockable.hits.some((hit) => hit.user.state === 'locked'));
    assert.ok(unlockable.hits.every((hit) => hit.user.state !== 'enabled'));
    const someone = (await client.listUsers(otherId, { limit: 1 })).users[0] as UserView;
    const found = await userSearch(client, tenants, someone.userPrincipalName.slice(0, 12), {});
    assert.ok(found.hits.some((hit) => hit.user.id === someone.id && hit.tenant.id === otherId));
    assert.deepEqual(found.failures, []);
  });

  it('reads the system log', async () => {
    const entries = await client.listLogs({ limit: 50 });
    assert.ok(Array.isArray(entries));
  });

  it('re-checks credential health on demand and answers the tenant', async () => {
    const before = (await client.getTenant(tenantId)).credentialHealth?.checkedAt ?? 0;
    const tenant = await client.recheckCredentialHealth(tenantId);
    assert.ok((tenant.credentialHealth?.checkedAt ?? 0) >= before);
    assert.deepEqual(tenant.credentialHealth?.missingRoles, []);
  });

  it("turns the daemon's refusals into errors with its code, field and message", async () => {
    const bad = { tenant: 'contoso.onmicrosoft.com', appId: 'not-a-guid', credential: { kind: 'secret', clientSecret: 'x' } } as AddTenantRequest;
    await assert.rejects(client.addTenant(bad), (error: unknown) => {
      assert.ok(error instanceof DaemonApiError);
      assert.equal(error.status, 400);
      assert.equal(error.field, 'appId');
      return true;
    });
    await assert.rejects(client.getTenant('no-such-tenant'), (error: unknown) => error instanceof DaemonApiError && error.status === 404);
    const wrongToken = new DaemonClient({ endpoint: () => ({ url: endpoint.url, token: 'not-the-token' }) });
    try {
      await assert.rejects(wrongToken.listTenants(), (error: unknown) => error instanceof DaemonApiError && error.status === 401 && error.code === 'UNAUTHORIZED');
    } finally {
      wrongToken.dispose();
    }
  });

  it('says the daemon is unreachable when nothing listens, or when there is no daemon.json', async () => {
    const port = await closedPort();
    const nobody = new DaemonClient({ endpoint: () => ({ url: `http://127.0.0.1:${port}`, token: 't' }) });
    try {
      await assert.rejects(nobody.listTenants(), (error: unknown) => error instanceof DaemonUnreachableError && /nothing is listening/.test(error.message));
    } finally {
      nobody.dispose();
    }
    const none = new DaemonClient({ endpoint: () => undefined });
    await assert.rejects(none.health(), DaemonUnreachableError);
  });
});

/**
 * A server that answers the first request on each connection and resets the connection at the second, as
 * a daemon closing an idle keep-alive connection does when a request meets the close.
 */
async function resettingServer(): Promise<{ port: number; connections: () => number; close: () => void }> {
  let connections = 0;
  const server = createServer((socket) => {
    const connection = ++connections;
    let requests = 0;
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        if (++requests > 1) {
          socket.resetAndDestroy();
          return;
        }
        const body = JSON.stringify({ ok: true, version: `connection ${connection}` });
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, connections: () => connections, close: () => server.close() };
}

describe('extension daemon client: a keep-alive connection the daemon closed', () => {
  it('sends a read again, once, on a fresh connection when a reused connection is reset', async () => {
    const server = await resettingServer();
    const client = new DaemonClient({ endpoint: () => ({ url: `http://127.0.0.1:${server.port}`, token: 't' }) });
    try {
      assert.equal((await client.health()).version, 'connection 1');
      assert.equal((await client.health()).version, 'connection 2', 'the reset read was sent again on a new connection');
      assert.equal(server.connections(), 2);
    } finally {
      client.dispose();
      server.close();
    }
  });

  it('does not send an action again after a reset: the operator decides', async () => {
    const server = await resettingServer();
    const client = new DaemonClient({ endpoint: () => ({ url: `http://127.0.0.1:${server.port}`, token: 't' }) });
    try {
      await client.health();
      await assert.rejects(client.refreshTenant('00000000-0000-4000-8000-000000000001'), DaemonUnreachableError);
      assert.equal(server.connections(), 1, 'the refresh was not sent on a second connection');
    } finally {
      client.dispose();
      server.close();
    }
  });
});
