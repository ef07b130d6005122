import assert from 'node:assert/strict';
import { StoreError } from '../../src/store/errors.js';
import { OnlineLog, type OnlineEvent } from '../../src/store/online-log.js';
import { HOUR, SECOND, TEST_NOW } from '../support/test-clock.js';

/** A log holding exactly these events in sequence (all but the last committed). */
function logOf(events: OnlineEvent[]): OnlineLog {
  const log = new OnlineLog();
  // A negative limit commits the staged event whatever the spacing.
  for (const e of events) log.add(e, -1);
  return log;
}

const on = (time: number): OnlineEvent => ({ time, online: true });
const off = (time: number): OnlineEvent => ({ time, online: false });
const ago = (hours: number): number => TEST_NOW - hours * HOUR;

describe('OnlineLog online periods (lnd TestGetOnlinePeriod)', () => {
  const all = (log: OnlineLog) =>
    log.periods(-Infinity, TEST_NOW, TEST_NOW).map(({ start, end }) => ({ start, end }));
  const cases: [string, OnlineEvent[], { start: number; end: number }[]][] = [
    ['no events', [], []],
    ['online then offline', [on(ago(3)), off(ago(2))], [{ start: ago(3), end: ago(2) }]],
    ['only offline', [off(ago(4))], []],
    ['trailing online ends now', [on(ago(4))], [{ start: ago(4), end: TEST_NOW }]],
    ['duplicate online', [on(ago(4)), on(ago(3))], [{ start: ago(4), end: TEST_NOW }]],
    ['duplicate offline', [off(ago(4)), off(ago(3))], []],
    [
      'duplicate online then offline',
      [on(ago(4)), on(ago(3)), off(ago(2))],
      [{ start: ago(4), end: ago(2) }],
    ],
    [
      'duplicate offline then online',
      [off(ago(4)), off(ago(3)), on(ago(2))],
      [{ start: ago(2), end: TEST_NOW }],
    ],
  ];
  for (const [name, events, expected] of cases) {
    it(name, () => {
      assert.deepEqual(all(logOf(events)), expected);
    });
  }

  it('marks the trailing period ongoing only when the window reaches now', () => {
    const log = logOf([on(ago(4))]);
    assert.deepEqual(log.periods(ago(5), TEST_NOW, TEST_NOW), [
      { start: ago(4), end: TEST_NOW, ongoing: true },
    ]);
    assert.deepEqual(log.periods(ago(5), ago(1), TEST_NOW), [
      { start: ago(4), end: ago(1), ongoing: false },
    ]);
  });

  it('clips periods to the window and skips those outside it', () => {
    const log = logOf([on(ago(7)), off(ago(6)), on(ago(5)), off(ago(4)), on(ago(3))]);
    assert.deepEqual(log.periods(ago(6.5), ago(3.5), TEST_NOW), [
      { start: ago(6.5), end: ago(6), ongoing: false },
      { start: ago(5), end: ago(4), ongoing: false },
    ]);
    assert.deepEqual(log.periods(ago(5.5), ago(4.5), TEST_NOW), [
      { start: ago(5), end: ago(4.5), ongoing: false },
    ]);
    assert.deepEqual(log.periods(ago(3.9), ago(3.1), TEST_NOW), []);
  });
});

describe('OnlineLog uptime (lnd TestUptime)', () => {
  it('end before start is INVALID_RANGE', () => {
    assert.throws(
      () => logOf([]).uptime(TEST_NOW, ago(3), TEST_NOW),
      (e: unknown) => e instanceof StoreError && e.code === 'INVALID_RANGE',
    );
  });

  it('zero end time is INVALID_RANGE', () => {
    assert.throws(
      () => logOf([]).uptime(0, 0, TEST_NOW),
      (e: unknown) => e instanceof StoreError && e.code === 'INVALID_RANGE',
    );
  });

  const cases: [string, OnlineEvent[], number, number, number][] = [
    ['online only, over 4 h', [on(ago(4))], ago(4), TEST_NOW, 4 * HOUR],
    ['online 1 h inside a 4 h window', [on(ago(3)), off(ago(2))], ago(4), TEST_NOW, HOUR],
    ['online before the window', [on(ago(3))], ago(2), TEST_NOW, 2 * HOUR],
    ['offline after the window', [on(ago(4)), off(TEST_NOW + HOUR)], ago(2), TEST_NOW, 2 * HOUR],
    ['all inside the window', [on(ago(2))], ago(3), ago(1), HOUR],
    [
      'several periods',
      [on(ago(7)), off(ago(6)), on(ago(5)), off(ago(4)), on(ago(3))],
      ago(8),
      ago(1),
      4 * HOUR,
    ],
    ['no events', [], ago(8), TEST_NOW, 0],
  ];
  for (const [name, events, start, end, expected] of cases) {
    it(`${name} = ${expected / HOUR} h`, () => {
      assert.equal(logOf(events).uptime(start, end, TEST_NOW), expected);
    });
  }

  it('a trailing online event later than now adds nothing', () => {
    assert.equal(logOf([on(TEST_NOW + HOUR)]).uptime(ago(1), TEST_NOW + 2 * HOUR, TEST_NOW), 0);
  });
});

