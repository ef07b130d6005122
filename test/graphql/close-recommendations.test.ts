import { strict as assert } from 'node:assert';
import { parseDurationMs } from '../../src/config/durations.js';
import {
  encodeCloseCandidateCursor,
  encodeCursor,
  encodePeerCursor,
} from '../../src/graphql/cursor.js';
import { formatDuration } from '../../src/graphql/scalars.js';
import { channelPoint, Harness, HOUR, iso, MINUTE, pubkey, T0 } from './harness.js';

const DAY = 24 * HOUR;

/** Every channel of these tests is opened at T0 and asked about 32 days later: ratios d/32 are exact. */
const NOW = T0 + 32 * DAY;

const CLOSE = `query(
  $node: String, $minMonitored: Duration, $threshold: Float, $outlierMultiplier: Float,
  $window: Duration, $orderBy: CloseCandidateOrder, $first: Int, $after: String
) {
  closeRecommendations(
    node: $node, minMonitored: $minMonitored, threshold: $threshold,
    outlierMultiplier: $outlierMultiplier, window: $window, orderBy: $orderBy,
    first: $first, after: $after
  ) {
    mode
    computedAt
    byNode {
      node channelCount consideredCount recommendedCount
      quartiles { q1 median q3 iqr lowerBound }
      reason
    }
    considered {
      totalCount
      nodes { ratio recommended channel { node channelPoint uptimeRatio } }
      pageInfo { endCursor hasNextPage }
    }
  }
}`;

interface Quartiles {
  q1: number;
  median: number;
  q3: number;
  iqr: number;
  lowerBound: number;
}

interface NodeAnalysis {
  node: string;
  channelCount: number;
  consideredCount: number;
  recommendedCount: number;
  quartiles: Quartiles | null;
  reason: string | null;
}

interface Candidate {
  ratio: number;
  recommended: boolean;
  channel: { node: string; channelPoint: string; uptimeRatio: number | null };
}

interface Answer {
  mode: string;
  computedAt: string;
  byNode: NodeAnalysis[];
  considered: {
    totalCount: number;
    nodes: Candidate[];
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
  };
}

async function ask(h: Harness, vars: Record<string, unknown> = {}): Promise<Answer> {
  return (await h.data<{ closeRecommendations: Answer }>(CLOSE, vars)).closeRecommendations;
}

const CHANNEL_NUMBERS = new Map(
  Array.from({ length: 100 }, (_, i) => [channelPoint(i), i] as [string, number]),
);

/** The channels of an answer as `<node>/<number>`, the recommended ones marked `!`. */
function listed(a: Answer): string[] {
  return a.considered.nodes.map(
    (c) =>
      `${c.channel.node}/${CHANNEL_NUMBERS.get(c.channel.channelPoint)}${c.recommended ? '!' : ''}`,
  );
}

/**
 * Channel n (with peer n) opened at T0, its peer online at the opening and
 * offline from T0 + onlineDays: at NOW its lifetime ratio is onlineDays / 32.
 */
async function channel(h: Harness, n: number, onlineDays: number, node = 'alice'): Promise<void> {
  const s = h.store(node);
  s.peerEvent(pubkey(n), true, T0 - MINUTE);
  await h.open(pubkey(n), channelPoint(n), T0, node);
  if (onlineDays < 32) s.peerEvent(pubkey(n), false, T0 + onlineDays * DAY);
}

/** Channels 1.. of a node with these online days each, and the clock at NOW. */
async function withDays(days: readonly number[], node = 'alice', h = new Harness()) {
  for (const [i, d] of days.entries()) await channel(h, i + 1, d, node);
  h.clock.set(NOW);
  return h;
}

