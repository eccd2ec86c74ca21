import assert from 'node:assert/strict';
import type { DaemonEvent, UserView } from '../../../protocol/daemonApi';
import { DaemonClient } from '../../../extension/client/daemonClient';
import { readDaemonEndpoint } from '../../../extension/client/daemonEndpoint';
import type { EventStreamState } from '../../../extension/client/daemonEventStream';
import { DaemonEventStream } from '../../../extension/client/daemonEventStream';
import { DaemonHarness } from '../../support/daemonHarness';

describe('extension daemon client: the event stream of a real daemon', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;
  let stream: DaemonEventStream;
  let client: DaemonClient;
  const events: DaemonEvent[] = [];
  const states: EventStreamState['state'][] = [];
  let opens = 0;

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    client = new DaemonClient({ endpoint: () => ({ url: harness.daemon.url, token: harness.daemon.token }) });
    stream = new DaemonEventStream({ endpoint: () => readDaemonEndpoint(harness.dataDir), backoff: { initialMs: 50, maxMs: 400 } });
    stream.onDidReceive((event) => events.push(event));
    stream.onDidChangeState((state) => states.push(state.state));
    stream.onDidOpen(() => opens++);
    stream.start();
    await harness.until(() => opens === 1, 10_000, 'the stream to open');
  });
  after(async () => {
    stream?.dispose();
    client?.dispose();
    await harness?.stop();
  });

  it('opens on the daemon\'s hello and delivers a tenant registered afterwards', async () => {
    assert.equal(stream.state.state, 'open');
    const { id } = await harness.registerTenant({ users: 12, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    await harness.until(() => events.some((event) => event.type === 'tenant' && event.tenant.id === id && event.tenant.asOf !== null), 20_000, 'the tenant event');
  });

  it('delivers a user someone re-enabled directly in Microsoft 365, with no request from the client', async () => {
    const { id, sim } = await harness.registerTenant({ users: 5, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    await harness.until(async () => (await client.getTenant(id)).asOf, 20_000, 'the first sync');
    const target = (await client.listUsers(id, { limit: 1 })).users[0] as UserView;
    await client.lockUser(id, target.id);
    await harness.until(
      () => events.some((event) => event.type === 'users' && event.tenantId === id && event.users.some((user) => user.id === target.id && user.state === 'locked')),
      10_000,
      'the lock to arrive as an event',
    );
    // An administrator turns sign-in back on in the Entra admin center: the daemon's next sync sees it.
    const patched = await harness.sim.control('PATCH', `/tenants/${sim.id}/users/${target.id}`, { accountEnabled: true });
    assert.equal(patched.status, 200);
    const reenabled = await harness.until(
      () =>
        events.find(
          (event): event is Extract<DaemonEvent, { type: 'users' }> =>
            event.type === 'users' && event.tenantId === id && event.users.some((user) => user.id === target.id && user.state === 'enabled'),
        ),
      15_000,
      'the outside re-enable to arrive',
    );
    assert.equal(reenabled.users.find((user) => user.id === target.id)?.lock, null);
  });

  it('reconnects by itself when the daemon restarts with a new port and token, and says so meanwhile', async () => {
    const before = await readDaemonEndpoint(harness.dataDir);
    states.length = 0;
    await harness.restart();
    await harness.until(() => opens === 2, 15_000, 'the stream to open again');
    const after = await readDaemonEndpoint(harness.dataDir);
    assert.notEqual(after?.token, before?.token, 'a new token');
    assert.ok(states.includes('waiting'), `it said it was waiting (${states.join(', ')})`);
    assert.equal(stream.state.state, 'open');
  });

  it('keeps trying while no daemon runs, and stops when told', async () => {
    const lonely = new DaemonEventStream({ endpoint: async () => undefined, backoff: { initialMs: 20, maxMs: 40 } });
    const seen: EventStreamState[] = [];
    lonely.onDidChangeState((state) => seen.push(state));
    lonely.start();
    await harness.until(() => seen.filter((state) => state.state === 'waiting').length >= 3, 5_000, 'three retries');
    const waiting = seen.find((state) => state.state === 'waiting');
    assert.ok(waiting?.state === 'waiting' && waiting.reason === 'the daemon is not running');
    lonely.stop();
    const count = seen.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(seen.length, count, 'no attempt after stop');
    assert.equal(lonely.state.state, 'stopped');
    lonely.dispose();
  });
});