describe('OnlineLog rate limiter', () => {
  it('stages the first event, replaces it within the limit, commits it past the limit', () => {
    const log = new OnlineLog();
    log.add(off(TEST_NOW), SECOND);
    assert.deepEqual(log.staged, off(TEST_NOW));
    assert.equal(log.committedCount, 0);

    log.add(on(TEST_NOW + SECOND), SECOND); // exactly at the limit: not strictly after
    assert.deepEqual(log.staged, on(TEST_NOW + SECOND));
    assert.equal(log.committedCount, 0);

    log.add(off(TEST_NOW + 2 * SECOND + 1), SECOND);
    assert.deepEqual(log.committed(), [on(TEST_NOW + SECOND)]);
    assert.deepEqual(log.staged, off(TEST_NOW + 2 * SECOND + 1));
  });

  it('clear drops the committed events and the staged one', () => {
    const log = logOf([on(ago(2)), off(ago(1))]);
    log.clear();
    assert.equal(log.committedCount, 0);
    assert.equal(log.staged, undefined);
    assert.equal(log.uptime(ago(3), TEST_NOW, TEST_NOW), 0);
  });

  it('keeps 17 bytes per committed event', () => {
    const log = new OnlineLog();
    for (let i = 0; i < 1024; i++) log.add({ time: i * 2 * SECOND, online: i % 2 === 0 }, SECOND);
    assert.equal(log.committedCount, 1023);
    assert.equal(log.byteSize, 1024 * 17);
  });
});

describe('OnlineLog restored from shared columns', () => {
  it('restores logs carved from one buffer, each growing out of it without touching its neighbours', () => {
    const originals = [3, 1, 200, 7].map((n, k) =>
      logOf(
        Array.from({ length: n + 1 }, (_, i) =>
          (i % 2 === 0 ? on : off)(ago(300) + (i + k) * HOUR),
        ),
      ),
    );
    const columns = OnlineLog.columnsFor(originals.map((log) => log.committedCount));
    assert.equal(columns[0]?.times.buffer, columns[3]?.times.buffer, 'one buffer for small logs');
    const restored = originals.map((log, k) => {
      const header = log.header();
      const events = log.eventsView(header.offset, header.end);
      const into = columns[k];
      assert.ok(into);
      into.times.set(events.times);
      into.kinds.set(events.kinds);
      return OnlineLog.restore(header, into);
    });
    restored.forEach((log, k) => {
      const h = log.header();
      assert.equal(
        log.eventsView(h.offset, h.end).times.buffer,
        columns[k]?.times.buffer,
        'adopted, not copied',
      );
    });
    // Past their capacity: every log reallocates, in its own order.
    for (let i = 0; i < 300; i++) {
      for (const [k, log] of [...originals, ...restored].entries()) {
        log.add((i % 2 === 0 ? off : on)(ago(10) + i * 60 * SECOND + (k % 4)), -1);
      }
    }
    restored.forEach((log, k) => {
      const original = originals[k];
      assert.ok(original);
      assert.deepEqual(
        log.periods(-Infinity, TEST_NOW, TEST_NOW),
        original.periods(-Infinity, TEST_NOW, TEST_NOW),
      );
      assert.equal(
        log.uptime(ago(400), TEST_NOW, TEST_NOW),
        original.uptime(ago(400), TEST_NOW, TEST_NOW),
      );
    });
  });
});
