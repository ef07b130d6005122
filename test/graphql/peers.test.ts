import { strict as assert } from 'node:assert';
import { encodeCursor, encodePeerCursor } from '../../src/graphql/cursor.js';
import { channelPoint, Harness, HOUR, iso, MINUTE, pubkey, SECOND, T0 } from './harness.js';

const PEERS = `query($node: String, $orderBy: PeerOrder, $first: Int, $after: String) {
  peers(node: $node, orderBy: $orderBy, first: $first, after: $after) {
    nodes { node pubkey flapCount }
    totalCount
    pageInfo { endCursor hasNextPage }
  }
}`;

interface Page {
  nodes: { node: string; pubkey: string; flapCount: number }[];
  totalCount: number;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

async function page(h: Harness, vars: Record<string, unknown> = {}): Promise<Page> {
  return (await h.data<{ peers: Page }>(PEERS, vars)).peers;
}

const PEER_NUMBERS = new Map(
  Array.from({ length: 200 }, (_, i) => [pubkey(i), i] as [string, number]),
);

/** The peers of a page, as the numbers they were made from. */
function numbers(p: Page): number[] {
  return p.nodes.map((n) => PEER_NUMBERS.get(n.pubkey) ?? -1);
}

/**
 * Now is T0 + 4 h; each peer n has channel n (peer 4 also channel 14). Flaps
 * count the monitor's creation; the monitored time runs from it.
 * 1: online from before T0, monitored from T0: 4 h online of 4 h (ratio 1), 1 flap at T0
 * 2: monitored from T0 + 1 h, offline throughout (ratio 0), 1 flap at T0 + 1 h
 * 8: as 2 (ratio 0, 1 flap at T0 + 1 h): ties with 2 in every order
 * 3: monitored from T0 + 2 h, online from T0 + 3 h (ratio 1/2), 2 flaps, last at T0 + 3 h
 * 4: monitored from T0 + 30 min, online 1 h-1.5 h and 2 h-3.5 h: 2 h of 3.5 h (ratio 4/7),
 *    5 flaps, last at T0 + 3.5 h; its second channel, opened at T0 + 3 h, changes nothing
 * 5: channel open from T0 + 1 h to T0 + 2 h, then online, offline, online without one: no
 *    log (no ratio), 4 flaps, last at T0 + 3 h 15 min, online
 * 6: monitored from now (no ratio), 1 flap at T0 + 4 h
 * 7: peer events but never a channel: not monitored, not listed
 */
async function sevenPeers(): Promise<Harness> {
  const h = new Harness();
  const s = h.store();
  s.peerEvent(pubkey(1), true, T0 - MINUTE);
  await h.open(pubkey(1), channelPoint(1), T0);
  await h.open(pubkey(4), channelPoint(4), T0 + 30 * MINUTE);
  await h.open(pubkey(2), channelPoint(2), T0 + HOUR);
  await h.open(pubkey(8), channelPoint(8), T0 + HOUR);
  await h.open(pubkey(5), channelPoint(5), T0 + HOUR);
  s.peerEvent(pubkey(4), true, T0 + HOUR);
  s.peerEvent(pubkey(7), true, T0 + HOUR);
  s.peerEvent(pubkey(4), false, T0 + 90 * MINUTE);
  await h.open(pubkey(3), channelPoint(3), T0 + 2 * HOUR);
  s.peerEvent(pubkey(4), true, T0 + 2 * HOUR);
  s.peerEvent(pubkey(7), false, T0 + 2 * HOUR);
  s.closeChannel(pubkey(5), channelPoint(5), T0 + 2 * HOUR);
  s.peerEvent(pubkey(5), true, T0 + 150 * MINUTE);
  s.peerEvent(pubkey(3), true, T0 + 3 * HOUR);
  s.peerEvent(pubkey(5), false, T0 + 3 * HOUR);
  await h.open(pubkey(4), channelPoint(14), T0 + 3 * HOUR);
  s.peerEvent(pubkey(5), true, T0 + 195 * MINUTE);
  s.peerEvent(pubkey(4), false, T0 + 210 * MINUTE);
  h.clock.set(T0 + 4 * HOUR);
  await h.open(pubkey(6), channelPoint(6), T0 + 4 * HOUR);
  return h;
}

const ORDERS = ['FLAP_COUNT_DESC', 'LAST_FLAP_DESC', 'UPTIME_RATIO_ASC'] as const;

/** Every page of an order, `first` at a time; `between` runs before each next page. */
async function allPages(
  h: Harness,
  vars: Record<string, unknown>,
  between: (pageIndex: number) => void | Promise<void> = () => undefined,
): Promise<Page[]> {
  const pages: Page[] = [];
  let after: string | null = null;
  for (;;) {
    // A listing that never ends is a bug these tests look for: fail, do not hang.
    assert.ok(pages.length < 100, 'more than 100 pages');
    const p = await page(h, { ...vars, after });
    pages.push(p);
    if (!p.pageInfo.hasNextPage) return pages;
    assert.notEqual(p.pageInfo.endCursor, null);
    after = p.pageInfo.endCursor;
    await between(pages.length);
  }
}

describe('GraphQL peers', () => {
  describe('orders', () => {
    it('FLAP_COUNT_DESC (the default): most flaps first, ties by pubkey', async () => {
      const h = await sevenPeers();
      const p = await page(h);
      assert.deepEqual(numbers(p), [4, 5, 3, 1, 2, 6, 8]);
      assert.deepEqual(
        p.nodes.map((n) => n.flapCount),
        [5, 4, 2, 1, 1, 1, 1],
      );
      assert.equal(p.totalCount, 7);
      assert.equal(p.pageInfo.hasNextPage, false);
    });

    it('LAST_FLAP_DESC: latest flap first, ties by pubkey', async () => {
      const h = await sevenPeers();
      const query = `{ peers(orderBy: LAST_FLAP_DESC) { nodes { pubkey lastFlap } } }`;
      const data = await h.data<{ peers: { nodes: { pubkey: string; lastFlap: string }[] } }>(
        query,
      );
      assert.deepEqual(
        data.peers.nodes.map((n) => [PEER_NUMBERS.get(n.pubkey), n.lastFlap]),
        [
          [6, iso(T0 + 4 * HOUR)],
          [4, iso(T0 + 210 * MINUTE)],
          [5, iso(T0 + 195 * MINUTE)],
          [3, iso(T0 + 3 * HOUR)],
          [2, iso(T0 + HOUR)],
          [8, iso(T0 + HOUR)],
          [1, iso(T0)],
        ],
      );
    });

    it('UPTIME_RATIO_ASC: lowest ratio first, peers without a log or monitored time last', async () => {
      const h = await sevenPeers();
      assert.deepEqual(
        numbers(await page(h, { orderBy: 'UPTIME_RATIO_ASC' })),
        [2, 8, 3, 4, 1, 5, 6],
      );
      // The ratios the order comes from, as the store computes them.
      const s = h.store();
      const ratio = (n: number): number | null => {
        const view = s.peer(pubkey(n));
        assert.ok(view !== undefined);
        const { uptime, monitored } = s.peerUptime(view);
        return monitored > 0 ? uptime / monitored : null;
      };
      assert.deepEqual([2, 8, 3, 4, 1, 5, 6].map(ratio), [0, 0, 0.5, 4 / 7, 1, null, null]);
    });

    it('ranks by uptime ratio when the query runs', async () => {
      const h = await sevenPeers();
      // At T0 + 10 h peer 6 has 6 h offline (ratio 0, after 2 by pubkey), peer 4 is at
      // 2/9.5, peer 3 (still online) at 7/8.
      h.clock.set(T0 + 10 * HOUR);
      assert.deepEqual(
        numbers(await page(h, { orderBy: 'UPTIME_RATIO_ASC' })),
        [2, 6, 8, 4, 3, 1, 5],
      );
    });

    it('counts a peer monitored again after its channels all closed from its oldest open channel', async () => {
      // Peer 1 had a channel from T0 to T0 + 1 h, online; peer 2 from T0 on, offline until
      // T0 + 9 h. Peer 1's log went with its channel; from T0 + 8 h it has channels again,
      // offline until T0 + 9 h, online since: counted from T0 + 8 h it is at 1/2 at
      // T0 + 10 h (from its creation it would read 1/10), peer 2 at 1/10.
      const h = new Harness();
      const s = h.store();
      s.peerEvent(pubkey(1), true, T0 - MINUTE);
      await h.open(pubkey(1), channelPoint(1), T0);
      await h.open(pubkey(2), channelPoint(2), T0);
      s.closeChannel(pubkey(1), channelPoint(1), T0 + HOUR);
      s.peerEvent(pubkey(1), false, T0 + 2 * HOUR);
      await h.open(pubkey(1), channelPoint(3), T0 + 8 * HOUR);
      await h.open(pubkey(1), channelPoint(4), T0 + 8.5 * HOUR);
      s.peerEvent(pubkey(1), true, T0 + 9 * HOUR);
      s.peerEvent(pubkey(2), true, T0 + 9 * HOUR);
      h.clock.set(T0 + 10 * HOUR);
      assert.deepEqual(s.peerUptime(s.peer(pubkey(1))!), { monitored: 2 * HOUR, uptime: HOUR });
      assert.deepEqual(s.peerUptime(s.peer(pubkey(2))!), {
        monitored: 10 * HOUR,
        uptime: HOUR,
      });
      assert.deepEqual(numbers(await page(h, { orderBy: 'UPTIME_RATIO_ASC' })), [2, 1]);
    });
  });

  describe('peers without channels', () => {
    it('lists a peer whose channels all closed, as the store keeps it', async () => {
      const h = await sevenPeers();
      const query = `{ peers(orderBy: LAST_FLAP_DESC) {
        nodes { pubkey tracked online flapCount lastFlap channels { channelPoint } }
      } }`;
      type Data = {
        peers: {
          nodes: {
            pubkey: string;
            tracked: boolean;
            online: boolean;
            flapCount: number;
            lastFlap: string;
            channels: unknown[];
          }[];
        };
      };
      const nodes = (await h.data<Data>(query)).peers.nodes;
      // The monitor outlives its channels: its flaps (counted after the close too) and
      // its online state stay.
      assert.deepEqual(
        nodes.find((n) => n.pubkey === pubkey(5)),
        {
          pubkey: pubkey(5),
          tracked: true,
          online: true,
          flapCount: 4,
          lastFlap: iso(T0 + 195 * MINUTE),
          channels: [],
        },
      );
      assert.deepEqual(nodes.find((n) => n.pubkey === pubkey(4))?.channels, [
        { channelPoint: channelPoint(4) },
        { channelPoint: channelPoint(14) },
      ]);
      // A peer that never had a channel is not monitored: not listed.
      assert.equal(
        nodes.some((n) => n.pubkey === pubkey(7)),
        false,
      );
    });

    it('lists nothing, with no cursor, for a node without monitored peers', async () => {
      const h = new Harness();
      h.events().peerEvent(pubkey(1), true, T0);
      assert.deepEqual(await page(h), {
        nodes: [],
        totalCount: 0,
        pageInfo: { endCursor: null, hasNextPage: false },
      });
    });
  });

  describe('filters', () => {
    it('lists every node without node, one node with it, ties broken by node', async () => {
      const h = new Harness({ nodes: ['bob', 'alice'] });
      await h.open(pubkey(1), channelPoint(1), T0, 'bob');
      await h.open(pubkey(1), channelPoint(2), T0, 'alice');
      await h.open(pubkey(2), channelPoint(3), T0, 'bob');
      h.clock.set(T0 + HOUR);
      const all = await page(h);
      assert.deepEqual(
        all.nodes.map((n) => `${n.node}/${PEER_NUMBERS.get(n.pubkey)}`),
        ['alice/1', 'bob/1', 'bob/2'],
      );
      assert.equal(all.totalCount, 3);
      const bob = await page(h, { node: 'bob' });
      assert.deepEqual(
        bob.nodes.map((n) => `${n.node}/${PEER_NUMBERS.get(n.pubkey)}`),
        ['bob/1', 'bob/2'],
      );
      assert.equal(bob.totalCount, 2);
    });

    it('refuses a node that is not tracked with NODE_NOT_FOUND', async () => {
      const h = await sevenPeers();
      const error = await h.error(PEERS, { node: 'carol' });
      assert.equal(error.code, 'NODE_NOT_FOUND');
      assert.match(error.message, /carol/);
      assert.equal(error.data, null);
    });
  });

  describe('pages', () => {
    for (const orderBy of ORDERS) {
      it(`pages through ${orderBy} without gaps or duplicates`, async () => {
        const h = await sevenPeers();
        const whole = numbers(await page(h, { orderBy }));
        assert.equal(whole.length, 7);
        const pages = await allPages(h, { orderBy, first: 2 });
        assert.deepEqual(pages.map(numbers), [
          whole.slice(0, 2),
          whole.slice(2, 4),
          whole.slice(4, 6),
          whole.slice(6),
        ]);
        for (const p of pages) assert.equal(p.totalCount, 7);
      });
    }

    it("ranks later pages at the first page's instant while time and events move the ratios", async () => {
      // Peers 1-6 online from their monitors' creation (T0 + n min) to T0 + 1 h + n min,
      // offline since. Ranked at T0 + 2 h, the order is 6, 5, ..., 1 (more offline time
      // last). Between pages the clock moves and peer events at the new instants turn
      // the order around at the new now: later pages keep the first page's order.
      const h = new Harness();
      for (let i = 1; i <= 6; i++) h.events().peerEvent(pubkey(i), true, T0 - MINUTE);
      for (let i = 1; i <= 6; i++) await h.open(pubkey(i), channelPoint(i), T0 + i * MINUTE);
      for (let i = 1; i <= 6; i++) h.events().peerEvent(pubkey(i), false, T0 + HOUR + i * MINUTE);
      h.clock.set(T0 + 2 * HOUR);
      const whole = numbers(await page(h, { orderBy: 'UPTIME_RATIO_ASC' }));
      assert.deepEqual(whole, [1, 2, 3, 4, 5, 6]);
      const pages = await allPages(h, { orderBy: 'UPTIME_RATIO_ASC', first: 2 }, () => {
        h.clock.advance(HOUR);
        // Peers 1-3 back online: at now they would rank after 4-6.
        for (let i = 1; i <= 3; i++) h.events().peerEvent(pubkey(i), true, h.clock.now());
      });
      assert.deepEqual(pages.map(numbers), [
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      // A new listing ranks at its own now.
      assert.deepEqual(numbers(await page(h, { orderBy: 'UPTIME_RATIO_ASC' })), [4, 5, 6, 1, 2, 3]);
    });

    it('lists every peer whose flap count did not change exactly once, in order, while others flap', async () => {
      const h = await sevenPeers();
      const pages = await allPages(h, { first: 2 }, (index) => {
        // After the first page (4, 5), peer 8 (last) flaps to the top and peer 4 (listed)
        // flaps more: neither is listed again, the others keep their order.
        if (index !== 1) return;
        for (let k = 1; k <= 6; k++) {
          h.events().peerEvent(pubkey(8), k % 2 === 1, T0 + 4 * HOUR + k * 10 * SECOND);
          h.events().peerEvent(pubkey(4), k % 2 === 1, T0 + 4 * HOUR + k * 10 * SECOND);
        }
      });
      assert.deepEqual(pages.flatMap(numbers), [4, 5, 3, 1, 2, 6]);
    });

    it("keeps the first page's instant in every later cursor", async () => {
      const h = await sevenPeers();
      const query = `query($after: String) {
        peers(first: 3, after: $after, orderBy: UPTIME_RATIO_ASC) { pageInfo { endCursor } }
      }`;
      type Cursors = { peers: { pageInfo: { endCursor: string } } };
      const p1 = (await h.data<Cursors>(query)).peers;
      h.clock.advance(HOUR);
      const p2 = (await h.data<Cursors>(query, { after: p1.pageInfo.endCursor })).peers;
      const instant = (cursor: string): unknown =>
        (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]).at(-1);
      assert.deepEqual(
        [p1, p2].map((p) => instant(p.pageInfo.endCursor)),
        [T0 + 4 * HOUR, T0 + 4 * HOUR],
      );
    });

    it('gives an empty page and no cursor with first: 0', async () => {
      const h = await sevenPeers();
      assert.deepEqual(await page(h, { first: 0 }), {
        nodes: [],
        totalCount: 7,
        pageInfo: { endCursor: null, hasNextPage: true },
      });
    });

    it('caps first at a configured maximum and defaults to 100', async () => {
      const h = new Harness({ deps: { limits: { maxPageSize: 3 } } });
      for (let i = 1; i <= 5; i++) await h.open(pubkey(i), channelPoint(i), T0);
      assert.equal((await page(h, { first: 10 })).nodes.length, 3);
      assert.equal((await page(h)).nodes.length, 3);
      const many = new Harness();
      for (let i = 0; i < 150; i++) many.events().openChannel(pubkey(i), channelPoint(1, i), T0);
      await many.idle();
      const p = await page(many);
      assert.equal(p.nodes.length, 100);
      assert.equal(p.totalCount, 150);
      assert.equal(p.pageInfo.hasNextPage, true);
    });

    it('serves a full page of 1000 peers within the default limits, and counts first against the cost', async () => {
      const h = new Harness();
      for (let i = 0; i < 1001; i++) h.events().openChannel(pubkey(i), channelPoint(1, i), T0);
      await h.idle();
      const full = `{ peers(first: 1000) { nodes { pubkey flapCount } pageInfo { hasNextPage } } }`;
      const data = await h.data<{
        peers: { nodes: unknown[]; pageInfo: { hasNextPage: boolean } };
      }>(full);
      assert.equal(data.peers.nodes.length, 1000);
      assert.equal(data.peers.pageInfo.hasNextPage, true);
      // 1000 items of 2 + 1.5 * 2 at depth 1 are far more than a cost limit of 1000.
      const tight = new Harness({ deps: { limits: { maxCost: 1000 } } });
      await tight.open(pubkey(1), channelPoint(1), T0);
      const refused = await tight.query(full);
      assert.equal(refused.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.equal(refused.data, undefined);
      assert.equal(
        (
          await tight.data<{ peers: { nodes: unknown[] } }>(
            `{ peers(first: 10) { nodes { pubkey } } }`,
          )
        ).peers.nodes.length,
        1,
      );
    });

    it('refuses a negative first', async () => {
      const h = await sevenPeers();
      const error = await h.error(PEERS, { first: -1 });
      assert.equal(error.code, 'BAD_USER_INPUT');
      assert.equal(error.data, null);
    });

    it('refuses a cursor that is not one of ours, of another order, or of channels', async () => {
      const h = await sevenPeers();
      const { endCursor } = (await page(h, { first: 1 })).pageInfo;
      assert.ok(endCursor !== null);
      const asJson = (value: unknown): string =>
        Buffer.from(JSON.stringify(value)).toString('base64url');
      const channelsCursor = encodeCursor({
        order: 'FLAP_COUNT_DESC',
        rank: -5,
        node: 'alice',
        channelPoint: channelPoint(4),
        at: T0,
      });
      for (const after of [
        'garbage!',
        '',
        `${endCursor}x`,
        asJson(['peers', 'FLAP_COUNT_DESC', 'high', 'alice', pubkey(1), T0]),
        asJson(['peers', 'SIDEWAYS', 0, 'alice', pubkey(1), T0]),
        asJson(['FLAP_COUNT_DESC', -5, 'alice', pubkey(4), T0]),
        channelsCursor,
      ]) {
        const error = await h.error(PEERS, { after });
        assert.equal(error.code, 'BAD_USER_INPUT', after);
        assert.equal(error.data, null, after);
      }
      // A peers cursor is no cursor of channels either, even of an order both have.
      const CHANNELS = `query($after: String) {
        channels(orderBy: FLAP_COUNT_DESC, after: $after) { totalCount }
      }`;
      const asChannels = await h.error(CHANNELS, { after: endCursor });
      assert.equal(asChannels.code, 'BAD_USER_INPUT');
      assert.match(asChannels.message, /not a cursor returned by channels/);
      const other = await h.error(PEERS, { after: endCursor, orderBy: 'LAST_FLAP_DESC' });
      assert.equal(other.code, 'BAD_USER_INPUT');
      assert.match(other.message, /FLAP_COUNT_DESC/);
    });

    it('refuses a cursor of an instant later than now or before the epoch', async () => {
      const h = await sevenPeers();
      const now = h.clock.now();
      const cursorAt = (at: number): string =>
        encodePeerCursor({
          order: 'FLAP_COUNT_DESC',
          rank: -5,
          node: 'alice',
          pubkey: pubkey(4),
          at,
        });
      for (const at of [now + 1, now + HOUR, -1]) {
        const error = await h.error(PEERS, { after: cursorAt(at) });
        assert.equal(error.code, 'BAD_USER_INPUT', String(at));
        assert.match(error.message, /not between the epoch and now/, String(at));
      }
      assert.deepEqual(numbers(await page(h, { after: cursorAt(now) })), [5, 3, 1, 2, 6, 8]);
    });

    it('pages on from a position no monitored peer holds', async () => {
      // A cursor is a position, not a peer: no peer has 1 flap and pubkey 5 (the peer of
      // the page's end may have flapped since, or be gone with a restore).
      const h = await sevenPeers();
      const cursor = encodePeerCursor({
        order: 'FLAP_COUNT_DESC',
        rank: -1,
        node: 'alice',
        pubkey: pubkey(5),
        at: T0 + 4 * HOUR,
      });
      assert.deepEqual(numbers(await page(h, { after: cursor })), [6, 8]);
    });
  });
});
