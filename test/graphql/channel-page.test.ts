import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { selectChannelPage, type ChannelSource } from '../../src/graphql/channel-page.js';
import { decodeCursor, encodeCursor } from '../../src/graphql/cursor.js';
import { CHANNEL_ORDERS, type ChannelOrder } from '../../src/graphql/ordering.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { channelPoint, HOUR, MINUTE, pubkey } from './harness.js';
import { TestClock } from '../support/test-clock.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');

interface Scenario {
  readonly stores: ChannelEventStore[];
  readonly clock: TestClock;
}

interface RandomEvent {
  readonly node: number;
  readonly peer: number;
  readonly channel: number;
  readonly kind: 'open' | 'online' | 'offline';
  readonly minute: number;
}

const eventArb: fc.Arbitrary<RandomEvent> = fc.record({
  node: fc.integer({ min: 0, max: 1 }),
  peer: fc.integer({ min: 1, max: 6 }),
  channel: fc.integer({ min: 1, max: 30 }),
  kind: fc.constantFrom<RandomEvent['kind'][]>('open', 'open', 'online', 'offline'),
  minute: fc.integer({ min: 0, max: 600 }),
});

/** Two nodes' stores built from random events, in time order; now is after the last. */
async function scenario(events: RandomEvent[]): Promise<Scenario> {
  const clock = new TestClock(T0);
  const stores = ['alice', 'bob'].map((node) => new ChannelEventStore({ node, clock }));
  // Events go through a gate, as the ingest submits them (no record is persisted here).
  const gates = new RecordGate({ read: () => Promise.resolve(undefined) });
  for (const e of [...events].sort((a, b) => a.minute - b.minute)) {
    const store = stores[e.node]!;
    const time = T0 + e.minute * MINUTE;
    const gate = gates.of(store);
    if (e.kind === 'open') gate.openChannel(pubkey(e.peer), channelPoint(e.channel), time);
    else gate.peerEvent(pubkey(e.peer), e.kind === 'online', time);
    await gates.idle();
  }
  clock.set(T0 + 11 * HOUR);
  return { stores, clock };
}

function sources(stores: ChannelEventStore[]): ChannelSource[] {
  return stores.map((store) => ({ store, channels: store.channels() }));
}

/** The order by brute force: every key computed in the comparator. */
function sortedByBruteForce(
  stores: ChannelEventStore[],
  order: ChannelOrder,
  now: number,
): string[] {
  const all = stores.flatMap((store) =>
    [...store.channels()].map((view) => {
      const info = store.channelInfo(view, now);
      const ratio = info.lifetime > 0 ? info.uptime / info.lifetime : null;
      return { id: `${store.node}/${view.channelPoint}`, node: store.node, view, ratio };
    }),
  );
  type Item = (typeof all)[number];
  const key = (x: Item): number => {
    switch (order) {
      case 'UPTIME_RATIO_ASC':
        return x.ratio ?? Infinity;
      case 'UPTIME_RATIO_DESC':
        return x.ratio === null ? Infinity : -x.ratio;
      case 'LIFETIME_DESC':
        return -(now - x.view.openedAt);
      case 'FLAP_COUNT_DESC':
        return -x.view.peer.flapCount;
    }
  };
  return all
    .sort(
      (a, b) =>
        key(a) - key(b) ||
        (a.node < b.node ? -1 : a.node > b.node ? 1 : 0) ||
        (a.view.channelPoint < b.view.channelPoint ? -1 : 1),
    )
    .map((x) => x.id);
}

describe('GraphQL channel pages', () => {
  it('pages through every order exactly as a full sort, whatever the page size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 5, maxLength: 80, size: 'max' }),
        fc.constantFrom(...CHANNEL_ORDERS),
        fc.integer({ min: 1, max: 7 }),
        async (events, order, first) => {
          const { stores, clock } = await scenario(events);
          const now = clock.now();
          const listed: string[] = [];
          let after: string | undefined;
          for (;;) {
            const position = after === undefined ? undefined : decodeCursor(after, order, now);
            const page = selectChannelPage(sources(stores), { order, first, after: position, now });
            assert.ok(page.entries.length <= first);
            assert.equal(page.totalCount, stores[0]!.channelCount + stores[1]!.channelCount);
            listed.push(...page.entries.map((e) => `${e.node}/${e.channelPoint}`));
            const last = page.entries.at(-1);
            if (!page.hasNextPage) break;
            assert.ok(last !== undefined);
            after = encodeCursor({
              order,
              rank: last.rank,
              node: last.node,
              channelPoint: last.channelPoint,
              at: now,
            });
          }
          assert.deepEqual(listed, sortedByBruteForce(stores, order, now));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('pages through every order over whole stores as a full sort, with the rank bound of any sample', async () => {
    // Whole stores go through the figures' arrays, and uptime-ratio orders through a bound
    // estimated from a sample: taking the smallest of a few sampled ranks gets it too low
    // often, so that the pass over the channels above it is taken as well.
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 5, maxLength: 120, size: 'max' }),
        fc.constantFrom(...CHANNEL_ORDERS),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom(
          { sample: 512 },
          { sample: 8 },
          { sample: 8, keep: 1 },
          { sample: 3, keep: 1 },
          { sample: 16, keep: 2 },
        ),
        async (events, order, first, bound) => {
          const { stores, clock } = await scenario(events);
          const now = clock.now();
          const listed: string[] = [];
          let after: string | undefined;
          for (;;) {
            const position = after === undefined ? undefined : decodeCursor(after, order, now);
            const page = selectChannelPage(
              stores.map((store) => ({ store, allChannels: true as const })),
              { order, first, after: position, now, bound },
            );
            assert.ok(page.entries.length <= first);
            assert.equal(page.totalCount, stores[0]!.channelCount + stores[1]!.channelCount);
            // The figures a ratio was ranked by are the channel's, as channelInfo computes them.
            const ranksByRatio = order === 'UPTIME_RATIO_ASC' || order === 'UPTIME_RATIO_DESC';
            for (const e of page.entries) {
              if (ranksByRatio) assert.deepEqual(e.info, e.store.channelInfo(e.view, now));
            }
            listed.push(...page.entries.map((e) => `${e.node}/${e.channelPoint}`));
            const last = page.entries.at(-1);
            if (!page.hasNextPage) break;
            assert.ok(last !== undefined);
            after = encodeCursor({
              order,
              rank: last.rank,
              node: last.node,
              channelPoint: last.channelPoint,
              at: now,
            });
          }
          assert.deepEqual(listed, sortedByBruteForce(stores, order, now));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips cursors, a missing ratio included', () => {
    for (const rank of [0, -0.25, 1 / 3, Number.POSITIVE_INFINITY, T0]) {
      const cursor = {
        order: 'UPTIME_RATIO_DESC' as const,
        rank,
        node: 'n',
        channelPoint: channelPoint(1),
        at: T0,
      };
      assert.deepEqual(decodeCursor(encodeCursor(cursor), 'UPTIME_RATIO_DESC', T0), cursor);
    }
  });
});
