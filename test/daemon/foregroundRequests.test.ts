import assert from 'node:assert/strict';
import { ForegroundRequests } from '../../daemon/foregroundRequests';

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('ForegroundRequests: background work gives way to the API requests in flight, within a bound', () => {
  it('runs background work on the next turn when no request is in flight', async () => {
    const requests = new ForegroundRequests(10_000);
    const order: string[] = [];
    const turn = requests.backgroundTurn().then(() => order.push('background'));
    await nextTurn();
    order.push('a turn later');
    await turn;
    assert.deepEqual(order, ['background', 'a turn later']);
  });

  it('holds background work while a request is in flight, through any number of its turns, and runs it once the request ends', async () => {
    const requests = new ForegroundRequests(10_000);
    const order: string[] = [];
    const end = requests.begin();
    const turn = requests.backgroundTurn().then(() => order.push('background'));
    for (let i = 0; i < 20; i++) {
      await nextTurn();
      order.push(`request turn ${i}`);
    }
    end();
    end(); // a response that both finishes and closes ends its request once
    await turn;
    assert.equal(requests.inFlight, 0);
    assert.deepEqual(order, [...Array.from({ length: 20 }, (_, i) => `request turn ${i}`), 'background']);
  });

  it('runs one waiting slice per turn, oldest first, so that a request beginning between two holds back the rest', async () => {
    const requests = new ForegroundRequests(10_000);
    const ran: number[] = [];
    const turns = [0, 1, 2].map((n) => requests.backgroundTurn().then(() => ran.push(n)));
    await nextTurn();
    assert.deepEqual(ran, [0], 'more than one slice ran in one turn');
    // A request's socket is read between two turns: the slices still waiting wait for it.
    const end = requests.begin();
    for (let i = 0; i < 5; i++) await nextTurn();
    assert.deepEqual(ran, [0]);
    end();
    await Promise.all(turns);
    assert.deepEqual(ran, [0, 1, 2]);
  });

  it('waits for every request in flight, not only the first to end', async () => {
    const requests = new ForegroundRequests(10_000);
    let ran = false;
    const endFirst = requests.begin();
    const endSecond = requests.begin();
    const turn = requests.backgroundTurn().then(() => (ran = true));
    endFirst();
    for (let i = 0; i < 5; i++) await nextTurn();
    assert.equal(ran, false, 'ran while a request was still in flight');
    endSecond();
    await turn;
    assert.equal(ran, true);
  });

  it(`runs background work after its bound even while a request never ends`, async () => {
    const requests = new ForegroundRequests(30);
    requests.begin();
    const started = performance.now();
    await requests.backgroundTurn();
    const waited = performance.now() - started;
    // Node may fire a timer up to a millisecond early; the upper side only says it did not wait for ever.
    assert.ok(waited >= 29, `waited ${waited.toFixed(1)} ms`);
    assert.ok(waited < 5_000, `waited ${waited.toFixed(1)} ms`);
  });

  it('does not count a request while it waits on background work, so that work does not wait for it', async () => {
    const requests = new ForegroundRequests(10_000);
    const end = requests.begin();
    const order: string[] = [];
    const background = requests.backgroundTurn().then(() => order.push('background'));
    await requests.whileWaitingOn(background);
    order.push('request answered');
    assert.equal(requests.inFlight, 1);
    end();
    assert.equal(requests.inFlight, 0);
    assert.deepEqual(order, ['background', 'request answered']);
  });
});
