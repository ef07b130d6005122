import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { HOUR, MINUTE, TestClock, TEST_NOW } from '../support/test-clock.js';

const PEERS = ['02' + 'a'.repeat(64), '03' + 'b'.repeat(64), '02' + 'c'.repeat(64)];
const point = (n: number): string => `${n.toString(16).padStart(64, '0')}:0`;

type Step =
  | { kind: 'peer'; peer: number; online: boolean; gapMs: number }
  | { kind: 'open'; peer: number; gapMs: number }
  | { kind: 'compact'; gapMs: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('peer' as const),
      peer: fc.nat(PEERS.length - 1),
      online: fc.boolean(),
      // Whole and fractional milliseconds (nanosecond timestamps give fractions).
      gapMs: fc.oneof(
        fc.integer({ min: 1, max: 3 * HOUR }),
        // fast-check favours small values: these make sure hours go by.
        fc.integer({ min: 1, max: 3 * HOUR }).map((g) => g + 30 * MINUTE),
        fc.double({ min: 0.001, max: HOUR, noNaN: true }),
        fc.double({ min: 0.001, max: HOUR, noNaN: true }).map((g) => g + 30 * MINUTE),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('open' as const),
      peer: fc.nat(PEERS.length - 1),
      gapMs: fc.integer({ min: 1, max: HOUR }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('compact' as const),
      gapMs: fc.integer({ min: 0, max: 10 * MINUTE }),
    }),
  },
);

function storeOn(clock: TestClock, retentionMs?: number): ChannelEventStore {
  return new ChannelEventStore({
    node: 'n',
    clock,
    retentionMs,
  });
}

describe('history retention: compaction', () => {
  it('keeps every lifetime figure and every window from the horizon on exact (property, against the full log)', async () => {
    let droppedInAllRuns = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 150, maxLength: 400 }),
        fc.integer({ min: 2, max: 48 }),
        async (steps, retentionHours) => {
          const clock = new TestClock(TEST_NOW);
          const retentionMs = retentionHours * HOUR;
          const compacted = storeOn(clock, retentionMs);
          const full = storeOn(clock);
          let channels = 0;
          let dropped = 0;
          // Every peer has a channel from the start, so that its events are logged.
          for (const [i, pubkey] of PEERS.entries()) {
            compacted.openChannel(pubkey, point(i), clock.now());
            full.openChannel(pubkey, point(i), clock.now());
            channels += 1;
          }
          await new Promise((resolve) => setImmediate(resolve));
          for (const s of steps) {
            clock.advance(s.gapMs);
            if (s.kind === 'peer') {
              compacted.peerEvent(PEERS[s.peer] as string, s.online, clock.now());
              full.peerEvent(PEERS[s.peer] as string, s.online, clock.now());
            } else if (s.kind === 'open') {
              compacted.openChannel(PEERS[s.peer] as string, point(channels), clock.now());
              full.openChannel(PEERS[s.peer] as string, point(channels), clock.now());
              channels += 1;
            } else {
              dropped += compacted.compact();
            }
          }
          const now = clock.now();
          const horizon = now - retentionMs;
          for (const channel of full.channels()) {
            const other = compacted.channel(channel.channelPoint);
            assert.ok(other !== undefined);
            // Lifetime uptime: exactly lnd's figure, whatever was compacted.
            assert.deepEqual(compacted.channelInfo(other), full.channelInfo(channel));
            // Windows from the horizon on: exact; before it: clamped to it.
            const from = Math.max(horizon, channel.openedAt);
            assert.deepEqual(
              compacted.channelUptime(other, from, now),
              full.channelUptime(channel, from, now),
            );
            const clamped = compacted.channelUptime(other, channel.openedAt - HOUR, now);
            assert.equal(clamped.from, Math.max(from, Math.min(channel.openedAt, now)));
            assert.deepEqual(
              compacted.onlinePeriods(other, from),
              full.onlinePeriods(channel, from),
            );
          }
          for (const pubkey of PEERS) {
            const a = compacted.peer(pubkey);
            const b = full.peer(pubkey);
            assert.ok(a !== undefined && b !== undefined);
            assert.equal(a.flapCount, b.flapCount);
            assert.equal(a.log.committedCount + a.log.header().offset, b.log.committedCount);
            if (horizon <= now) {
              assert.equal(
                compacted.uptime(pubkey, horizon, now),
                full.uptime(pubkey, horizon, now),
              );
            }
          }
          droppedInAllRuns += dropped;
        },
      ),
      { numRuns: 200 },
    );
    // The property was tried on compacted logs, not only on logs too short to compact.
    assert.ok(droppedInAllRuns > 1_000, `${droppedInAllRuns} events compacted in all runs`);
  });

  it('bounds a long-running log by the retention', () => {
    const clock = new TestClock(TEST_NOW);
    const store = storeOn(clock, 24 * HOUR);
    const pubkey = PEERS[0] as string;
    store.openChannel(pubkey, point(0), clock.now());
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      let maxCommitted = 0;
      let dropped = 0;
      // 30 days of a peer flapping every 10 minutes, compacted hourly.
      for (let i = 0; i < 30 * 24 * 6; i++) {
        clock.advance(10 * MINUTE);
        store.peerEvent(pubkey, i % 2 === 0, clock.now());
        if (i % 6 === 5) dropped += store.compact();
        maxCommitted = Math.max(maxCommitted, store.peer(pubkey)?.log.committedCount ?? 0);
      }
      // A day holds 144 events; compaction runs hourly: at most a day and an hour of them.
      assert.ok(maxCommitted <= 24 * 6 + 6 + 2, `${maxCommitted} committed events kept`);
      const log = store.peer(pubkey)?.log;
      assert.ok(log !== undefined);
      // The rate limiter commits fewer as the flap count grows; every committed one older is gone.
      assert.ok(dropped > 500, `${dropped} dropped`);
      assert.equal(log.header().offset, dropped);
      assert.ok((store.peer(pubkey)?.log.byteSize ?? 0) < 17 * 1024);
    });
  });
});
