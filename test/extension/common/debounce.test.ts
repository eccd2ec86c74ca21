import assert from 'node:assert/strict';
import { debounce } from '../../../extension/common/debounce';
import { every } from '../../../extension/common/every';
import { manualTimers } from '../support/manualTimers';

describe('extension common: one redraw per burst, and redraws that move on by themselves (fake time)', () => {
  it('runs once, the given time after the first request of a burst, however many requests follow', () => {
    const timers = manualTimers();
    let runs = 0;
    const redraw = debounce(timers, 150, () => runs++);
    redraw.schedule();
    timers.advance(100);
    redraw.schedule();
    redraw.schedule();
    assert.equal(runs, 0);
    assert.equal(redraw.pending, true);
    timers.advance(50);
    assert.equal(runs, 1, 'later requests did not push the run back');
    assert.equal(redraw.pending, false);
    timers.advance(1000);
    assert.equal(runs, 1, 'nothing more was asked for');
    redraw.schedule();
    timers.advance(150);
    assert.equal(runs, 2, 'a new burst runs again');
  });

  it('forgets a waiting run when cancelled or disposed, and ignores requests after disposal', () => {
    const timers = manualTimers();
    let runs = 0;
    const redraw = debounce(timers, 30, () => runs++);
    redraw.schedule();
    redraw.cancel();
    timers.advance(30);
    assert.equal(runs, 0);
    redraw.schedule();
    redraw.dispose();
    timers.advance(30);
    redraw.schedule();
    timers.advance(30);
    assert.equal(runs, 0);
    assert.equal(redraw.pending, false);
  });

  it('repeats every interval until disposed', () => {
    const timers = manualTimers();
    let ticks = 0;
    const ticking = every(timers, 60_000, () => ticks++);
    timers.advance(59_999);
    assert.equal(ticks, 0);
    timers.advance(1);
    assert.equal(ticks, 1);
    timers.advance(60_000);
    timers.advance(60_000);
    assert.equal(ticks, 3);
    ticking.dispose();
    timers.advance(600_000);
    assert.equal(ticks, 3);
  });
});