describe('GraphQL closeRecommendations', () => {
  describe("outlier mode, with faraday's quartiles", () => {
    it('an odd count: the halves leave the median out; a tie across the median', async () => {
      // Ratios 2/32, 28/32 … 32/32: sorted .0625 .875 .90625 | .9375 | .9375 .96875 1.
      // Lower half .0625 .875 .90625: Q1 .875; upper half .9375 .96875 1: Q3 .96875
      // (with the median in the halves, or interpolated, Q1 would be .890625). IQR .09375;
      // the bound .875 - 3 x .09375 = .59375: only 2/32 is below it.
      const h = await withDays([28, 2, 30, 29, 31, 32, 30]);
      const a = await ask(h);
      assert.equal(a.mode, 'OUTLIER');
      assert.equal(a.computedAt, iso(NOW));
      assert.deepEqual(a.byNode, [
        {
          node: 'alice',
          channelCount: 7,
          consideredCount: 7,
          recommendedCount: 1,
          quartiles: { q1: 0.875, median: 0.9375, q3: 0.96875, iqr: 0.09375, lowerBound: 0.59375 },
          reason: null,
        },
      ]);
      assert.deepEqual(listed(a), [
        'alice/2!',
        'alice/1',
        'alice/4',
        'alice/3',
        'alice/7',
        'alice/5',
        'alice/6',
      ]);
      assert.deepEqual(
        a.considered.nodes.map((c) => c.ratio),
        [0.0625, 0.875, 0.90625, 0.9375, 0.9375, 0.96875, 1],
      );
      // The ratio judged is the channel's own uptime ratio (lifetime mode, same instant).
      for (const c of a.considered.nodes) assert.equal(c.channel.uptimeRatio, c.ratio);
      assert.equal(a.considered.totalCount, 7);
    });

    it('an even count: the halves split exactly, the median is the mean of the middle two', async () => {
      // Sorted .125 .75 .8125 | .875 .9375 1: Q1 .75, Q3 .9375, median .84375, IQR .1875,
      // bound .75 - .5625 = .1875: 4/32 = .125 is below it.
      const h = await withDays([24, 26, 4, 28, 30, 32]);
      const a = await ask(h);
      assert.deepEqual(a.byNode[0]?.quartiles, {
        q1: 0.75,
        median: 0.84375,
        q3: 0.9375,
        iqr: 0.1875,
        lowerBound: 0.1875,
      });
      assert.deepEqual(listed(a), [
        'alice/3!',
        'alice/1',
        'alice/2',
        'alice/4',
        'alice/5',
        'alice/6',
      ]);
    });

    it('halves of even length: each quartile the mean of its half’s middle two', async () => {
      // Sorted 1 20 22 24 | 26 28 30 32 (/32): Q1 21/32, Q3 29/32, median 25/32, IQR 8/32.
      // With 3 x IQR the bound is below 0; with outlierMultiplier 1.5 it is 9/32.
      const h = await withDays([1, 20, 22, 24, 26, 28, 30, 32]);
      const strict = await ask(h);
      assert.deepEqual(strict.byNode[0]?.quartiles, {
        q1: 21 / 32,
        median: 25 / 32,
        q3: 29 / 32,
        iqr: 8 / 32,
        lowerBound: -3 / 32,
      });
      assert.equal(strict.byNode[0].recommendedCount, 0);
      assert.equal(strict.byNode[0].reason, 'NO_OUTLIERS');
      const looser = await ask(h, { outlierMultiplier: 1.5 });
      assert.equal(looser.byNode[0]?.quartiles?.lowerBound, 9 / 32);
      assert.deepEqual(listed(looser).slice(0, 2), ['alice/1!', 'alice/2']);
      assert.equal(looser.byNode[0].reason, null);
    });

    it('a ratio exactly on the lower bound is not recommended (strictly below, as faraday)', async () => {
      // Sorted .25 .875 | .875 .875: Q1 .5625, Q3 .875, IQR .3125; with 1 x IQR the bound
      // is .25, the lowest ratio itself. Ties in both halves.
      const h = await withDays([8, 28, 28, 28]);
      const a = await ask(h, { outlierMultiplier: 1 });
      assert.deepEqual(a.byNode[0]?.quartiles, {
        q1: 0.5625,
        median: 0.875,
        q3: 0.875,
        iqr: 0.3125,
        lowerBound: 0.25,
      });
      assert.equal(a.byNode[0].recommendedCount, 0);
      assert.equal(a.byNode[0].reason, 'NO_OUTLIERS');
      assert.deepEqual(
        a.considered.nodes.map((c) => c.recommended),
        [false, false, false, false],
      );
    });

    it('exactly 4 channels: quartiles are computed and can recommend', async () => {
      // Sorted .25 1 | 1 1: Q1 .625, Q3 1, IQR .375. With 4 values the lowest can only be an
      // outlier below 1 x IQR: none with faraday's 3; with .5 the bound is .4375.
      const h = await withDays([32, 8, 32, 32]);
      const strict = await ask(h);
      assert.deepEqual(strict.byNode[0]?.quartiles, {
        q1: 0.625,
        median: 1,
        q3: 1,
        iqr: 0.375,
        lowerBound: 0.625 - 3 * 0.375,
      });
      assert.equal(strict.byNode[0].reason, 'NO_OUTLIERS');
      const looser = await ask(h, { outlierMultiplier: 0.5 });
      assert.equal(looser.byNode[0]?.quartiles?.lowerBound, 0.4375);
      assert.equal(looser.byNode[0].recommendedCount, 1);
      assert.equal(looser.byNode[0].reason, null);
      assert.deepEqual(listed(looser), ['alice/2!', 'alice/1', 'alice/3', 'alice/4']);
    });

    it('fewer than 4 considered channels: nothing recommended, no quartiles, and why', async () => {
      // Three old channels, one of them never online, and two opened 10 days ago.
      const h = await withDays([0, 32, 31]);
      for (const n of [4, 5]) await h.open(pubkey(n), channelPoint(n), NOW - 10 * DAY);
      const a = await ask(h, { outlierMultiplier: 0.01 });
      assert.deepEqual(a.byNode, [
        {
          node: 'alice',
          channelCount: 5,
          consideredCount: 3,
          recommendedCount: 0,
          quartiles: null,
          reason: 'TOO_FEW_CONSIDERED',
        },
      ]);
      assert.deepEqual(listed(a), ['alice/1', 'alice/3', 'alice/2']);
      assert.equal(a.considered.totalCount, 3);
    });
  });

  describe('minMonitored', () => {
    it('considers nothing when no channel has been monitored long enough, and says so', async () => {
      const h = await withDays([0, 16, 32, 32, 32]);
      const a = await ask(h, { minMonitored: '33d' });
      assert.deepEqual(a.byNode, [
        {
          node: 'alice',
          channelCount: 5,
          consideredCount: 0,
          recommendedCount: 0,
          quartiles: null,
          reason: 'NONE_MONITORED_LONG_ENOUGH',
        },
      ]);
      assert.deepEqual(a.considered, {
        totalCount: 0,
        nodes: [],
        pageInfo: { endCursor: null, hasNextPage: false },
      });
    });

    it("defaults to faraday's four weeks, a lifetime of exactly 28d included", async () => {
      const h = new Harness();
      await h.open(pubkey(1), channelPoint(1), T0);
      await h.open(pubkey(2), channelPoint(2), T0 + 1);
      h.clock.set(T0 + 28 * DAY);
      assert.deepEqual(listed(await ask(h)), ['alice/1']);
      // Go's notation reads the same: 672h is 28 days.
      assert.deepEqual(listed(await ask(h, { minMonitored: '672h' })), ['alice/1']);
      assert.deepEqual(listed(await ask(h, { minMonitored: '27d23h59m' })), ['alice/1', 'alice/2']);
    });

    it('says a node without channels has none', async () => {
      const h = new Harness({ nodes: ['alice', 'bob'] });
      await withDays([32], 'alice', h);
      const a = await ask(h);
      assert.deepEqual(
        a.byNode.map((n) => [n.node, n.channelCount, n.reason]),
        [
          ['alice', 1, 'TOO_FEW_CONSIDERED'],
          ['bob', 0, 'NO_CHANNELS'],
        ],
      );
    });
  });

  describe('threshold mode', () => {
    it('recommends the ratios at or below the threshold, without quartiles', async () => {
      // Ratios .25 .75 .875 .9375 1; fewer than 4 would do too: no quartiles are needed.
      const h = await withDays([28, 8, 32, 24, 30]);
      const a = await ask(h, { threshold: 0.875, outlierMultiplier: 100 });
      assert.equal(a.mode, 'THRESHOLD');
      assert.deepEqual(a.byNode, [
        {
          node: 'alice',
          channelCount: 5,
          consideredCount: 5,
          recommendedCount: 3,
          quartiles: null,
          reason: null,
        },
      ]);
      // .875 itself is recommended: faraday compares with <=.
      assert.deepEqual(listed(a), ['alice/2!', 'alice/4!', 'alice/1!', 'alice/5', 'alice/3']);
      const none = await ask(h, { threshold: 0 });
      assert.equal(none.byNode[0]?.reason, 'NONE_AT_OR_BELOW_THRESHOLD');
      assert.equal(none.byNode[0].recommendedCount, 0);
      const all = await ask(h, { threshold: 1 });
      assert.equal(all.byNode[0]?.recommendedCount, 5);
      const two = await withDays([0, 32]);
      assert.deepEqual(listed(await ask(two, { threshold: 0 })), ['alice/1!', 'alice/2']);
    });
  });

  describe('window', () => {
    /**
     * Six channels of 32 days, and an 8-day window (days 24-32):
     * 1: online from day 24 only    lifetime .25     window 1
     * 2: offline from day 26        lifetime .8125   window .25
     * 3: offline days 30-31         lifetime .96875  window .875
     * 4: offline days 10-11         lifetime .96875  window 1
     * 5: online throughout          lifetime 1       window 1
     * 6: offline days 5-7           lifetime .9375   window 1
     * 7: opened 10 days ago, never online: too young in both modes.
     */
    async function sixChannels(): Promise<Harness> {
      const h = new Harness();
      const s = h.store();
      const onlineAtOpen = [false, true, true, true, true, true];
      for (const [i, online] of onlineAtOpen.entries()) {
        s.peerEvent(pubkey(i + 1), online, T0 - MINUTE);
        await h.open(pubkey(i + 1), channelPoint(i + 1), T0);
      }
      const events: [number, boolean, number][] = [
        [1, true, 24],
        [2, false, 26],
        [3, false, 30],
        [3, true, 31],
        [4, false, 10],
        [4, true, 11],
        [6, false, 5],
        [6, true, 7],
      ];
      for (const [n, online, day] of events) s.peerEvent(pubkey(n), online, T0 + day * DAY);
      await h.open(pubkey(7), channelPoint(7), NOW - 10 * DAY);
      h.clock.set(NOW);
      return h;
    }

    it('judges the ratios of the window, not the lifetime: another channel is the outlier', async () => {
      const h = await sixChannels();
      // Lifetime: .25 .8125 .9375 | .96875 .96875 1: Q1 .8125, Q3 .96875, bound .34375.
      const lifetime = await ask(h);
      assert.equal(lifetime.byNode[0]?.quartiles?.lowerBound, 0.34375);
      assert.deepEqual(listed(lifetime), [
        'alice/1!',
        'alice/2',
        'alice/6',
        'alice/3',
        'alice/4',
        'alice/5',
      ]);
      // Window: .25 .875 1 | 1 1 1: Q1 .875, Q3 1, bound .5. Channel 7 fits in the window
      // but is monitored less than minMonitored: still not considered.
      const window = await ask(h, { window: '8d' });
      assert.deepEqual(window.byNode[0]?.quartiles, {
        q1: 0.875,
        median: 1,
        q3: 1,
        iqr: 0.125,
        lowerBound: 0.5,
      });
      assert.deepEqual(listed(window), [
        'alice/2!',
        'alice/3',
        'alice/1',
        'alice/4',
        'alice/5',
        'alice/6',
      ]);
      assert.deepEqual(
        window.considered.nodes.map((c) => c.ratio),
        [0.25, 0.875, 1, 1, 1, 1],
      );
      // The Channel keeps its lifetime figures.
      assert.equal(window.considered.nodes[0]?.channel.uptimeRatio, 0.8125);
      assert.equal(window.considered.totalCount, 6);
    });

    it('clamps a window longer than the lifetime to it', async () => {
      const h = await sixChannels();
      const lifetime = await ask(h);
      const long = await ask(h, { window: '5w' });
      assert.deepEqual(long.considered.nodes, lifetime.considered.nodes);
      assert.deepEqual(long.byNode, lifetime.byNode);
    });
  });

  describe('several nodes', () => {
    /**
     * alice: 0 16 17 18 19 20 (/32): Q1 .5, Q3 .59375, bound .21875: channel 1 (0) recommended.
     * bob: 20 30 31 31 32 32: Q1 .9375, Q3 1, bound .75: channel 1 (.625) recommended.
     * Over all twelve ratios together Q1 would be .546875, the bound below 0: no outlier.
     */
    async function twoNodes(): Promise<Harness> {
      const h = new Harness({ nodes: ['bob', 'alice'] });
      await withDays([0, 16, 17, 18, 19, 20], 'alice', h);
      await withDays([20, 30, 31, 31, 32, 32], 'bob', h);
      return h;
    }

    it("judges each node's channels among themselves, also without node", async () => {
      const h = await twoNodes();
      const a = await ask(h);
      assert.deepEqual(
        a.byNode.map((n) => [n.node, n.consideredCount, n.recommendedCount, n.quartiles]),
        [
          [
            'alice',
            6,
            1,
            { q1: 0.5, median: 17.5 / 32, q3: 0.59375, iqr: 0.09375, lowerBound: 0.21875 },
          ],
          ['bob', 6, 1, { q1: 0.9375, median: 31 / 32, q3: 1, iqr: 0.0625, lowerBound: 0.75 }],
        ],
      );
      assert.equal(a.considered.totalCount, 12);
      // By ratio, ties by node: bob's recommended .625 after alice's .5 to .59375.
      assert.deepEqual(listed(a).slice(0, 8), [
        'alice/1!',
        'alice/2',
        'alice/3',
        'alice/4',
        'alice/5',
        'alice/6',
        'bob/1!',
        'bob/2',
      ]);
      const bob = await ask(h, { node: 'bob' });
      assert.deepEqual(
        bob.byNode.map((n) => n.node),
        ['bob'],
      );
      assert.deepEqual(listed(bob).slice(0, 2), ['bob/1!', 'bob/2']);
      assert.equal(bob.considered.totalCount, 6);
    });

    it('RECOMMENDED_FIRST puts every recommended channel first, then by ratio', async () => {
      const h = await twoNodes();
      const a = await ask(h, { orderBy: 'RECOMMENDED_FIRST' });
      assert.deepEqual(listed(a).slice(0, 4), ['alice/1!', 'bob/1!', 'alice/2', 'alice/3']);
      const desc = await ask(h, { orderBy: 'RATIO_DESC', first: 3 });
      assert.deepEqual(listed(desc), ['bob/5', 'bob/6', 'bob/3']);
    });

    it('refuses a node that is not tracked with NODE_NOT_FOUND', async () => {
      const h = await twoNodes();
      const error = await h.error(CLOSE, { node: 'carol' });
      assert.equal(error.code, 'NODE_NOT_FOUND');
      assert.equal(error.data, null);
    });
  });

  describe('pages', () => {
    async function allPages(
      h: Harness,
      vars: Record<string, unknown>,
      between: () => void = () => undefined,
    ): Promise<Answer[]> {
      const pages: Answer[] = [];
      let after: string | null = null;
      for (;;) {
        assert.ok(pages.length < 50, 'more than 50 pages');
        const p = await ask(h, { ...vars, after });
        pages.push(p);
        if (!p.considered.pageInfo.hasNextPage) return pages;
        after = p.considered.pageInfo.endCursor;
        assert.notEqual(after, null);
        between();
      }
    }

    for (const orderBy of ['RATIO_ASC', 'RATIO_DESC', 'RECOMMENDED_FIRST']) {
      it(`pages through ${orderBy} without gaps or duplicates, ties included`, async () => {
        const h = new Harness({ nodes: ['bob', 'alice'] });
        await withDays([0, 16, 17, 18, 19, 20], 'alice', h);
        await withDays([20, 30, 31, 31, 32, 32, 20], 'bob', h);
        const whole = listed(await ask(h, { orderBy }));
        assert.equal(whole.length, 13);
        const pages = await allPages(h, { orderBy, first: 3 });
        assert.deepEqual(pages.map(listed), [
          whole.slice(0, 3),
          whole.slice(3, 6),
          whole.slice(6, 9),
          whole.slice(9, 12),
          whole.slice(12),
        ]);
        for (const p of pages) assert.equal(p.considered.totalCount, 13);
      });
    }

    it("computes every page at the first page's instant: the same quartiles and verdicts", async () => {
      const h = await withDays([24, 26, 4, 28, 30, 32]);
      const first = await ask(h, { first: 2 });
      // Time passes and channel 6's peer goes offline: a new analysis would differ.
      h.clock.advance(4 * DAY);
      h.events().peerEvent(pubkey(6), false, NOW + DAY);
      const fresh = await ask(h);
      assert.notDeepEqual(fresh.byNode, first.byNode);
      const pages = [first];
      let after = first.considered.pageInfo.endCursor;
      while (after !== null) {
        const p = await ask(h, { first: 2, after });
        pages.push(p);
        after = p.considered.pageInfo.hasNextPage ? p.considered.pageInfo.endCursor : null;
      }
      assert.equal(pages.length, 3);
      for (const p of pages) {
        assert.equal(p.computedAt, iso(NOW));
        assert.deepEqual(p.byNode, first.byNode);
      }
      assert.deepEqual(pages.flatMap(listed), [
        'alice/3!',
        'alice/1',
        'alice/2',
        'alice/4',
        'alice/5',
        'alice/6',
      ]);
      // Ratios are those of the listing's instant; the Channel's figures are of now.
      const last = pages[2]?.considered.nodes.at(-1);
      assert.equal(last?.ratio, 1);
      assert.equal(last.channel.uptimeRatio, 33 / 36);
    });

    it('gives an empty page with first: 0, and caps first at the configured maximum', async () => {
      const h = await withDays([24, 26, 4, 28, 30, 32]);
      const empty = await ask(h, { first: 0 });
      assert.deepEqual(empty.considered.nodes, []);
      assert.equal(empty.considered.pageInfo.hasNextPage, true);
      assert.equal(empty.byNode[0]?.recommendedCount, 1);
      const capped = new Harness({ deps: { limits: { maxPageSize: 4 } } });
      await withDays([24, 26, 4, 28, 30, 32], 'alice', capped);
      assert.equal((await ask(capped, { first: 10 })).considered.nodes.length, 4);
      assert.equal((await ask(capped)).considered.nodes.length, 4);
    });

    it("refuses another order's cursor, another list's, and gives its own to no other", async () => {
      const h = await withDays([24, 26, 4, 28, 30, 32]);
      const own = (await ask(h, { first: 1 })).considered.pageInfo.endCursor;
      const other = await h.error(CLOSE, { after: own, orderBy: 'RATIO_DESC' });
      assert.equal(other.code, 'BAD_USER_INPUT');
      assert.match(other.message, /RATIO_ASC/);
      const position = { rank: 0, node: 'alice', at: NOW };
      for (const after of [
        encodeCursor({ ...position, order: 'UPTIME_RATIO_ASC', channelPoint: channelPoint(1) }),
        encodePeerCursor({ ...position, order: 'UPTIME_RATIO_ASC', pubkey: pubkey(1) }),
        'garbage!',
        `${own}x`,
      ]) {
        const error = await h.error(CLOSE, { after });
        assert.equal(error.code, 'BAD_USER_INPUT', after);
        assert.match(error.message, /not a cursor returned by closeRecommendations/, after);
      }
      const future = encodeCloseCandidateCursor({
        ...position,
        order: 'RATIO_ASC',
        channelPoint: channelPoint(1),
        at: NOW + 1,
      });
      assert.match(
        (await h.error(CLOSE, { after: future })).message,
        /not between the epoch and now/,
      );
      for (const [list, query] of [
        ['channels', '{ channels(after: $after) { totalCount } }'],
        ['peers', '{ peers(after: $after) { totalCount } }'],
      ] as const) {
        const error = await h.error(`query($after: String) ${query}`, { after: own });
        assert.equal(error.code, 'BAD_USER_INPUT', list);
        assert.match(error.message, new RegExp(`not a cursor returned by ${list}`));
      }
    });
  });

  describe('arguments', () => {
    it('refuses a threshold outside [0, 1] and a multiplier not above 0', async () => {
      const h = await withDays([24, 26, 4, 28, 30, 32]);
      for (const vars of [
        { threshold: -0.01 },
        { threshold: 1.01 },
        { outlierMultiplier: 0 },
        { outlierMultiplier: -1 },
        { first: -1 },
      ]) {
        const error = await h.error(CLOSE, vars);
        assert.equal(error.code, 'BAD_USER_INPUT', JSON.stringify(vars));
        assert.equal(error.data, null, JSON.stringify(vars));
      }
      assert.match((await h.error(CLOSE, { threshold: 2 })).message, /threshold .*\[0, 1\]/);
      assert.match(
        (await h.error(CLOSE, { outlierMultiplier: 0 })).message,
        /outlierMultiplier must be greater than 0/,
      );
    });

    it('takes null as the default', async () => {
      const h = await withDays([24, 26, 4, 28, 30, 32]);
      const a = await ask(h, { minMonitored: null, outlierMultiplier: null, orderBy: null });
      assert.deepEqual(a, await ask(h));
      assert.equal(a.byNode[0]?.quartiles?.lowerBound, 0.1875);
    });

    it('refuses a malformed Duration, as a variable and as a literal', async () => {
      const h = await withDays([24, 26, 4, 28, 30, 32]);
      for (const bad of ['28', '1M', '0s', '-1d', 'soon', '']) {
        for (const name of ['minMonitored', 'window']) {
          const error = await h.error(CLOSE, { [name]: bad });
          assert.equal(error.code, 'BAD_USER_INPUT', `${name} ${bad}`);
        }
      }
      const literal = await h.error('{ closeRecommendations(window: "7 days ago") { mode } }');
      assert.equal(literal.code, 'BAD_USER_INPUT');
      assert.match(literal.message, /Duration must be a positive length of time/);
      const zero = await h.error('{ closeRecommendations(minMonitored: "0s") { mode } }');
      assert.match(zero.message, /not a positive duration/);
      const number = await h.error('{ closeRecommendations(window: 7) { mode } }');
      assert.equal(number.code, 'BAD_USER_INPUT');
    });
  });

  describe('cost', () => {
    // Static cost with the default page of 100: considered.nodes.ratio 1, nodes 2 + 1.5,
    // considered 2 + 1.5 x 3.5, the field (2 + 1.5 x 7.25) x 100 = 1287.5.
    const SMALL = '{ closeRecommendations { considered { nodes { ratio } } } }';

    it('counts the page size, `first`, as channels does', async () => {
      const over = new Harness({ deps: { limits: { maxCost: 1287 } } });
      const refused = await over.query(SMALL);
      assert.equal(refused.status, 400);
      assert.equal(refused.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.match(refused.errors[0].message, /found 1287\.5/);
      const within = new Harness({ deps: { limits: { maxCost: 1288 } } });
      assert.ok(await within.data(SMALL));
      // A page of 10 costs a tenth.
      assert.ok(
        await over.data(SMALL.replace('closeRecommendations', 'closeRecommendations(first: 10)')),
      );
    });

    it('answers the default page of a full query under the default cost limit', async () => {
      const h = await withDays([24, 26, 4, 28, 30, 32]);
      const data = await h.data<{ closeRecommendations: Answer }>(`{
        closeRecommendations {
          mode computedAt
          byNode { node channelCount consideredCount recommendedCount reason quartiles { q1 median q3 iqr lowerBound } }
          considered {
            totalCount
            nodes {
              ratio recommended
              channel { node channelPoint openedAt lifetimeSeconds uptimeSeconds uptimeRatio peer { pubkey online flapCount lastFlap } }
            }
            pageInfo { endCursor hasNextPage }
          }
        }
      }`);
      assert.equal(data.closeRecommendations.considered.nodes.length, 6);
    });

    it('counts byNode at its real size', async () => {
      const nodes = Array.from({ length: 30 }, (_, i) => `node${i}`);
      const query = '{ closeRecommendations(first: 1) { byNode { node channelCount } } }';
      // Static: (2 + 1.5 x (2 + 1.5 x 2)) x 1 = 9.5; 29 more items of 5 at depth 1: 217.5 more.
      const over = new Harness({ nodes, deps: { limits: { maxCost: 226 } } });
      const refused = await over.query(query);
      assert.match(
        refused.errors?.[0]?.message ?? '',
        /CloseRecommendations\.byNode .* has 30 items/,
      );
      const within = new Harness({ nodes, deps: { limits: { maxCost: 227 } } });
      const data = await within.data<{ closeRecommendations: Answer }>(query);
      assert.equal(data.closeRecommendations.byNode.length, 30);
    });
  });

  describe('Duration output', () => {
    it('writes largest units first, in a form Duration reads back', () => {
      for (const [ms, text] of [
        [28 * DAY, '28d'],
        [36 * HOUR, '1d12h'],
        [90 * MINUTE, '1h30m'],
        [1500, '1s500ms'],
        [0.25, '0.25ms'],
      ] as const) {
        assert.equal(formatDuration(ms), text);
        assert.equal(parseDurationMs(text, { minMs: 0, minText: '0s' }), ms);
      }
    });
  });
});
