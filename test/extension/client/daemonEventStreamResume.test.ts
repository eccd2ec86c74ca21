import assert from 'node:assert/strict';
import { globalAgent } from 'node:http';
import { fetch } from 'undici';
import type { DaemonEvent, UserView } from '../../../protocol/daemonApi';
import { DaemonConnection } from '../../../extension/client/daemonConnection';
import { localDaemonLocator } from '../../../extension/client/daemonLocator';
import { readDaemonEndpoint } from '../../../extension/client/daemonEndpoint';
import type { EventStreamOpened } from '../../../extension/client/daemonEventStream';
import { DaemonEventStream } from '../../../extension/client/daemonEventStream';
import type { Logger } from '../../../extension/common/logger';
import { StatusModel } from '../../../extension/model/statusModel';
import { DaemonHarness } from '../../support/daemonHarness';
import { readSseMessages } from '../../support/sseMessages';

const noMix = { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 };

/** Breaks the event stream's TCP connection, as a network drop or a sleeping laptop would. */
function dropEventStreamConnections(): number {
  let dropped = 0;
  // The event stream uses Node's global agent; the API client has an agent of its own.
  for (const sockets of Object.values(globalAgent.sockets)) {
    for (const socket of sockets ?? []) {
      socket.destroy();
      dropped++;
    }
  }
  return dropped;
}

/** Every DaemonEvent the daemon sends from now on, read by a client that never drops. */
async function witness(harness: DaemonHarness): Promise<{ events: DaemonEvent[]; close: () => void }> {
  const controller = new AbortController();
  const response = await fetch(`${harness.daemon.url}/v1/events`, { headers: { authorization: `Bearer ${harness.daemon.token}` }, signal: controller.signal });
  const events: DaemonEvent[] = [];
  let hello = false;
  void readSseMessages(response.body as AsyncIterable<Uint8Array>, (message) => {
    if (message.event === 'hello') hello = true;
    else if (message.event === 'message') events.push(JSON.parse(message.data) as DaemonEvent);
  }).catch(() => undefined);
  await harness.until(() => hello, 5_000, 'the witness\'s hello');
  return { events, close: () => controller.abort() };
}

function memoryLogger(lines: string[]): Logger {
  return {
    debug: () => undefined,
    info: (message) => lines.push(message),
    warn: (message) => lines.push(message),
    error: (message) => lines.push(message),
  };
}

describe('extension daemon client: the event stream resumes where it left off', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '1h' });
  });
  after(async () => harness?.stop());

  async function syncedTenant(users: number): Promise<{ id: string; users: UserView[] }> {
    const { id } = await harness.registerTenant({ users, userMix: noMix });
    await harness.until(async () => (await harness.api<{ asOf: string | null }>('GET', `/v1/tenants/${id}`)).body.asOf, 20_000, 'the first sync');
    return { id, users: (await harness.api<{ users: UserView[] }>('GET', `/v1/tenants/${id}/users?limit=10`)).body.users };
  }

  it('gets every event it missed while its connection was down, once and in order, without reading everything again', async () => {
    const { id, users } = await syncedTenant(4);
    const [first, second] = users;
    assert.ok(first && second);
    const all = await witness(harness);
    const received: DaemonEvent[] = [];
    const opens: EventStreamOpened[] = [];
    const lines: string[] = [];
    // A second's wait before reconnecting leaves time for changes to happen while it is down.
    const stream = new DaemonEventStream({ endpoint: () => readDaemonEndpoint(harness.dataDir), backoff: { initialMs: 1_000, maxMs: 1_000 }, random: () => 0.5, logger: memoryLogger(lines) });
    stream.onDidReceive((event) => received.push(event));
    stream.onDidOpen((opened) => opens.push(opened));
    stream.start();
    await harness.until(() => opens.length === 1, 10_000, 'the stream to open');
    assert.equal(opens[0]?.resumed, false, 'a first connect reads everything');

    await harness.api('POST', `/v1/tenants/${id}/users/${first.id}/lock`, {});
    await harness.until(() => received.some((e) => e.type === 'activity'), 5_000, 'the lock\'s events');
    const before = received.length;
    assert.ok(dropEventStreamConnections() >= 1, 'the stream had a connection to drop');
    await harness.until(() => stream.state.state === 'waiting', 5_000, 'the stream to notice');
    // While it is down: another lock, and the first user unlocked.
    await harness.api('POST', `/v1/tenants/${id}/users/${second.id}/lock`, {});
    await harness.api('POST', `/v1/tenants/${id}/users/${first.id}/unlock`, {});
    assert.equal(received.length, before, 'nothing arrived while it was down');

    await harness.until(() => opens.length === 2, 10_000, 'the stream to open again');
    assert.equal(opens[1]?.resumed, true, 'it resumed');
    await harness.until(() => received.length >= all.events.length, 5_000, 'the replay');
    assert.deepEqual(received, all.events, 'the same events in the same order: none lost, none twice');
    assert.ok(lines.some((line) => line.startsWith('event stream: resumed after')), lines.join('\n'));
    stream.dispose();
    all.close();
  });

  it('keeps the model true across a dropped connection by replay, and across a daemon restart by reading it again', async () => {
    const { id, users } = await syncedTenant(5);
    const [first, second] = users;
    assert.ok(first && second);
    const lines: string[] = [];
    // The model reads users through the connection made just below, only once it is running.
    const model: StatusModel = new StatusModel({ users: { listUsers: (tenantId, query) => connection.client.listUsers(tenantId, query) }, pageSize: 200 });
    const connection: DaemonConnection = new DaemonConnection(model, {
      locate: localDaemonLocator(() => harness.dataDir),
      includeAutomatedTasks: () => false,
      backoff: { initialMs: 1_000, maxMs: 1_000 },
      random: () => 0.5,
      logger: memoryLogger(lines),
    });
    await connection.connect();
    await harness.until(() => model.connection.kind === 'connected' && model.tenant(id), 10_000, 'connected');
    let listings = 0;
    const listTenants = connection.client.listTenants.bind(connection.client);
    connection.client.listTenants = async () => {
      listings++;
      return listTenants();
    };

    dropEventStreamConnections();
    await harness.until(() => model.connection.kind === 'reconnecting', 5_000, 'the model to say it is reconnecting');
    await harness.api('POST', `/v1/tenants/${id}/users/${first.id}/lock`, {});
    await harness.until(() => model.connection.kind === 'connected', 10_000, 'connected again');
    await harness.until(() => model.tenant(id)?.counts.locked === 1, 5_000, 'the missed lock');
    assert.equal(listings, 0, 'the replay kept the model true: no listing');
    assert.ok(lines.some((line) => line.startsWith('event stream: resumed after')), lines.join('\n'));

    // A restarted daemon cannot replay the events of its earlier run: the model is read again.
    await harness.restart();
    await harness.api('POST', `/v1/tenants/${id}/users/${second.id}/lock`, {});
    await harness.until(() => listings >= 1 && model.connection.kind === 'connected', 15_000, 'the model to be read again');
    await harness.until(() => model.tenant(id)?.counts.locked === 2, 5_000, 'the lock made after the restart');
    assert.ok(lines.some((line) => line.startsWith('event stream: the daemon cannot replay what was missed')), lines.join('\n'));
    assert.ok(lines.some((line) => line === 'event stream: could not resume; reading everything again'), lines.join('\n'));
    connection.dispose();
    model.dispose();
  });
});
