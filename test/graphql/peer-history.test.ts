import { strict as assert } from 'node:assert';
import { channelPoint, Harness, HOUR, iso, MINUTE, pubkey, SECOND, T0 } from './harness.js';

const CP = channelPoint(1);
const PEER = pubkey(1);

/**
 * A channel opened at T0 with its peer offline (nothing was heard of it), then
 * online at 10 min, offline 20 to 50 min, 60 to 65 min, and from 100 min on;
 * now is 120 min. Its offline periods last 10, 30, 5 and 20 (ongoing) minutes.
 */
async function fourOutages(): Promise<Harness> {
  const h = new Harness();
  await h.open(PEER, CP, T0);
  const store = h.store();
  for (const [minute, online] of [
    [10, true],
    [20, false],
    [50, true],
    [60, false],
    [65, true],
    [100, false],
  ] as const) {
    store.peerEvent(PEER, online, T0 + minute * MINUTE);
  }
  h.clock.set(T0 + 120 * MINUTE);
  return h;
}

const at = (minute: number): string => iso(T0 + minute * MINUTE);

const UPTIME = `query($pubkey: String!, $node: String, $from: DateTime!, $to: DateTime) {
  peer(pubkey: $pubkey, node: $node) {
    uptime(from: $from, to: $to) { from to uptimeSeconds unobservedSeconds ratio }
  }
}`;

const OUTAGES = `query($pubkey: String!, $node: String, $from: DateTime, $to: DateTime, $first: Int) {
  peer(pubkey: $pubkey, node: $node) {
    outages(from: $from, to: $to) {
      count totalSeconds longestSeconds medianSeconds
      periods(first: $first) { start end }
    }
  }
}`;

interface OutagesJson {
  count: number;
  totalSeconds: number;
  longestSeconds: number;
  medianSeconds: number | null;
  periods: { start: string; end: string | null }[];
}

async function uptime(h: Harness, vars: Record<string, unknown>): Promise<unknown> {
  return (await h.data<{ peer: { uptime: unknown } | null }>(UPTIME, { pubkey: PEER, ...vars }))
    .peer?.uptime;
}

async function outages(
  h: Harness,
  vars: Record<string, unknown> = {},
): Promise<OutagesJson | null | undefined> {
  return (
    await h.data<{ peer: { outages: OutagesJson | null } | null }>(OUTAGES, {
      pubkey: PEER,
      ...vars,
    })
  ).peer?.outages;
}

