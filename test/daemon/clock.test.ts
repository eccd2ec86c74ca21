import assert from 'node:assert/strict';
import { systemClock } from '../../daemon/clock';
import { ManualClock } from '../support/manualClock';

describe('clock', () => {
  it('fires manual timers in due order, each at its own due time', () => {
    const clock = new ManualClock(1_000);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 200);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 100);
    clock.setTimeout(() => fired.push(['c', clock.now()]), 5_000);
    clock.advance(1_000);
    assert.deepEqual(fired, [
      ['a', 1_100],
      ['b', 1_200],
    ]);
    assert.equal(clock.now(), 2_000);
    assert.equal(clock.pendingTimers, 1);
  });

  it('fires a timer scheduled by a timer when it falls inside the same advance', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 50);
    }, 100);
    clock.advance(200);
    assert.deepEqual(fired, [100, 150]);
  });

  it('does not fire a cancelled timer, nor any timer when set back in time', () => {
    const clock = new ManualClock(10_000);
    let fired = 0;
    const timer = clock.setTimeout(() => fired++, 10);
    timer.cancel();
    clock.setTimeout(() => fired++, 10);
    clock.set(5_000);
    assert.equal(fired, 0);
    assert.equal(clock.now(), 5_000);
    clock.set(10_100);
    assert.equal(fired, 1);
  });

  it('resolves a manual sleep only when time is advanced past it, and rejects it when aborted', async () => {
    const clock = new ManualClock(0);
    let woke = false;
    const sleeping = clock.sleep(60_000).then(() => {
      woke = true;
    });
    await clock.advanceAsync(59_999);
    assert.equal(woke, false);
    await clock.advanceAsync(1);
    await sleeping;
    assert.equal(woke, true);

    const controller = new AbortController();
    const aborted = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(aborted, /stop/);
    assert.equal(clock.pendingTimers, 0);
  });

  it('sleeps in real time with the system clock', async () => {
    const started = systemClock.now();
    await systemClock.sleep(20);
    assert.ok(systemClock.now() - started >= 15);
  });
});
