import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PeerMonitor } from '../../src/store/peer-monitor.js';
import { HOUR, SECOND, TEST_NOW } from '../support/test-clock.js';
import { ReferencePeerLog } from './reference-peer-log.js';

type Op = { kind: 'online' | 'offline' } | { kind: 'open' | 'close'; channel: number };

interface Step {
  dt: number;
  op: Op;
}

// Gaps around the rate limits (sub-second to minutes), hours, and past the 8 h cooldown.
const gap = fc.oneof(
  fc.integer({ min: 0, max: 2 * SECOND }),
  fc.integer({ min: 0, max: 90 * SECOND }),
  fc.integer({ min: 0, max: 3 * HOUR }),
  fc.integer({ min: 7 * HOUR, max: 30 * HOUR }),
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constantFrom<Op>({ kind: 'online' }, { kind: 'offline' }), weight: 6 },
  {
    arbitrary: fc.record({
      kind: fc.constantFrom<'open' | 'close'>('open', 'close'),
      channel: fc.integer({ min: 0, max: 2 }),
    }),
    weight: 2,
  },
);

const scenario = fc.record({
  // Start anywhere across the tiers (up to past the last one).
  initialCount: fc.integer({ min: 0, max: 1_500 }),
  initialLastFlapAgo: fc.option(fc.integer({ min: 0, max: 40 * HOUR }), { nil: undefined }),
  steps: fc.array(fc.record({ dt: gap, op }), { minLength: 1, maxLength: 80 }),
  // Query windows as fractions of the whole history, plus where "now" falls.
  windows: fc.array(
    fc.tuple(
      fc.double({ min: -0.2, max: 1.3, noNaN: true }),
      fc.double({ min: 0, max: 1.5, noNaN: true }),
    ),
    {
      minLength: 1,
      maxLength: 6,
    },
  ),
  nowAfter: fc.oneof(fc.integer({ min: 0, max: 5 * HOUR }), fc.integer({ min: -HOUR, max: 0 })),
});

function run(steps: Step[], count: number, lastFlap: number | undefined) {
  const monitor = new PeerMonitor(
    '02' + '00'.repeat(32),
    lastFlap === undefined ? undefined : { count, lastFlap },
    TEST_NOW,
  );
  if (lastFlap === undefined) monitor.flapCount = count;
  const reference = new ReferencePeerLog(count, lastFlap);
  let time = TEST_NOW;
  for (const { dt, op: o } of steps) {
    time += dt;
    switch (o.kind) {
      case 'online':
      case 'offline':
        monitor.onlineEvent(o.kind === 'online', time);
        reference.onlineEvent(o.kind === 'online', time);
        break;
      case 'open':
      case 'close': {
        const cp = `${'ab'.repeat(32)}:${o.channel}`;
        let oursFailed = false;
        let theirsFailed = false;
        try {
          if (o.kind === 'open') monitor.addChannel(cp, time);
          else monitor.removeChannel(cp);
        } catch {
          oursFailed = true;
        }
        try {
          if (o.kind === 'open') reference.addChannel(cp, time);
          else reference.removeChannel(cp);
        } catch {
          theirsFailed = true;
        }
        assert.equal(oursFailed, theirsFailed, `${o.kind} ${cp} fails alike`);
      }
    }
  }
  return { monitor, reference, end: time };
}

describe('OnlineLog against a brute-force lnd peerLog (property)', () => {
  it('agrees on flaps, the log, uptime and online periods', () => {
    fc.assert(
      fc.property(scenario, ({ initialCount, initialLastFlapAgo, steps, windows, nowAfter }) => {
        const lastFlap =
          initialLastFlapAgo === undefined ? undefined : TEST_NOW - initialLastFlapAgo;
        const { monitor, reference, end } = run(steps, initialCount, lastFlap);

        assert.equal(monitor.flapCount, reference.flapCount);
        assert.equal(monitor.lastFlap, reference.lastFlap);
        assert.deepEqual(monitor.log.committed(), reference.events);
        assert.deepEqual(monitor.log.staged, reference.staged);

        const now = end + nowAfter;
        const span = Math.max(1, end - TEST_NOW);
        const trailingOnline = reference.listEvents().at(-1)?.online === true;
        for (const [a, b] of windows) {
          const from = Math.round(TEST_NOW + a * span);
          const to = from + Math.round(b * span);
          assert.equal(
            monitor.log.uptime(from, to, now),
            reference.uptime(from, to, now),
            `uptime over [${from - TEST_NOW}, ${to - TEST_NOW}] now ${now - TEST_NOW}`,
          );

          const expected = reference
            .periods(now)
            .map((p, i, all) => ({
              start: Math.max(p.start, from),
              end: Math.min(p.end, to),
              ongoing: i === all.length - 1 && trailingOnline && to >= now,
            }))
            .filter((p) => p.end > p.start);
          const actual = monitor.log.periods(from, to, now).filter((p) => p.end > p.start);
          assert.deepEqual(actual, expected);
          // What GraphQL's cost limit counts before listing them.
          const listed = monitor.log.periods(from, to, now).length;
          assert.ok(monitor.log.periodsBound(from, to) >= listed, `bound under ${listed}`);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