describe('GraphQL peer history', () => {
  describe('Peer.uptime', () => {
    it('counts the online time of the peer log over a window, to now by default', async () => {
      const h = await fourOutages();
      // Online 10-20, 50-60 and 65-100 min: 55 of 120 minutes.
      assert.deepEqual(await uptime(h, { from: at(0) }), {
        from: at(0),
        to: at(120),
        uptimeSeconds: 55 * 60,
        unobservedSeconds: 0,
        ratio: 55 / 120,
      });
      assert.deepEqual(await uptime(h, { from: at(15), to: at(55) }), {
        from: at(15),
        to: at(55),
        uptimeSeconds: 10 * 60,
        unobservedSeconds: 0,
        ratio: 10 / 40,
      });
    });

    it('clamps the window to the log and now', async () => {
      const h = await fourOutages();
      assert.deepEqual(await uptime(h, { from: iso(T0 - HOUR), to: iso(T0 + 5 * HOUR) }), {
        from: at(0),
        to: at(120),
        uptimeSeconds: 55 * 60,
        unobservedSeconds: 0,
        ratio: 55 / 120,
      });
      // After now, with or without to: an empty window at now.
      const empty = {
        from: at(120),
        to: at(120),
        uptimeSeconds: 0,
        unobservedSeconds: 0,
        ratio: null,
      };
      assert.deepEqual(await uptime(h, { from: at(130) }), empty);
      assert.deepEqual(await uptime(h, { from: at(130), to: at(140) }), empty);
    });

    it('counts observed time only: the ratio is over what was observed', async () => {
      const h = new Harness();
      const store = h.store();
      store.peerEvent(PEER, true, T0);
      await h.open(PEER, CP, T0);
      store.peerEvent(PEER, false, T0 + 30 * MINUTE);
      // lnd down from 1 h, back at 2 h: unobserved until 2 h 2 min (no status since).
      store.status(false, T0 + HOUR);
      store.status(true, T0 + 2 * HOUR);
      store.peerEvent(PEER, true, T0 + 150 * MINUTE);
      h.clock.set(T0 + 3 * HOUR);
      // Online 0-30 and 150-180 min; 62 of the 180 minutes unobserved.
      assert.deepEqual(await uptime(h, { from: at(0) }), {
        from: at(0),
        to: at(180),
        uptimeSeconds: 60 * 60,
        unobservedSeconds: 62 * 60,
        ratio: 60 / 118,
      });
      // Peer 1 as its channel: the same figures.
      const { channel } = await h.data<{ channel: { uptime: unknown } }>(
        `{ channel(channelPoint: "${CP}") { uptime(from: "${at(0)}") { from to uptimeSeconds unobservedSeconds ratio } } }`,
      );
      assert.deepEqual(channel.uptime, await uptime(h, { from: at(0) }));
    });

    it('is null for a peer known only from its persisted record, and for a node not tracked', async () => {
      const h = new Harness();
      h.persisted.set(`alice:${PEER}`, { count: 3, lastFlap: T0 });
      h.persisted.set(`carol:${PEER}`, { count: 4, lastFlap: T0 });
      assert.equal(await uptime(h, { from: at(0) }), null);
      assert.equal(await uptime(h, { node: 'carol', from: at(0) }), null);
      assert.equal(await outages(h), null);
      assert.equal(await outages(h, { node: 'carol' }), null);
    });

    it('is null for a peer whose channels all closed (its log went with them)', async () => {
      const h = await fourOutages();
      h.events().closeChannel(PEER, CP, T0 + 110 * MINUTE);
      const { peer } = await h.data<{ peer: unknown }>(
        `{ peer(pubkey: "${PEER}") { tracked uptime(from: "${at(0)}") { ratio } outages { count } } }`,
      );
      assert.deepEqual(peer, { tracked: true, uptime: null, outages: null });
    });

    it('refuses a window ending before it starts, with a log or without', async () => {
      const h = await fourOutages();
      h.persisted.set(`alice:${pubkey(2)}`, { count: 3, lastFlap: T0 });
      for (const pk of [PEER, pubkey(2)]) {
        const error = await h.error(UPTIME, { pubkey: pk, from: at(60), to: at(30) });
        assert.equal(error.code, 'BAD_USER_INPUT');
        assert.match(error.message, /uptime: to .* is before from/);
        const refused = await h.error(OUTAGES, { pubkey: pk, from: at(60), to: at(30) });
        assert.equal(refused.code, 'BAD_USER_INPUT');
        assert.match(refused.message, /outages: to .* is before from/);
      }
    });
  });

  describe('Peer.outages', () => {
    it('lists the offline periods with their count, total, longest and median (even count)', async () => {
      const h = await fourOutages();
      // Durations 10, 30, 5 and 20 (ongoing, to now) minutes: median (10 + 20) / 2.
      assert.deepEqual(await outages(h), {
        count: 4,
        totalSeconds: 65 * 60,
        longestSeconds: 30 * 60,
        medianSeconds: 15 * 60,
        periods: [
          { start: at(0), end: at(10) },
          { start: at(20), end: at(50) },
          { start: at(60), end: at(65) },
          { start: at(100), end: null },
        ],
      });
    });

    it('takes the middle duration of an odd count', async () => {
      const h = await fourOutages();
      // 30, 5 and 20 minutes from 15 min on.
      assert.deepEqual(await outages(h, { from: at(15) }), {
        count: 3,
        totalSeconds: 55 * 60,
        longestSeconds: 30 * 60,
        medianSeconds: 20 * 60,
        periods: [
          { start: at(20), end: at(50) },
          { start: at(60), end: at(65) },
          { start: at(100), end: null },
        ],
      });
    });

    it('clips the periods to the window: an ongoing one to its end', async () => {
      const h = await fourOutages();
      // 30-50 and 60-62 min: the second ends at the window's end, not ongoing.
      assert.deepEqual(await outages(h, { from: at(30), to: at(62) }), {
        count: 2,
        totalSeconds: 22 * 60,
        longestSeconds: 20 * 60,
        medianSeconds: 11 * 60,
        periods: [
          { start: at(30), end: at(50) },
          { start: at(60), end: at(62) },
        ],
      });
      // The outage ongoing from 100 min, in a window ending at 110 min (before now): 10 min,
      // up to the window's end.
      const late = await outages(h, { from: at(90), to: at(110) });
      assert.deepEqual(late, {
        count: 1,
        totalSeconds: 10 * 60,
        longestSeconds: 10 * 60,
        medianSeconds: 10 * 60,
        periods: [{ start: at(100), end: at(110) }],
      });
    });

    it('has no median and zero figures without an outage', async () => {
      const h = new Harness();
      h.events().peerEvent(PEER, true, T0);
      await h.open(PEER, CP, T0);
      h.clock.set(T0 + HOUR);
      assert.deepEqual(await outages(h), {
        count: 0,
        totalSeconds: 0,
        longestSeconds: 0,
        medianSeconds: null,
        periods: [],
      });
    });

    it('lists the first periods only, oldest first, and caps first at 1000', async () => {
      const h = await fourOutages();
      const two = await outages(h, { first: 2 });
      assert.equal(two?.count, 4, 'the figures are of every period');
      assert.deepEqual(two.periods, [
        { start: at(0), end: at(10) },
        { start: at(20), end: at(50) },
      ]);
      assert.deepEqual((await outages(h, { first: 0 }))?.periods, []);
      assert.equal((await outages(h, { first: 5000 }))?.periods.length, 4);
      const error = await h.error(OUTAGES, { pubkey: PEER, first: -1 });
      assert.equal(error.code, 'BAD_USER_INPUT');
      assert.match(error.message, /first must not be negative/);
    });

    it('lists 100 periods by default and at most 1000', async () => {
      const h = new Harness();
      h.events().peerEvent(PEER, true, T0);
      await h.open(PEER, CP, T0);
      // 1,200 outages of 90 min, 90 min apart: longer than the rate limiter's
      // longest limit (1 h, from 1,000 flaps on), so that every one is logged.
      for (let i = 0; i < 1200; i++) {
        h.events().peerEvent(PEER, false, T0 + (i + 1) * 3 * HOUR);
        h.events().peerEvent(PEER, true, T0 + (i + 1) * 3 * HOUR + 90 * MINUTE);
      }
      h.clock.set(T0 + 1201 * 3 * HOUR);
      const PERIODS = `query($first: Int) {
        peer(pubkey: "${PEER}") { outages { count totalSeconds medianSeconds periods(first: $first) { start } } }
      }`;
      const count = async (first?: number): Promise<unknown> => {
        const { peer } = await h.data<{
          peer: { outages: { count: number; periods: unknown[] } };
        }>(PERIODS, first === undefined ? {} : { first });
        return [peer.outages.count, peer.outages.periods.length];
      };
      assert.deepEqual(await count(), [1200, 100]);
      assert.deepEqual(await count(1000), [1200, 1000]);
      assert.deepEqual(await count(100_000), [1200, 1000]);
    });

    it('leaves out the time nobody observed: a gap cuts an outage in two', async () => {
      const h = new Harness();
      const store = h.store();
      store.peerEvent(PEER, true, T0);
      await h.open(PEER, CP, T0);
      store.peerEvent(PEER, false, T0 + 30 * MINUTE);
      store.status(false, T0 + HOUR);
      store.status(true, T0 + 2 * HOUR);
      h.clock.set(T0 + 3 * HOUR);
      // Offline 30-60 min, then from the gap's end (122 min) to now.
      assert.deepEqual(await outages(h), {
        count: 2,
        totalSeconds: (30 + 58) * 60,
        longestSeconds: 58 * 60,
        medianSeconds: 44 * 60,
        periods: [
          { start: at(30), end: at(60) },
          { start: at(122), end: null },
        ],
      });
    });

    it('misses an outage of a flapping peer shorter than its rate limit', async () => {
      const h = new Harness();
      // 400 flaps: the third tier, a limit of 30 s.
      h.persisted.set(`alice:${PEER}`, { count: 399, lastFlap: T0 });
      h.events().peerEvent(PEER, true, T0);
      await h.open(PEER, CP, T0);
      // Offline for 20 s, then for 40 s.
      h.events().peerEvent(PEER, false, T0 + 10 * MINUTE);
      h.events().peerEvent(PEER, true, T0 + 10 * MINUTE + 20 * SECOND);
      h.events().peerEvent(PEER, false, T0 + 20 * MINUTE);
      h.events().peerEvent(PEER, true, T0 + 20 * MINUTE + 40 * SECOND);
      h.events().peerEvent(PEER, false, T0 + 30 * MINUTE);
      h.clock.set(T0 + HOUR);
      const found = await outages(h);
      assert.deepEqual(found?.periods, [
        { start: at(20), end: iso(T0 + 20 * MINUTE + 40 * SECOND) },
        { start: at(30), end: null },
      ]);
    });
  });
});
