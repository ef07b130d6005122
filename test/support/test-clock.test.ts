import assert from 'node:assert/strict';
import { SECOND, TEST_NOW, TestClock } from './test-clock.js';

describe('TestClock (the tests’ scheduler)', () => {
  it('runs due timers in order, each at its own time, an interval as often as it falls due', () => {
    const clock = new TestClock(TEST_NOW);
    const ran: [string, number][] = [];
    const at = (name: string) => () => ran.push([name, clock.now() - TEST_NOW]);
    clock.after(3 * SECOND, at('three'));
    clock.after(SECOND, at('one'));
    clock.after(SECOND, at('one again'));
    const ticker = clock.every(2 * SECOND, at('tick'));
    const cancelled = clock.after(2 * SECOND, at('cancelled'));
    cancelled.cancel();
    assert.equal(clock.advance(5 * SECOND), TEST_NOW + 5 * SECOND);
    assert.deepEqual(ran, [
      ['one', SECOND],
      ['one again', SECOND],
      ['tick', 2 * SECOND],
      ['three', 3 * SECOND],
      ['tick', 4 * SECOND],
    ]);
    assert.equal(clock.pendingTimers, 1, 'the ticker');
    assert.equal(clock.nextDue(), TEST_NOW + 6 * SECOND);
    ticker.cancel();
    assert.equal(clock.pendingTimers, 0);
  });

  it('runs nothing when set back, and a timer set from a timer in the same advance', () => {
    const clock = new TestClock(TEST_NOW);
    const ran: number[] = [];
    clock.after(SECOND, () => {
      clock.after(SECOND, () => ran.push(clock.now() - TEST_NOW));
    });
    clock.set(TEST_NOW - SECOND);
    assert.equal(clock.pendingTimers, 1);
    clock.set(TEST_NOW + 2 * SECOND);
    assert.deepEqual(ran, [2 * SECOND]);
  });

  it('sleeps until the time comes, or until aborted; tickAsync lets what a timer started settle', async () => {
    const clock = new TestClock(TEST_NOW);
    let slept = false;
    const sleeping = clock.sleep(SECOND).then(() => (slept = true));
    await clock.tickAsync(SECOND - 1);
    assert.equal(slept, false);
    await clock.tickAsync(1);
    assert.equal(slept, true);
    await sleeping;

    const abort = new AbortController();
    const aborted = clock.sleep(60 * SECOND, { signal: abort.signal });
    abort.abort();
    await aborted;
    assert.equal(clock.pendingTimers, 0, 'its timer is cancelled');
  });

  it('runUntil fires the timers a promise waits on, one after the other', async () => {
    const clock = new TestClock(TEST_NOW);
    const work = async (): Promise<number> => {
      await clock.sleep(SECOND);
      await clock.sleep(2 * SECOND);
      return clock.now();
    };
    assert.equal(await clock.runUntil(work()), TEST_NOW + 3 * SECOND);
  });
});
