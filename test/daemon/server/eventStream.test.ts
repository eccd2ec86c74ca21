import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { fetch } from 'undici';
import type { DaemonEvent, TenantView } from '../../../protocol/daemonApi';
import type { EventStreamHello, EventStreamOverflow, EventStreamReload } from '../../../protocol/eventStream';
import { parseEventId } from '../../../protocol/eventStream';
import { DaemonHarness } from '../../support/daemonHarness';
import { readSseMessages, type SseMessage } from '../../support/sseMessages';


/** A client that reads everything the daemon sends, split into SSE messages. */
class ReadingClient {
  readonly messages: SseMessage[] = [];
  readonly #controller = new AbortController();
  #done: Promise<void> = Promise.resolve();

  static async open(harness: DaemonHarness, lastEventId?: string): Promise<ReadingClient> {
    const client = new ReadingClient();
    const response = await fetch(`${harness.daemon.url}/v1/events`, {
      headers: { authorization: `Bearer ${harness.daemon.token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: client.#controller.signal,
    });
    assert.equal(response.status, 200);
    client.#done = readSseMessages(response.body as AsyncIterable<Uint8Array>, (message) => client.messages.push(message)).catch(() => undefined);
    await harness.until(() => client.messages.some((m) => m.event === 'hello'), 5_000, 'the hello');
    return client;
  }

  get hello(): EventStreamHello {
    const hello = this.messages.find((m) => m.event === 'hello');
    assert.ok(hello, 'a hello');
    return JSON.parse(hello.data) as EventStreamHello;
  }

  get events(): Array<{ id: string; event: DaemonEvent }> {
    return this.messages.filter((m) => m.event === 'message').map((m) => ({ id: m.id ?? '', event: JSON.parse(m.data) as DaemonEvent }));
  }

  async close(): Promise<void> {
    this.#controller.abort();
    await this.#done;
  }
}

/** A client that connects, sees the hello, then stops reading from its socket. */
async function stalledClient(harness: DaemonHarness): Promise<{ socket: Socket; received: () => string; resume: () => void }> {
  const socket = connect(harness.daemon.port, '127.0.0.1');
  let text = '';
  let stalled = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
    if (!stalled && text.includes('event: hello')) {
      stalled = true;
      socket.pause();
    }
  });
  socket.on('error', () => undefined);
  socket.write(`GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:${harness.daemon.port}\r\nAuthorization: Bearer ${harness.daemon.token}\r\n\r\n`);
  await harness.until(() => text.includes('event: hello'), 10_000, 'a stalled client\'s hello');
  return {
    socket,
    received: () => text,
    resume: () => {
      // Reads what the kernel holds only: the client did not ask for anything new.
      socket.resume();
    },
  };
}

const noMix = { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 };
const seqOf = (id: string) => parseEventId(id)?.seq ?? Number.NaN;

describe('daemon API: the event stream is numbered, resumable and bounded', function () {
  this.timeout(120_000);
  let harness: DaemonHarness;
  const replayEvents = 40;
  const clientBufferBytes = 256 * 1024;

  before(async () => {
    // Room for the 200 clients of one caller that the test of stalled clients opens.
    harness = await DaemonHarness.start({ pollIntervalMs: '1h' }, undefined, { eventStreamLimits: { replayEvents, clientBufferBytes, streamsPerCaller: 256 } });
  });
  after(async () => harness?.stop());

  async function lockAndUnlock(tenantId: string, userId: string): Promise<void> {
    assert.equal((await harness.api('POST', `/v1/tenants/${tenantId}/users/${userId}/lock`, {})).status, 200);
    assert.equal((await harness.api('POST', `/v1/tenants/${tenantId}/users/${userId}/unlock`, {})).status, 200);
  }

  let registering = Promise.resolve();
  async function syncedTenant(users: number): Promise<{ id: string; userId: string }> {
    const registration = harness.registerTenant({ users, userMix: noMix });
    registering = registration.then(() => undefined, () => undefined);
    const { id } = await registration;
    await harness.until(async () => (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body.asOf, 30_000, 'the first sync');
    const page = await harness.api<{ users: Array<{ id: string }> }>('GET', `/v1/tenants/${id}/users?limit=1`);
    return { id, userId: page.body.users[0]?.id ?? '' };
  }

  /**
   * One users event of `count` new users. A sync sends at most a page of users per event (a first sync
   * none), so the store is handed a batch that large directly, as a round would be if Graph sent it.
   */
  let bulkRounds = 0;
  async function largeUsersEvent(tenantId: string, count: number): Promise<void> {
    const round = ++bulkRounds;
    const { store } = harness.daemon;
    await store.applyUserChanges(tenantId, {
      observedAt: Date.now(),
      users: Array.from({ length: count }, (_, i) => ({
        id: `bulk-${round}-${i}-0000-0000-000000000000`,
        userPrincipalName: `bulk-${round}-${i}@contoso.example`,
        displayName: `Bulk user ${round}-${i}`,
        accountEnabled: true,
        onPremisesSyncEnabled: null,
      })),
      deltaLink: await store.getDeltaLink(tenantId),
    });
  }

  it('gives every event an id of this run whose number goes up by one', async () => {
    const client = await ReadingClient.open(harness);
    const { id, userId } = await syncedTenant(4);
    await lockAndUnlock(id, userId);
    await harness.until(() => client.events.filter((e) => e.event.type === 'activity').length >= 2, 10_000, 'the events');
    const ids = client.events.map((e) => e.id);
    assert.ok(ids.length >= 5, `several events (${ids.length})`);
    for (const eventId of ids) assert.equal(parseEventId(eventId)?.runId, client.hello.runId, `${eventId} is of this run`);
    const seqs = ids.map(seqOf);
    for (let index = 1; index < seqs.length; index++) assert.equal(seqs[index], (seqs[index - 1] as number) + 1, `ids ${ids.join(', ')}`);
    assert.equal(client.hello.resumed, false);
    // A client connecting now is told where it starts, so it can resume before its first event.
    const later = await ReadingClient.open(harness);
    assert.equal(later.hello.lastEventId, client.events.at(-1)?.id);
    assert.equal(later.hello.runId, client.hello.runId);
    await Promise.all([client.close(), later.close()]);
  });

  it('replays exactly the events a reconnecting client missed, in order, and then goes on live', async () => {
    const { id, userId } = await syncedTenant(3);
    const witness = await ReadingClient.open(harness);
    const leaving = await ReadingClient.open(harness);
    await lockAndUnlock(id, userId);
    await harness.until(() => leaving.events.filter((e) => e.event.type === 'activity').length >= 2, 10_000, 'the first events');
    await leaving.close();
    const lastSeen = leaving.events.at(-1)?.id ?? '';
    const seenByWitness = witness.events.length;

    await lockAndUnlock(id, userId); // Missed by the client that left.
    await harness.until(() => witness.events.filter((e) => e.event.type === 'activity').length >= 4, 10_000, 'the missed events');
    await harness.until(() => witness.events.length > seenByWitness, 1_000);
    const missed = witness.events.slice(witness.events.findIndex((e) => e.id === lastSeen) + 1);
    assert.ok(missed.length >= 4, `it missed several events (${missed.length})`);

    const back = await ReadingClient.open(harness, lastSeen);
    assert.equal(back.hello.resumed, true);
    await harness.until(() => back.events.length >= missed.length, 5_000, 'the replay');
    assert.deepEqual(back.events.slice(0, missed.length), missed, 'the same ids and the same events');
    assert.equal(back.messages.filter((m) => m.event === 'reload').length, 0);

    await lockAndUnlock(id, userId);
    await harness.until(() => back.events.filter((e) => e.event.type === 'activity').length >= 4, 10_000, 'live events after the replay');
    const afterLastSeen = () => witness.events.slice(witness.events.findIndex((e) => e.id === lastSeen) + 1);
    await harness.until(() => afterLastSeen().length >= back.events.length, 5_000, 'the witness to catch up');
    assert.deepEqual(back.events, afterLastSeen().slice(0, back.events.length), 'no event twice, none lost');
    await Promise.all([witness.close(), back.close()]);
  });

  it('tells a client to reload when the events it missed are no longer kept, or its id means nothing here', async () => {
    const { id, userId } = await syncedTenant(3);
    const leaving = await ReadingClient.open(harness);
    await lockAndUnlock(id, userId);
    await harness.until(() => leaving.events.length >= 2, 10_000, 'an event');
    await leaving.close();
    const lastSeen = leaving.events.at(-1)?.id ?? '';
    const witness = await ReadingClient.open(harness);
    while (witness.events.length <= replayEvents) await lockAndUnlock(id, userId);

    for (const stale of [lastSeen, `${leaving.hello.runId}-999999999`, 'not-an-id', 'ffffffffffff-1']) {
      const back = await ReadingClient.open(harness, stale);
      assert.equal(back.messages[0]?.event, 'reload', `${stale}: reload first`);
      assert.match((JSON.parse(back.messages[0]?.data ?? '{}') as EventStreamReload).message, /Last-Event-ID|no longer kept/);
      assert.equal(back.hello.resumed, false);
      assert.equal(back.events.length, 0, `${stale}: nothing replayed`);
      await back.close();
    }
    await witness.close();

    // A restarted daemon numbers its events anew: an id of the run before cannot be resumed.
    await harness.restart();
    const afterRestart = await ReadingClient.open(harness, lastSeen);
    assert.notEqual(afterRestart.hello.runId, leaving.hello.runId);
    assert.equal(afterRestart.messages[0]?.event, 'reload');
    assert.match((JSON.parse(afterRestart.messages[0]?.data ?? '{}') as EventStreamReload).message, /earlier run/);
    await afterRestart.close();
  });

  it('keeps replayable events within a byte bound as well as a count', async () => {
    const small = await DaemonHarness.start({ pollIntervalMs: '1h' }, undefined, { eventStreamLimits: { replayBytes: 8 * 1024 } });
    try {
      const { id } = await small.registerTenant({ users: 3, userMix: noMix });
      await small.until(async () => (await small.api<TenantView>('GET', `/v1/tenants/${id}`)).body.asOf, 20_000, 'the first sync');
      const userId = (await small.api<{ users: Array<{ id: string }> }>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0]?.id ?? '';
      const all = await ReadingClient.open(small);
      const lock = async () => {
        await small.api('POST', `/v1/tenants/${id}/users/${userId}/lock`, {});
        await small.api('POST', `/v1/tenants/${id}/users/${userId}/unlock`, {});
      };
      await lock();
      await small.until(() => all.events.filter((e) => e.event.type === 'activity').length >= 2, 10_000, 'the first events');
      const start = all.events.at(-1)?.id ?? '';
      const bytesAfter = () => all.events.slice(all.events.findIndex((e) => e.id === start) + 1).reduce((sum, e) => sum + e.id.length + JSON.stringify(e.event).length + 13, 0);
      await lock();
      await small.until(() => all.events.filter((e) => e.event.type === 'activity').length >= 4, 10_000, 'more events');
      assert.ok(bytesAfter() < 8 * 1024, `a small gap (${bytesAfter()} bytes)`);
      const near = await ReadingClient.open(small, start);
      assert.equal(near.hello.resumed, true, 'a gap within the bound is replayed');
      await near.close();
      while (bytesAfter() <= 8 * 1024) await lock();
      const far = await ReadingClient.open(small, start);
      assert.equal(far.messages[0]?.event, 'reload', 'a gap past the bound is not');
      assert.equal(far.events.length, 0);
      await Promise.all([far.close(), all.close()]);
    } finally {
      await small.stop();
    }
  });

  it('answers 429 to a caller with as many streams open as one caller may, and takes one again once another is closed', async () => {
    const few = await DaemonHarness.start({ pollIntervalMs: '1h' }, undefined, { eventStreamLimits: { streamsPerCaller: 2 } });
    try {
      const first = await ReadingClient.open(few);
      const second = await ReadingClient.open(few);
      const refused = await fetch(`${few.daemon.url}/v1/events`, { headers: { authorization: `Bearer ${few.daemon.token}` } });
      assert.equal(refused.status, 429);
      const body = (await refused.json()) as { error: { code: string; message: string; details: { open: number; allowed: number } } };
      assert.equal(body.error.code, 'TOO_MANY_STREAMS');
      assert.deepEqual(body.error.details, { open: 2, allowed: 2 });
      await first.close();
      await few.until(async () => {
        const again = await fetch(`${few.daemon.url}/v1/events`, { headers: { authorization: `Bearer ${few.daemon.token}` } });
        await again.body?.cancel();
        return again.status === 200;
      }, 5_000, 'a stream to be taken once one is closed');
      await second.close();
    } finally {
      await few.stop();
    }
  });

  it('cuts off 200 clients that stop reading once each is past its bound, with memory bounded and the API answering', async () => {
    const stalled = await Promise.all(Array.from({ length: 200 }, () => stalledClient(harness)));
    const reader = await ReadingClient.open(harness);
    const overflowLog = () => harness.logLines.filter((line) => line.includes('disconnected an event stream client that fell behind'));
    const overflowLines = () => overflowLog().length;
    const linesBefore = overflowLines();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    let answers = 0;
    const failures: string[] = [];
    let slowest = 0;
    let bursting = true;
    // Health and tenants are asked for throughout: they must keep answering while events fan out.
    const asking = (async () => {
      while (bursting) {
        // While a tenant is being added, GET /v1/tenants can answer 404 for it (its users file is not
        // open yet): a race in registration that has nothing to do with events, so it is kept apart.
        await registering;
        const started = Date.now();
        const [health, tenants] = await Promise.all([harness.api('GET', '/v1/health'), harness.api('GET', '/v1/tenants')]);
        slowest = Math.max(slowest, Date.now() - started);
        if (health.status === 200 && tenants.status === 200) answers++;
        else failures.push(`${health.status} ${tenants.status} ${JSON.stringify(tenants.body).slice(0, 200)}`);
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    // Each round is one large users event, sent to 201 clients.
    let fannedOutBytes = 0;
    const sizes = () => reader.events.reduce((sum, e) => sum + e.id.length + JSON.stringify(e.event).length + 13, 0);
    const { id: bulkTenant } = await syncedTenant(3);
    for (let round = 0; round < 12 && overflowLines() - linesBefore < 200; round++) {
      const seen = reader.events.length;
      await largeUsersEvent(bulkTenant, 4_000);
      await harness.until(() => reader.events.slice(seen).some((e) => e.event.type === 'users' && e.event.users.length === 4_000), 20_000);
      fannedOutBytes = sizes() * 201;
    }
    await harness.until(() => overflowLines() - linesBefore >= 200, 30_000, 'every stalled client to be cut off');
    bursting = false;
    await asking;

    assert.equal(overflowLines() - linesBefore, 200, 'each cut-off client logged once');
    const largestFrame = Math.max(...reader.events.map((e) => e.id.length + JSON.stringify(e.event).length + 13));
    for (const line of overflowLog().slice(linesBefore)) {
      const { bufferedBytes } = JSON.parse(line) as { bufferedBytes: number };
      assert.ok(bufferedBytes <= clientBufferBytes + 2 * largestFrame, `held ${bufferedBytes} bytes for one client, bound ${clientBufferBytes}`);
    }
    await harness.until(async () => (await harness.api('GET', '/v1/health')).status === 200 && reader.events.length > 0, 5_000);
    assert.deepEqual(failures, [], 'the API answered every request during the burst');
    assert.ok(answers >= 3, `the API answered throughout (${answers} rounds)`);
    assert.equal(reader.messages.filter((m) => m.event === 'overflow').length, 0, 'the client that reads is not cut off');
    // Large events go out in slices between API requests; the reader still got each once, in order.
    const seqs = reader.events.map((e) => seqOf(e.id));
    assert.deepEqual(seqs, seqs.map((_, index) => (seqs[0] as number) + index), 'consecutive ids');
    const rssGrowth = rssPeak - rssBefore;
    // Without a bound the daemon would hold everything sent for every stalled client.
    assert.ok(fannedOutBytes > 2 * rssGrowth, `memory grew by ${rssGrowth} bytes while ${fannedOutBytes} bytes were fanned out`);

    process.stdout.write(`      (slowest health+tenants answer during the burst: ${slowest} ms; rss +${Math.round(rssGrowth / 1048576)} MiB for ${Math.round(fannedOutBytes / 1048576)} MiB fanned out)\n`);
    for (const client of stalled) client.socket.destroy();
    await reader.close();
  });

  it('tells a client that fell behind why, before it disconnects it', async () => {
    const slow = await stalledClient(harness);
    const cutOff = () => harness.logLines.filter((line) => line.includes('disconnected an event stream client that fell behind')).length;
    const before = cutOff();
    const { id } = await syncedTenant(3);
    while (cutOff() === before) await largeUsersEvent(id, 4_000);
    // The client reads again: after what the kernel held comes the reason, then the end of the stream.
    slow.resume();
    await harness.until(() => slow.received().includes('event: overflow'), 10_000, 'the overflow message');
    const overflowData = /event: overflow\ndata: (.*)\n/.exec(slow.received())?.[1] ?? '{}';
    const overflow = JSON.parse(overflowData) as EventStreamOverflow;
    assert.equal(overflow.limitBytes, clientBufferBytes);
    assert.match(overflow.message, /more than 262144 bytes behind.*Reconnect with Last-Event-ID/);
    slow.socket.destroy();
  });
});
