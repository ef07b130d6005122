import assert from 'node:assert/strict';
import { RateLimitedLog } from '../../src/log/rate-limited-log.js';
import { MINUTE, SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';

/** A limiter and what went through it: the `suppressed` of each emitted line, by key. */
function harness(...options: [intervalMs?: number, burst?: number, maxKeys?: number]) {
  const clock = new TestClock(TEST_NOW);
  const limiter = new RateLimitedLog(clock, ...options);
  const emitted = new Map<string, number[]>();
  const log = (key: string, times = 1): void => {
    for (let i = 0; i < times; i++) {
      limiter.log(key, (suppressed) => {
        emitted.set(key, [...(emitted.get(key) ?? []), suppressed]);
      });
    }
  };
  return { clock, log, emitted: (key: string) => emitted.get(key) ?? [] };
}

describe('RateLimitedLog', () => {
  it('lets 5 lines per key through each minute by default, then holds the rest back', () => {
    const h = harness();
    h.log('invalid_json', 12);
    assert.deepEqual(h.emitted('invalid_json'), [0, 0, 0, 0, 0]);
  });

  it('reports how many lines it held back with the first line of the next interval', () => {
    const h = harness();
    h.log('invalid_json', 12);
    h.clock.advance(MINUTE - 1);
    h.log('invalid_json');
    assert.deepEqual(h.emitted('invalid_json'), [0, 0, 0, 0, 0], 'still the same interval');
    h.clock.advance(1);
    h.log('invalid_json', 3);
    // 7 held back in the first interval, and the one just before its end.
    assert.deepEqual(h.emitted('invalid_json'), [0, 0, 0, 0, 0, 8, 0, 0]);
    h.clock.advance(MINUTE);
    h.log('invalid_json');
    assert.deepEqual(h.emitted('invalid_json').slice(8), [0], 'nothing held back since');
  });

  it('limits each key on its own', () => {
    const h = harness();
    h.log('a', 7);
    h.log('b', 2);
    assert.equal(h.emitted('a').length, 5);
    assert.deepEqual(h.emitted('b'), [0, 0]);
  });

  it('starts the interval of a key at its first line, not at a fixed tick', () => {
    const h = harness();
    h.log('a', 6);
    h.clock.advance(30 * SECOND);
    h.log('b', 6);
    h.clock.advance(30 * SECOND);
    h.log('a');
    h.log('b');
    assert.deepEqual(h.emitted('a'), [0, 0, 0, 0, 0, 1]);
    assert.deepEqual(h.emitted('b'), [0, 0, 0, 0, 0], 'b has 30 s of its minute left');
  });

  it('takes its interval and burst as given', () => {
    const h = harness(10 * SECOND, 2);
    h.log('a', 4);
    assert.deepEqual(h.emitted('a'), [0, 0]);
    h.clock.advance(10 * SECOND);
    h.log('a');
    assert.deepEqual(h.emitted('a'), [0, 0, 2]);
  });

  it('forgets every key when a new one comes past maxKeys, so that keys never grow without bound', () => {
    const h = harness(MINUTE, 1, 2);
    h.log('a', 3);
    h.log('b');
    assert.deepEqual(h.emitted('a'), [0]);
    // A third key: the windows start over, a's held-back lines with them.
    h.log('c');
    h.log('a');
    assert.deepEqual(h.emitted('c'), [0]);
    assert.deepEqual(h.emitted('a'), [0, 0]);
  });
});
