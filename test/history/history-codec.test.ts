import assert from 'node:assert/strict';
import {
  decodeEvents,
  decodeEventsInto,
  encodeEvents,
  HistoryCorruptError,
} from '../../src/history/history-codec.js';
import type { LogEvents } from '../../src/store/online-log.js';

/** Park-Miller: the same draws on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}

function events(times: readonly number[], kinds: readonly number[]): LogEvents {
  return { times: Float64Array.from(times), kinds: Uint8Array.from(kinds) };
}

function roundTrip(input: LogEvents): string {
  const text = encodeEvents(input);
  const back = decodeEvents(text, 'test');
  assert.equal(back.times.length, input.times.length);
  input.times.forEach((time, i) => {
    assert.ok(Object.is(back.times[i], time), `time ${i}: ${back.times[i]} for ${time}`);
    assert.equal(back.kinds[i], input.kinds[i]);
  });
  return text;
}

describe('history codec: events', () => {
  it('gives back the very same doubles and kinds, compact where it can be, raw where not', () => {
    const random = seeded(7);
    const encodings = { compact: 0, raw: 0 };
    for (let trial = 0; trial < 1500; trial++) {
      const n = 1 + Math.floor(random() * 300);
      // Real event times (integer ms, sub-ms from RFC 3339 nanoseconds), times
      // near zero (as tests use) and far ones; steps of every size, and repeats.
      const base = [1.7e12, 0, 1e3, -5e3, 1e15][trial % 5] as number;
      let time = base + random() * 1e6;
      const times: number[] = [];
      const kinds: number[] = [];
      for (let i = 0; i < n; i++) {
        const pick = random();
        time +=
          pick < 0.1
            ? 0
            : pick < 0.4
              ? Math.floor(random() * 6e4)
              : pick < 0.9
                ? random() * 1e5
                : random() * 3e9;
        times.push(time);
        kinds.push(random() < 0.5 ? 1 : 0);
      }
      const text = roundTrip(events(times, kinds));
      encodings[text.startsWith('~') ? 'compact' : 'raw'] += 1;
    }
    assert.ok(encodings.compact > 500 && encodings.raw > 0, JSON.stringify(encodings));
  });

  it('takes 5 bytes or less per event a minute apart at sub-microsecond times, against 9 raw', () => {
    const times = Array.from(
      { length: 256 },
      (_, i) => 1_765_000_000_000 + 0.123456 + i * 60_000.5,
    );
    const text = roundTrip(
      events(
        times,
        times.map((_, i) => i % 2),
      ),
    );
    assert.ok(text.startsWith('~'));
    assert.ok(((text.length - 1) * 3) / 4 < 256 * 5 + 20, `${text.length} characters`);
  });

  it('falls back to raw for times that run backwards, and for an empty list', () => {
    assert.ok(!roundTrip(events([10, 5], [1, 0])).startsWith('~'));
    assert.equal(roundTrip(events([], [])), '');
    assert.ok(roundTrip(events([1.7e12], [1])).startsWith('~'));
  });

  it('decodes a slice into columns at an index', () => {
    const times = Array.from({ length: 20 }, (_, i) => 1.7e12 + i * 1000);
    const text = encodeEvents(
      events(
        times,
        times.map(() => 1),
      ),
    );
    const into = { times: new Float64Array(12), kinds: new Uint8Array(12) };
    decodeEventsInto(text, 'test', 15, 5, into, 7);
    assert.deepEqual([...into.times.subarray(7)], times.slice(15));
    assert.throws(() => {
      decodeEventsInto(text, 'test', 15, 4, into, 7);
    }, HistoryCorruptError);
  });

  it('refuses truncated, padded and unknown encodings with HistoryCorruptError', () => {
    const times = Array.from({ length: 50 }, (_, i) => 1.7e12 + i * 60_000.25);
    const compact = encodeEvents(
      events(
        times,
        times.map(() => 0),
      ),
    );
    const bytes = Buffer.from(compact.slice(1), 'base64');
    const variants = [
      `~${bytes.subarray(0, bytes.length - 3).toString('base64')}`,
      `~${Buffer.concat([bytes, Buffer.from([1, 2])]).toString('base64')}`,
      `~${Buffer.concat([Buffer.from([9]), bytes.subarray(1)]).toString('base64')}`,
      `~${bytes.subarray(0, 5).toString('base64')}`,
      Buffer.alloc(10).toString('base64'),
      42,
    ];
    for (const text of variants)
      assert.throws(() => decodeEvents(text, 'test'), HistoryCorruptError);
  });
});
