import { strict as assert } from 'node:assert';
import { encodeCursor } from '../../src/graphql/cursor.js';
import { channelPoint, Harness, HOUR, MINUTE, pubkey, T0 } from './harness.js';

const CHANNELS = `query($node: String, $peer: String, $orderBy: ChannelOrder, $first: Int, $after: String) {
  channels(node: $node, peer: $peer, orderBy: $orderBy, first: $first, after: $after) {
    nodes { node channelPoint uptimeRatio }
    totalCount
    pageInfo { endCursor hasNextPage }
  }
}`;

interface Page {
  nodes: { node: string; channelPoint: string; uptimeRatio: number | null }[];
  totalCount: number;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

async function page(h: Harness, vars: Record<string, unknown> = {}): Promise<Page> {
  return (await h.data<{ channels: Page }>(CHANNELS, vars)).channels;
}

/** Channel points of a page, as the numbers they were made from. */
function numbers(p: Page): number[] {
  return p.nodes.map((n) => CHANNEL_NUMBERS.get(n.channelPoint) ?? -1);
}

const CHANNEL_NUMBERS = new Map(
  Array.from({ length: 40 }, (_, i) => [channelPoint(i), i] as [string, number]),
);

/**
 * Now is T0 + 4 h. Channel n is with peer n:
 * 1: opened T0, online throughout (ratio 1, 1 flap)
 * 2: opened T0 + 1 h, offline throughout (ratio 0, 1 flap)
 * 3: opened T0 + 2 h, online from T0 + 3 h (ratio 0.5, 2 flaps)
 * 4: opened T0 + 30 min, online 1 h-1.5 h and 2 h-3.5 h (ratio 2/3.5, 5 flaps)
 * 5: opened now (lifetime 0, no ratio, 1 flap)
 */
async function fiveChannels(): Promise<Harness> {
  const h = new Harness();
  const s = h.store();
  s.peerEvent(pubkey(1), true, T0 - MINUTE);
  await h.open(pubkey(1), channelPoint(1), T0);
  await h.open(pubkey(4), channelPoint(4), T0 + 30 * MINUTE);
  await h.open(pubkey(2), channelPoint(2), T0 + HOUR);
  s.peerEvent(pubkey(4), true, T0 + HOUR);
  s.peerEvent(pubkey(4), false, T0 + 90 * MINUTE);
  await h.open(pubkey(3), channelPoint(3), T0 + 2 * HOUR);
  s.peerEvent(pubkey(4), true, T0 + 2 * HOUR);
  s.peerEvent(pubkey(3), true, T0 + 3 * HOUR);
  s.peerEvent(pubkey(4), false, T0 + 210 * MINUTE);
  h.clock.set(T0 + 4 * HOUR);
  await h.open(pubkey(5), channelPoint(5), T0 + 4 * HOUR);
  return h;
}

describe('GraphQL channels', () => {
  describe('orders', () => {
    it('UPTIME_RATIO_ASC (the default): lowest first, no ratio last', async () => {
      const h = await fiveChannels();
      const p = await page(h);
      assert.deepEqual(numbers(p), [2, 3, 4, 1, 5]);
      assert.deepEqual(
        p.nodes.map((n) => n.uptimeRatio),
        [0, 0.5, 2 / 3.5, 1, null],
      );
      assert.equal(p.totalCount, 5);
      assert.equal(p.pageInfo.hasNextPage, false);
    });

    it('UPTIME_RATIO_DESC: highest first, no ratio last', async () => {
      const h = await fiveChannels();
      assert.deepEqual(numbers(await page(h, { orderBy: 'UPTIME_RATIO_DESC' })), [1, 4, 3, 2, 5]);
    });

    it('LIFETIME_DESC: oldest first', async () => {
      const h = await fiveChannels();
      assert.deepEqual(numbers(await page(h, { orderBy: 'LIFETIME_DESC' })), [1, 4, 2, 3, 5]);
    });

    it('FLAP_COUNT_DESC: most flaps first, ties by channel point', async () => {
      const h = await fiveChannels();
      assert.deepEqual(numbers(await page(h, { orderBy: 'FLAP_COUNT_DESC' })), [4, 3, 1, 2, 5]);
    });

    it('computes ratios when the query runs', async () => {
      const h = await fiveChannels();
      // At T0 + 10 h: channel 5 has a lifetime (ratio 0, after 2 by channel point),
      // channel 4 is at 2/9.5, channel 3 (still online) at 7/8.
      h.clock.set(T0 + 10 * HOUR);
      assert.deepEqual(numbers(await page(h)), [2, 5, 4, 3, 1]);
    });
  });

  describe('filters', () => {
    it('lists one peer', async () => {
      const h = await fiveChannels();
      await h.open(pubkey(4), channelPoint(6), T0 + 4 * HOUR);
      const p = await page(h, { peer: pubkey(4), orderBy: 'LIFETIME_DESC' });
      assert.deepEqual(numbers(p), [4, 6]);
      assert.equal(p.totalCount, 2);
    });

    it('lists nothing for a peer without channels, and refuses a malformed peer', async () => {
      const h = await fiveChannels();
      const p = await page(h, { peer: pubkey(9) });
      assert.deepEqual(p, {
        nodes: [],
        totalCount: 0,
        pageInfo: { endCursor: null, hasNextPage: false },
      });
      assert.equal((await h.error(CHANNELS, { peer: 'not-a-key' })).code, 'BAD_USER_INPUT');
    });

    it('lists every node without node, one node with it, ties broken by node', async () => {
      const h = new Harness({ nodes: ['bob', 'alice'] });
      await h.open(pubkey(1), channelPoint(1), T0, 'bob');
      await h.open(pubkey(1), channelPoint(1), T0, 'alice');
      await h.open(pubkey(2), channelPoint(2), T0, 'bob');
      h.clock.set(T0 + HOUR);
      const all = await page(h);
      assert.deepEqual(
        all.nodes.map((n) => `${n.node}/${CHANNEL_NUMBERS.get(n.channelPoint)}`),
        ['alice/1', 'bob/1', 'bob/2'],
      );
      assert.equal(all.totalCount, 3);
      const bob = await page(h, { node: 'bob' });
      assert.deepEqual(numbers(bob), [1, 2]);
      assert.equal(bob.totalCount, 2);
    });

    it('refuses a node that is not tracked with NODE_NOT_FOUND', async () => {
      const h = await fiveChannels();
      const error = await h.error(CHANNELS, { node: 'carol' });
      assert.equal(error.code, 'NODE_NOT_FOUND');
      assert.equal(error.data, null);
    });
  });

  describe('pages', () => {
    /** Every page of an order, `first` at a time; `between` runs before each next page. */
    async function allPages(
      h: Harness,
      vars: Record<string, unknown>,
      between: (pageIndex: number) => void | Promise<void> = () => undefined,
    ): Promise<Page[]> {
      const pages: Page[] = [];
      let after: string | null = null;
      for (;;) {
        // A listing that never ends is the bug these tests look for: fail, do not hang.
        assert.ok(pages.length < 100, 'more than 100 pages');
        const p = await page(h, { ...vars, after });
        pages.push(p);
        if (!p.pageInfo.hasNextPage) return pages;
        assert.notEqual(p.pageInfo.endCursor, null);
        after = p.pageInfo.endCursor;
        await between(pages.length);
      }
    }

    for (const orderBy of [
      'UPTIME_RATIO_ASC',
      'UPTIME_RATIO_DESC',
      'LIFETIME_DESC',
      'FLAP_COUNT_DESC',
    ]) {
      it(`pages through ${orderBy} without gaps or duplicates`, async () => {
        const h = await fiveChannels();
        const whole = numbers(await page(h, { orderBy }));
        const pages = await allPages(h, { orderBy, first: 2 });
        assert.deepEqual(pages.map(numbers), [
          whole.slice(0, 2),
          whole.slice(2, 4),
          whole.slice(4),
        ]);
        for (const p of pages) assert.equal(p.totalCount, 5);
      });
    }

    it('keeps its place in LIFETIME_DESC while time passes', async () => {
      const h = new Harness();
      for (let i = 1; i <= 9; i++) await h.open(pubkey(i), channelPoint(i), T0 + i * MINUTE);
      h.clock.set(T0 + HOUR);
      const pages = await allPages(h, { orderBy: 'LIFETIME_DESC', first: 2 }, () => {
        h.clock.advance(7 * MINUTE);
      });
      assert.deepEqual(pages.flatMap(numbers), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('lists every channel whose ratio did not change exactly once while others change', async () => {
      // Peers 1-4 offline (ratio 0), peers 5-8 online (ratio 1), all from T0.
      const h = new Harness();
      for (let i = 5; i <= 8; i++) h.events().peerEvent(pubkey(i), true, T0 - MINUTE);
      for (let i = 1; i <= 8; i++) await h.open(pubkey(i), channelPoint(i), T0);
      h.clock.set(T0 + HOUR);
      const pages = await allPages(h, { first: 2 }, (index) => {
        h.clock.advance(10 * MINUTE);
        // After the first page, channel 1 (already listed) moves behind the cursor's position.
        if (index === 1) h.events().peerEvent(pubkey(1), true, h.clock.now());
      });
      const listed = pages.flatMap(numbers);
      for (let i = 2; i <= 8; i++) {
        assert.equal(
          listed.filter((n) => n === i).length,
          1,
          `channel ${i} in ${listed.join(',')}`,
        );
      }
      assert.deepEqual(
        listed.filter((n) => n !== 1),
        [2, 3, 4, 5, 6, 7, 8],
      );
    });

    it('lists every channel exactly once while time moves every ratio between pages', async () => {
      // Ratios drift with time alone: a channel whose peer went offline sinks a little at
      // each instant, and would slip past its own cursor if later pages ranked at their own now.
      const h = new Harness();
      for (let i = 1; i <= 6; i++) h.events().peerEvent(pubkey(i), true, T0 - MINUTE);
      for (let i = 1; i <= 6; i++) await h.open(pubkey(i), channelPoint(i), T0 + i * MINUTE);
      for (let i = 1; i <= 6; i++) h.events().peerEvent(pubkey(i), false, T0 + HOUR + i * MINUTE);
      h.clock.set(T0 + 2 * HOUR);
      for (const orderBy of ['UPTIME_RATIO_DESC', 'UPTIME_RATIO_ASC']) {
        const pages = await allPages(h, { orderBy, first: 1 }, () => {
          h.clock.advance(5 * MINUTE);
        });
        const listed = pages.flatMap(numbers);
        assert.equal(listed.length, 6, `${orderBy}: ${listed.join(',')}`);
        assert.equal(new Set(listed).size, 6, `${orderBy}: ${listed.join(',')}`);
      }
    });

    it("ranks later pages at the first page's instant but computes their figures at now", async () => {
      // Peers 1 and 2 online from before T0, channels 1 and 2 opened at T0: both at ratio 1
      // when the first page is listed at T0 + 1 h. Peer 2 then goes offline, and the next
      // page is asked for at T0 + 2 h, when channel 2 is at 0.5 (1 h online of 2 h).
      const h = new Harness();
      for (const i of [1, 2]) h.events().peerEvent(pubkey(i), true, T0 - MINUTE);
      for (const i of [1, 2]) await h.open(pubkey(i), channelPoint(i), T0);
      h.clock.set(T0 + HOUR);
      const query = `query($after: String) {
        channels(first: 1, after: $after) {
          nodes { channelPoint lifetimeSeconds uptimeSeconds uptimeRatio }
          pageInfo { endCursor hasNextPage }
        }
      }`;
      type Figures = {
        channels: {
          nodes: {
            channelPoint: string;
            lifetimeSeconds: number;
            uptimeSeconds: number;
            uptimeRatio: number | null;
          }[];
          pageInfo: { endCursor: string | null; hasNextPage: boolean };
        };
      };
      const first = (await h.data<Figures>(query)).channels;
      assert.deepEqual(first.nodes, [
        {
          channelPoint: channelPoint(1),
          lifetimeSeconds: 3600,
          uptimeSeconds: 3600,
          uptimeRatio: 1,
        },
      ]);
      h.events().peerEvent(pubkey(2), false, T0 + HOUR);
      h.clock.set(T0 + 2 * HOUR);
      const second = (await h.data<Figures>(query, { after: first.pageInfo.endCursor })).channels;
      // Ranked at T0 + 1 h, channel 2 (ratio 1 then) comes after channel 1, although at
      // T0 + 2 h its ratio is below channel 1's; its figures are those of T0 + 2 h.
      assert.deepEqual(second.nodes, [
        {
          channelPoint: channelPoint(2),
          lifetimeSeconds: 7200,
          uptimeSeconds: 3600,
          uptimeRatio: 0.5,
        },
      ]);
      assert.equal(second.pageInfo.hasNextPage, false);
      // A new listing ranks at its own now: channel 2 first.
      assert.deepEqual(
        (await h.data<Figures>(query)).channels.nodes.map((n) => [n.channelPoint, n.uptimeRatio]),
        [[channelPoint(2), 0.5]],
      );
    });

    it("keeps every later page at the first page's instant, not the previous page's", async () => {
      const h = new Harness();
      for (let i = 1; i <= 3; i++) await h.open(pubkey(i), channelPoint(i), T0);
      h.clock.set(T0 + HOUR);
      const query = `query($after: String) {
        channels(first: 1, after: $after, orderBy: LIFETIME_DESC) {
          nodes { lifetimeSeconds }
          pageInfo { endCursor }
        }
      }`;
      type Cursors = {
        channels: { nodes: { lifetimeSeconds: number }[]; pageInfo: { endCursor: string } };
      };
      const p1 = (await h.data<Cursors>(query)).channels;
      h.clock.advance(HOUR);
      const p2 = (await h.data<Cursors>(query, { after: p1.pageInfo.endCursor })).channels;
      h.clock.advance(HOUR);
      const p3 = (await h.data<Cursors>(query, { after: p2.pageInfo.endCursor })).channels;
      assert.deepEqual(
        [p1, p2, p3].map((p) => p.nodes[0]?.lifetimeSeconds),
        [3600, 7200, 10800],
      );
      const instant = (cursor: string): unknown =>
        (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[])[4];
      assert.deepEqual(
        [p1, p2, p3].map((p) => instant(p.pageInfo.endCursor)),
        [T0 + HOUR, T0 + HOUR, T0 + HOUR],
      );
    });

    it('refuses a cursor of an instant later than now or before the epoch', async () => {
      const h = await fiveChannels();
      const now = h.clock.now();
      const cursorAt = (at: number): string =>
        encodeCursor({
          order: 'UPTIME_RATIO_ASC',
          rank: 0,
          node: 'alice',
          channelPoint: channelPoint(2),
          at,
        });
      for (const at of [now + 1, now + HOUR, 8.64e15 + 1, Number.MAX_VALUE, -1]) {
        const error = await h.error(CHANNELS, { after: cursorAt(at) });
        assert.equal(error.code, 'BAD_USER_INPUT', String(at));
        assert.match(error.message, /not between the epoch and now/, String(at));
        assert.equal(error.data, null, String(at));
      }
      // A cursor of now or earlier is one a first page can have returned.
      assert.deepEqual(numbers(await page(h, { after: cursorAt(now) })), [3, 4, 1, 5]);
      assert.deepEqual(numbers(await page(h, { after: cursorAt(now - HOUR) })), [3, 4, 1, 5]);
      // The clock moving on makes a cursor from its future acceptable.
      h.clock.advance(HOUR);
      assert.equal(numbers(await page(h, { after: cursorAt(now + HOUR) })).length, 4);
    });

    it('gives an empty page and no cursor with first: 0', async () => {
      const h = await fiveChannels();
      assert.deepEqual(await page(h, { first: 0 }), {
        nodes: [],
        totalCount: 5,
        pageInfo: { endCursor: null, hasNextPage: true },
      });
    });

    it('caps first at 1000', async () => {
      const h = new Harness();
      for (let i = 0; i < 1001; i++) h.events().openChannel(pubkey(1), channelPoint(i + 100), T0);
      await h.idle();
      const p = await page(h, { first: 5000 });
      assert.equal(p.nodes.length, 1000);
      assert.equal(p.totalCount, 1001);
      assert.equal(p.pageInfo.hasNextPage, true);
      const rest = await page(h, { first: 5000, after: p.pageInfo.endCursor });
      assert.equal(rest.nodes.length, 1);
      assert.equal(rest.pageInfo.hasNextPage, false);
    });

    it('caps first at a configured maximum and defaults to 100', async () => {
      const h = new Harness({ deps: { limits: { maxPageSize: 3 } } });
      for (let i = 1; i <= 5; i++) await h.open(pubkey(i), channelPoint(i), T0);
      assert.equal((await page(h, { first: 10 })).nodes.length, 3);
      assert.equal((await page(h)).nodes.length, 3);
      const many = new Harness();
      for (let i = 0; i < 150; i++) many.events().openChannel(pubkey(1), channelPoint(i + 100), T0);
      await many.idle();
      assert.equal((await page(many)).nodes.length, 100);
    });

    it('refuses a negative first', async () => {
      const h = await fiveChannels();
      assert.equal((await h.error(CHANNELS, { first: -1 })).code, 'BAD_USER_INPUT');
    });

    it('refuses a cursor that is not one of ours, or of another order', async () => {
      const h = await fiveChannels();
      const { endCursor } = (await page(h, { first: 1 })).pageInfo;
      const asJson = (value: unknown): string =>
        Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const after of [
        'garbage!',
        '',
        `${endCursor}x`,
        asJson({ order: 'UPTIME_RATIO_ASC' }),
        asJson(['UPTIME_RATIO_ASC', 'high', 'alice', channelPoint(1)]),
        asJson(['SIDEWAYS', 0, 'alice', channelPoint(1)]),
      ]) {
        assert.equal((await h.error(CHANNELS, { after })).code, 'BAD_USER_INPUT', after);
      }
      const other = await h.error(CHANNELS, { after: endCursor, orderBy: 'LIFETIME_DESC' });
      assert.equal(other.code, 'BAD_USER_INPUT');
      assert.match(other.message, /UPTIME_RATIO_ASC/);
    });

    it('pages on from a cursor of a channel that has closed since', async () => {
      const h = await fiveChannels();
      const cursor = encodeCursor({
        order: 'LIFETIME_DESC',
        rank: T0 + 30 * MINUTE,
        node: 'alice',
        channelPoint: channelPoint(4),
        at: T0 + 4 * HOUR,
      });
      h.events().closeChannel(pubkey(4), channelPoint(4), T0 + 4 * HOUR);
      assert.deepEqual(
        numbers(await page(h, { orderBy: 'LIFETIME_DESC', after: cursor })),
        [2, 3, 5],
      );
    });
  });
});
