import assert from 'node:assert/strict';
import { pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { openChannelJson, peerEventJson } from '../support/lnd-json.js';
import {
  appliedEvents,
  errorCodes,
  graphql,
  HOUR,
  iso,
  MINUTE,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  sampleValue,
  scrape,
  startExporter,
} from './support.js';

/**
 * Issue 4, Tests, bullet 1: lnd JSON with payload timestamps published on NATS,
 * read back as uptime on /metrics and through every GraphQL query of it; and
 * bullet 5: GraphQL errors with their codes over HTTP, depth and cost limits.
 * One exporter for the whole describe: every test only reads.
 */

/** A node-B channel: opened `lifetimeH` ago, its peer online `onlineH` of it, `extraFlaps` more. */
interface Fixture {
  readonly name: string;
  readonly lifetimeH: number;
  readonly onlineH: number;
  /** Repeated offline events after going offline: flaps that change no uptime. */
  readonly extraFlaps: number;
  readonly pubkey: string;
  readonly channelPoint: string;
}

// Distinct ratios, lifetimes and flap counts, in three different orders.
const TABLE: readonly Omit<Fixture, 'pubkey' | 'channelPoint'>[] = [
  { name: 'b0', lifetimeH: 5, onlineH: 4, extraFlaps: 2 }, // 0.800, 5 flaps
  { name: 'b1', lifetimeH: 6, onlineH: 1, extraFlaps: 6 }, // 0.167, 9 flaps
  { name: 'b2', lifetimeH: 7, onlineH: 5, extraFlaps: 4 }, // 0.714, 7 flaps
  { name: 'b3', lifetimeH: 8, onlineH: 2, extraFlaps: 1 }, // 0.250, 4 flaps
  { name: 'b4', lifetimeH: 9, onlineH: 3.5, extraFlaps: 3 }, // 0.389, 6 flaps
];

interface ChannelNode {
  node: string;
  channelPoint: string;
  uptimeRatio: number | null;
  peer: { pubkey: string; flapCount: number };
}

interface ChannelsData {
  channels: {
    totalCount: number;
    nodes: ChannelNode[];
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
  };
}

const CHANNELS = `query ($node: String, $peer: String, $orderBy: ChannelOrder, $first: Int, $after: String) {
  channels(node: $node, peer: $peer, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    nodes { node channelPoint uptimeRatio peer { pubkey flapCount } }
    pageInfo { endCursor hasNextPage }
  }
}`;

function near(
  actual: number | null | undefined,
  expected: number,
  tolerance: number,
  what: string,
) {
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not ${expected} ± ${tolerance}`,
  );
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Lifetime in seconds: from the opening (`ago` before `now`) to some time since `now`. */
function assertLifetime(actual: number | undefined, ago: number, now: number) {
  const least = ago / 1000;
  const most = (ago + Date.now() - now) / 1000;
  assert.ok(
    actual !== undefined && actual >= least && actual <= most,
    `lifetime ${actual} outside [${least}, ${most}]`,
  );
}

describe('e2e: uptime from NATS to /metrics and GraphQL', function () {
  this.timeout(30_000);

  const prefix = randomToken('e2eup');
  const base = randomToken('node');
  const nodeA = `${base}-a`;
  const nodeB = `${base}-b`;
  // Node A: the 1 h of 3 h channel, and a channel whose peer is online now.
  const p = randomPubkey();
  const c = randomChannelPoint(1);
  const q = randomPubkey();
  const d = randomChannelPoint(2);
  const fixtures: Fixture[] = TABLE.map((row, i) => ({
    ...row,
    pubkey: randomPubkey(),
    channelPoint: randomChannelPoint(i),
  }));
  let now = 0;
  let exporter: ExporterProcess;
  let publisher: Publisher;

  before(async () => {
    // Depth 5: deep enough for every query of bullet 1, shallow enough to refuse bullet 5's.
    exporter = await startExporter({
      prefix,
      args: ['--graphql.max-depth=5', '--graphql.max-cost=5000', '--metrics.windows=2h,24h'],
    });
    publisher = await Publisher.connect(prefix);
    now = Date.now();

    publisher.channel(nodeA, openChannelJson(p, c, now - 3 * HOUR));
    publisher.peer(nodeA, peerEventJson(p, true, now - 2 * HOUR));
    publisher.peer(nodeA, peerEventJson(p, false, now - 1 * HOUR));
    publisher.channel(nodeA, openChannelJson(q, d, now - 2 * HOUR));
    publisher.peer(nodeA, peerEventJson(q, true, now - 1 * HOUR));
    let bEvents = 0;
    for (const f of fixtures) {
      const opened = now - f.lifetimeH * HOUR;
      const online = opened + 30 * MINUTE;
      const offline = online + f.onlineH * HOUR;
      publisher.channel(nodeB, openChannelJson(f.pubkey, f.channelPoint, opened));
      publisher.peer(nodeB, peerEventJson(f.pubkey, true, online));
      publisher.peer(nodeB, peerEventJson(f.pubkey, false, offline));
      // A minute apart: well past the rate limiter's 1 s, so no event is dropped.
      for (let k = 1; k <= f.extraFlaps; k++) {
        publisher.peer(nodeB, peerEventJson(f.pubkey, false, offline + k * MINUTE));
      }
      bEvents += 3 + f.extraFlaps;
    }
    await publisher.flush();
    await pollUntil(
      () => appliedEvents(exporter, nodeA),
      (n) => n === 5,
      'node A events',
    );
    await pollUntil(
      () => appliedEvents(exporter, nodeB),
      (n) => n === bEvents,
      'node B events',
    );
  });

  after(async () => {
    await publisher.close();
    await exporter.dispose();
  });

  // Bullet 1: 1 h online of 3 h reads 0.333 on /metrics.
  it('exports the uptime ratio, lifetime and uptime of the channel on /metrics', async () => {
    const families = await scrape(exporter);
    const labels = { node: nodeA, channel_point: c, peer: p };
    const sample = families
      .get('chanfitness_channel_uptime_ratio')
      ?.samples.find((x) => x.labels.channel_point === c);
    assert.deepEqual(sample?.labels, labels);
    near(sampleValue(families, 'chanfitness_channel_uptime_ratio', labels), 1 / 3, 0.001, 'ratio');
    const lifetime = sampleValue(families, 'chanfitness_channel_lifetime_seconds', labels);
    assertLifetime(lifetime, 3 * HOUR, now);
    near(
      sampleValue(families, 'chanfitness_channel_uptime_seconds', labels),
      3600,
      0.001,
      'uptime',
    );
    // --metrics.windows: the last 2 h hold its hour online; 24h (labelled 1d) holds its lifetime.
    const windows = (families.get('chanfitness_channel_window_uptime_ratio')?.samples ?? [])
      .filter((x) => x.labels.channel_point === c)
      .map((x) => x.labels.window);
    assert.deepEqual(windows, ['2h', '1d']);
    near(
      sampleValue(families, 'chanfitness_channel_window_uptime_ratio', { ...labels, window: '2h' }),
      0.5,
      0.001,
      '2h',
    );
    near(
      sampleValue(families, 'chanfitness_channel_window_uptime_ratio', { ...labels, window: '1d' }),
      1 / 3,
      0.001,
      '1d',
    );
    // Opened, online, offline: three flaps (the monitor's creation is one).
    assert.equal(sampleValue(families, 'chanfitness_peer_flap_count', { node: nodeA, peer: p }), 3);
    assert.equal(sampleValue(families, 'chanfitness_peer_online', { node: nodeA, peer: p }), 0);
    assert.equal(sampleValue(families, 'chanfitness_peer_online', { node: nodeA, peer: q }), 1);
  });

  // Bullet 1: the same channel in GraphQL.
  it('answers the same figures in GraphQL', async () => {
    const data = await query<{
      channel: {
        node: string;
        channelPoint: string;
        openedAt: string;
        lifetimeSeconds: number;
        uptimeSeconds: number;
        uptimeRatio: number;
        peer: { pubkey: string; online: boolean; flapCount: number; lastFlap: string };
      };
    }>(
      exporter,
      `query ($c: String!, $n: String) {
        channel(channelPoint: $c, node: $n) {
          node channelPoint openedAt lifetimeSeconds uptimeSeconds uptimeRatio
          peer { pubkey online flapCount lastFlap }
        }
      }`,
      { c, n: nodeA },
    );
    const ch = data.channel;
    assert.equal(ch.node, nodeA);
    assert.equal(ch.channelPoint, c);
    assert.equal(ch.openedAt, iso(now - 3 * HOUR));
    near(ch.uptimeRatio, 1 / 3, 0.001, 'uptimeRatio');
    assertLifetime(ch.lifetimeSeconds, 3 * HOUR, now);
    near(ch.uptimeSeconds, 3600, 0.001, 'uptimeSeconds');
    assert.deepEqual(ch.peer, {
      pubkey: p,
      online: false,
      flapCount: 3,
      lastFlap: iso(now - HOUR),
    });
  });

  // Bullet 1: uptime over windows, clamped to the lifetime.
  it('answers uptime over windows', async () => {
    type Window = { from: string; to: string; uptimeSeconds: number; ratio: number | null };
    const data = await query<{ channel: Record<'middle' | 'clamped' | 'offline', Window> }>(
      exporter,
      `query ($c: String!, $n: String, $a: DateTime!, $b: DateTime, $early: DateTime!, $late: DateTime!, $later: DateTime) {
        channel(channelPoint: $c, node: $n) {
          middle: uptime(from: $a, to: $b) { from to uptimeSeconds ratio }
          clamped: uptime(from: $early) { from to uptimeSeconds ratio }
          offline: uptime(from: $late, to: $later) { from to uptimeSeconds ratio }
        }
      }`,
      {
        c,
        n: nodeA,
        a: iso(now - 150 * MINUTE),
        b: iso(now - 90 * MINUTE),
        early: iso(now - 5 * HOUR),
        late: iso(now - 50 * MINUTE),
        later: iso(now - 10 * MINUTE),
      },
    );
    const { middle, clamped, offline } = data.channel;
    assert.equal(middle.from, iso(now - 150 * MINUTE));
    assert.equal(middle.to, iso(now - 90 * MINUTE));
    near(middle.uptimeSeconds, 1800, 0.001, 'middle uptime');
    near(middle.ratio, 0.5, 0.0001, 'middle ratio');
    // From before the opening: starts at openedAt; to defaults to now.
    assert.equal(clamped.from, iso(now - 3 * HOUR));
    assert.ok(Date.parse(clamped.to) >= now, `to ${clamped.to} is now`);
    near(clamped.uptimeSeconds, 3600, 0.001, 'clamped uptime');
    near(clamped.ratio, 1 / 3, 0.001, 'clamped ratio');
    assert.equal(offline.uptimeSeconds, 0);
    assert.equal(offline.ratio, 0);
  });

  // Bullet 1: online periods, a closed one and an ongoing one (end null), clipped to windows.
  it('answers online periods, the ongoing one without an end', async () => {
    type Periods = { start: string; end: string | null }[];
    const data = await query<{
      c: { all: Periods; late: Periods };
      d: { all: Periods; recent: Periods; past: Periods; before: Periods };
    }>(
      exporter,
      `query ($c: String!, $d: String!, $n: String, $t90: DateTime, $t70: DateTime, $t30: DateTime) {
        c: channel(channelPoint: $c, node: $n) {
          all: onlinePeriods { start end }
          late: onlinePeriods(from: $t90) { start end }
        }
        d: channel(channelPoint: $d, node: $n) {
          all: onlinePeriods { start end }
          recent: onlinePeriods(from: $t30) { start end }
          past: onlinePeriods(to: $t30) { start end }
          before: onlinePeriods(from: $t90, to: $t70) { start end }
        }
      }`,
      {
        c,
        d,
        n: nodeA,
        t90: iso(now - 90 * MINUTE),
        t70: iso(now - 70 * MINUTE),
        t30: iso(now - 30 * MINUTE),
      },
    );
    assert.deepEqual(data.c.all, [{ start: iso(now - 2 * HOUR), end: iso(now - HOUR) }]);
    assert.deepEqual(data.c.late, [{ start: iso(now - 90 * MINUTE), end: iso(now - HOUR) }]);
    assert.deepEqual(data.d.all, [{ start: iso(now - HOUR), end: null }]);
    assert.deepEqual(data.d.recent, [{ start: iso(now - 30 * MINUTE), end: null }]);
    assert.deepEqual(data.d.past, [{ start: iso(now - HOUR), end: iso(now - 30 * MINUTE) }]);
    assert.deepEqual(data.d.before, []);
  });

  // Bullet 1: `channels` in each order.
  it('orders channels by each ChannelOrder', async () => {
    const ratio = (f: Fixture) => f.onlineH / f.lifetimeH;
    const flaps = (f: Fixture) => 3 + f.extraFlaps;
    const expected: Record<string, Fixture[]> = {
      UPTIME_RATIO_ASC: [...fixtures].sort((x, y) => ratio(x) - ratio(y)),
      UPTIME_RATIO_DESC: [...fixtures].sort((x, y) => ratio(y) - ratio(x)),
      LIFETIME_DESC: [...fixtures].sort((x, y) => y.lifetimeH - x.lifetimeH),
      FLAP_COUNT_DESC: [...fixtures].sort((x, y) => flaps(y) - flaps(x)),
    };
    for (const [orderBy, order] of Object.entries(expected)) {
      const data = await query<ChannelsData>(exporter, CHANNELS, { node: nodeB, orderBy });
      assert.equal(data.channels.totalCount, fixtures.length);
      assert.deepEqual(
        data.channels.nodes.map((n) => n.channelPoint),
        order.map((f) => f.channelPoint),
        `${orderBy}: ${data.channels.nodes.map((n) => n.peer.pubkey.slice(0, 8)).join(' ')}`,
      );
      assert.equal(data.channels.pageInfo.hasNextPage, false);
    }
    const byRatio = await query<ChannelsData>(exporter, CHANNELS, { node: nodeB });
    for (const n of byRatio.channels.nodes) {
      const f = fixtures.find((x) => x.channelPoint === n.channelPoint)!;
      near(n.uptimeRatio, ratio(f), 0.001, `${f.name} ratio`);
      assert.equal(n.peer.flapCount, flaps(f), `${f.name} flaps`);
    }
  });

  // Bullet 1: `first` + `after` through every page, in every order, one node and all nodes.
  it('pages through channels with first and after cursors, each channel once', async () => {
    const name = (cp: string) => `${cp.slice(0, 6)}…`;
    for (const orderBy of [
      'UPTIME_RATIO_ASC',
      'UPTIME_RATIO_DESC',
      'LIFETIME_DESC',
      'FLAP_COUNT_DESC',
    ]) {
      for (const [node, first, total] of [
        [nodeB, 1, 5],
        [nodeB, 2, 5],
        [undefined, 3, 7],
      ] as const) {
        const what = `${orderBy}, first ${first}, ${node ?? 'every node'}`;
        const whole = await query<ChannelsData>(exporter, CHANNELS, { node, orderBy });
        assert.equal(whole.channels.totalCount, total);
        const pages: string[][] = [];
        let after: string | null = null;
        // Bounded: a cursor that does not move on would page for ever.
        while (pages.length <= total) {
          const page: ChannelsData = await query<ChannelsData>(exporter, CHANNELS, {
            node,
            orderBy,
            first,
            after,
          });
          assert.equal(page.channels.totalCount, total);
          pages.push(page.channels.nodes.map((n) => n.channelPoint));
          const { hasNextPage, endCursor } = page.channels.pageInfo;
          if (!hasNextPage) break;
          assert.ok(endCursor !== null, what);
          after = endCursor;
        }
        assert.deepEqual(
          pages.map((page) => page.map(name)),
          chunks(
            whole.channels.nodes.map((n) => name(n.channelPoint)),
            first,
          ),
          `${what}: every channel exactly once, in order, on ${Math.ceil(total / first)} pages`,
        );
      }
    }
  });

  // Bullet 1: the channels of one peer.
  it('filters channels by peer', async () => {
    const data = await query<ChannelsData>(exporter, CHANNELS, { peer: q });
    assert.equal(data.channels.totalCount, 1);
    assert.deepEqual(
      data.channels.nodes.map((n) => [n.node, n.channelPoint]),
      [[nodeA, d]],
    );
  });

  // Bullet 1: `nodes`, one per subject token.
  it('lists both nodes with their counts', async () => {
    const data = await query<{ nodes: unknown[] }>(
      exporter,
      '{ nodes { id channelCount peerCount onlinePeerCount } }',
    );
    assert.deepEqual(data.nodes, [
      { id: nodeA, channelCount: 2, peerCount: 2, onlinePeerCount: 1 },
      { id: nodeB, channelCount: 5, peerCount: 5, onlinePeerCount: 0 },
    ]);
  });

  // Bullet 1: a monitored peer in GraphQL.
  it('answers a tracked peer with its channels', async () => {
    const data = await query<{ peer: unknown }>(
      exporter,
      `query ($pk: String!, $n: String) {
        peer(pubkey: $pk, node: $n) { node pubkey tracked online flapCount lastFlap channels { channelPoint } }
      }`,
      // Upper-case hex names the same peer.
      { pk: q.toUpperCase(), n: nodeA },
    );
    assert.deepEqual(data.peer, {
      node: nodeA,
      pubkey: q,
      tracked: true,
      online: true,
      flapCount: 2,
      lastFlap: iso(now - HOUR),
      channels: [{ channelPoint: d }],
    });
  });

  // Bullet 5: the codes of errors raised on purpose, over HTTP.
  it('gives CHANNEL_NOT_FOUND, NODE_NOT_FOUND and BAD_USER_INPUT with their codes', async () => {
    const cases: [string, string, Record<string, unknown>, string][] = [
      [
        'unknown channel',
        'query ($c: String!, $n: String) { channel(channelPoint: $c, node: $n) { channelPoint } }',
        { c: randomChannelPoint(), n: nodeA },
        'CHANNEL_NOT_FOUND',
      ],
      [
        'unknown node (channel)',
        'query ($c: String!, $n: String) { channel(channelPoint: $c, node: $n) { channelPoint } }',
        { c, n: `${nodeA}-nope` },
        'NODE_NOT_FOUND',
      ],
      [
        'unknown node (channels)',
        'query ($n: String) { channels(node: $n) { totalCount } }',
        { n: `${nodeA}-nope` },
        'NODE_NOT_FOUND',
      ],
      [
        'malformed channel point',
        'query ($c: String!, $n: String) { channel(channelPoint: $c, node: $n) { channelPoint } }',
        { c: 'abc:0', n: nodeA },
        'BAD_USER_INPUT',
      ],
      [
        'malformed pubkey',
        'query ($pk: String!, $n: String) { peer(pubkey: $pk, node: $n) { pubkey } }',
        { pk: `04${p.slice(2)}`, n: nodeA },
        'BAD_USER_INPUT',
      ],
      [
        'malformed peer filter',
        'query ($pk: String) { channels(peer: $pk) { totalCount } }',
        { pk: p.slice(0, 64) },
        'BAD_USER_INPUT',
      ],
      [
        'malformed cursor',
        'query ($a: String) { channels(after: $a) { totalCount } }',
        { a: 'not-a-cursor' },
        'BAD_USER_INPUT',
      ],
      [
        'node omitted with two nodes tracked',
        'query ($c: String!) { channel(channelPoint: $c) { channelPoint } }',
        { c },
        'BAD_USER_INPUT',
      ],
      [
        'window ending before its start',
        'query ($c: String!, $n: String, $a: DateTime!, $b: DateTime) { channel(channelPoint: $c, node: $n) { uptime(from: $a, to: $b) { uptimeSeconds } } }',
        { c, n: nodeA, a: iso(now - HOUR), b: iso(now - 2 * HOUR) },
        'BAD_USER_INPUT',
      ],
      [
        'negative first',
        'query ($f: Int) { channels(first: $f) { totalCount } }',
        { f: -1 },
        'BAD_USER_INPUT',
      ],
    ];
    for (const [what, text, variables, code] of cases) {
      const result = await graphql(exporter, text, variables);
      assert.equal(result.status, 200, what);
      assert.deepEqual(errorCodes(result), [code], `${what}: ${JSON.stringify(result)}`);
    }

    // A cursor of another order, and a DateTime without an offset.
    const page = await query<ChannelsData>(exporter, CHANNELS, {
      orderBy: 'LIFETIME_DESC',
      first: 1,
    });
    const other = await graphql(exporter, CHANNELS, {
      orderBy: 'FLAP_COUNT_DESC',
      after: page.channels.pageInfo.endCursor,
    });
    assert.deepEqual(errorCodes(other), ['BAD_USER_INPUT'], JSON.stringify(other));
    const literal = await graphql(
      exporter,
      `{ channel(channelPoint: "${c}", node: "${nodeA}") { uptime(from: "2024-05-01T12:00:00") { uptimeSeconds } } }`,
    );
    assert.deepEqual(errorCodes(literal), ['BAD_USER_INPUT'], JSON.stringify(literal));
  });

  // Bullet 5: a query deeper than --graphql.max-depth=5 is refused; one at depth 5 is not.
  it('refuses a query deeper than the depth limit', async () => {
    const deep = `query ($pk: String!, $n: String) {
      peer(pubkey: $pk, node: $n) { channels { peer { channels { peer { pubkey } } } } }
    }`;
    const refused = await graphql(exporter, deep, { pk: q, n: nodeA });
    assert.equal(refused.data ?? null, null);
    assert.deepEqual(errorCodes(refused), ['GRAPHQL_VALIDATION_FAILED'], JSON.stringify(refused));
    assert.match(refused.errors?.[0]?.message ?? '', /depth/i);

    const atLimit = `query ($pk: String!, $n: String) {
      peer(pubkey: $pk, node: $n) { channels { peer { channels { channelPoint } } } }
    }`;
    const answered = await query<{ peer: { channels: { peer: { channels: unknown[] } }[] } }>(
      exporter,
      atLimit,
      { pk: q, n: nodeA },
    );
    assert.deepEqual(answered.peer.channels[0]?.peer.channels, [{ channelPoint: d }]);
  });

  // Bullet 5: a query over the cost limit (--graphql.max-cost=5000) is refused; a cheap one is not.
  it('refuses a query over the cost limit', async () => {
    const costly = `{ channels(first: 1000) {
      nodes { channelPoint lifetimeSeconds uptimeSeconds uptimeRatio peer { pubkey online flapCount lastFlap } }
    } }`;
    const refused = await graphql(exporter, costly);
    assert.equal(refused.data ?? null, null);
    assert.deepEqual(errorCodes(refused), ['GRAPHQL_VALIDATION_FAILED'], JSON.stringify(refused));
    assert.match(refused.errors?.[0]?.message ?? '', /cost/i);
    const cheap = await query<{ channels: { totalCount: number } }>(
      exporter,
      '{ channels(first: 10) { totalCount nodes { channelPoint } } }',
    );
    assert.equal(cheap.channels.totalCount, 7);
  });
});
