import { type Server, createServer } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { REJECT_REASONS } from '../../src/lnd/reject-reason.js';

/**
 * A /metrics endpoint shaped as SPEC section 5 describes, for a small Lightning scene,
 * so that a real Prometheus can run the dashboards and rules before (and besides) the
 * end-to-end run against the real exporter. Counters grow with the clock, so rates are
 * not zero.
 *
 * Node alice: peer 02…01 online with two channels, 02…02 offline for two days with one
 * channel of low uptime (and a bad last week), 02…03 flapping once a second with one
 * channel. Node bob: peer 02…01 online with one channel, 02…04 offline for three hours
 * with no channel left. Both nodes are observed now; alice was unobserved for 7 minutes
 * before (an lnd restart and its settle time), bob never.
 */

const DAY = 86_400;
const pubkey = (n: number): string => '02' + n.toString(16).padStart(64, '0');
const channelPoint = (n: number, index: number): string =>
  `${n.toString(16).padStart(64, 'c')}:${index}`;

interface FixturePeer {
  node: string;
  peer: string;
  online: boolean;
  /** Seconds before now of the last flap. */
  lastFlapAgo: number;
  flapCount: number;
  /** Flaps recorded per second since the fixture started. */
  flapsPerSecond: number;
  /** Ratios over the lifetime and over the default windows (clamped to the lifetime). */
  channels: { point: string; lifetime: number; ratio: number; windows: WindowRatios }[];
}

type WindowRatios = Readonly<Record<'1d' | '7d' | '30d', number>>;

const PEERS: FixturePeer[] = [
  {
    node: 'alice',
    peer: pubkey(1),
    online: true,
    lastFlapAgo: 5 * DAY,
    flapCount: 3,
    flapsPerSecond: 0,
    channels: [
      {
        point: channelPoint(1, 0),
        lifetime: 40 * DAY,
        ratio: 0.995,
        windows: { '1d': 1, '7d': 0.99, '30d': 0.993 },
      },
      {
        point: channelPoint(1, 1),
        lifetime: 12 * DAY,
        ratio: 0.97,
        windows: { '1d': 1, '7d': 0.99, '30d': 0.97 },
      },
    ],
  },
  {
    node: 'alice',
    peer: pubkey(2),
    online: false,
    lastFlapAgo: 2 * DAY,
    flapCount: 41,
    flapsPerSecond: 0,
    channels: [
      {
        point: channelPoint(2, 0),
        lifetime: 30 * DAY,
        ratio: 0.52,
        windows: { '1d': 0, '7d': 5 / 7, '30d': 0.52 },
      },
    ],
  },
  {
    node: 'alice',
    peer: pubkey(3),
    online: true,
    lastFlapAgo: 1,
    flapCount: 380,
    flapsPerSecond: 1,
    channels: [
      {
        point: channelPoint(3, 0),
        lifetime: 9 * DAY,
        ratio: 0.88,
        windows: { '1d': 0.85, '7d': 0.87, '30d': 0.88 },
      },
    ],
  },
  {
    node: 'bob',
    peer: pubkey(1),
    online: true,
    lastFlapAgo: 3 * DAY,
    flapCount: 1,
    flapsPerSecond: 0,
    channels: [
      {
        point: channelPoint(4, 0),
        lifetime: 3 * DAY,
        ratio: 1,
        windows: { '1d': 1, '7d': 1, '30d': 1 },
      },
    ],
  },
  {
    node: 'bob',
    peer: pubkey(4),
    online: false,
    lastFlapAgo: 3 * 3600,
    flapCount: 7,
    flapsPerSecond: 0,
    channels: [],
  },
];

const EVENTS: { node: string; kind: string; type: string; perSecond: number }[] = [
  { node: 'alice', kind: 'channel', type: 'OPEN_CHANNEL', perSecond: 0.01 },
  { node: 'alice', kind: 'channel', type: 'ACTIVE_CHANNEL', perSecond: 0.02 },
  { node: 'alice', kind: 'peer', type: 'PEER_ONLINE', perSecond: 0.5 },
  { node: 'alice', kind: 'peer', type: 'PEER_OFFLINE', perSecond: 0.5 },
  { node: 'bob', kind: 'peer', type: 'PEER_ONLINE', perSecond: 1 },
];

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return `{${body}}`;
}

/** The chanfitness families at `now` (unix seconds) of a fixture started at `started`. */
export function fixtureExposition(now: number, started: number): string {
  const elapsed = now - started;
  const lines: string[] = [];
  const family = (name: string, type: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${name} (fixture)`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples)
      lines.push(`${name}${Object.keys(l).length ? labels(l) : ''} ${v}`);
  };
  const channels = PEERS.flatMap((p) =>
    p.channels.map((c) => ({ ...c, l: { node: p.node, channel_point: c.point, peer: p.peer } })),
  );
  family(
    'chanfitness_channel_uptime_ratio',
    'gauge',
    channels.map((c) => [c.l, c.ratio]),
  );
  family(
    'chanfitness_channel_lifetime_seconds',
    'gauge',
    channels.map((c) => [c.l, c.lifetime + elapsed]),
  );
  family(
    'chanfitness_channel_uptime_seconds',
    'gauge',
    channels.map((c) => [c.l, c.lifetime * c.ratio]),
  );
  family(
    'chanfitness_channel_window_uptime_ratio',
    'gauge',
    channels.flatMap((c) =>
      Object.entries(c.windows).map(([window, ratio]): [Record<string, string>, number] => [
        { ...c.l, window },
        ratio,
      ]),
    ),
  );
  const peer = (p: FixturePeer) => ({ node: p.node, peer: p.peer });
  family(
    'chanfitness_peer_flap_count',
    'gauge',
    PEERS.map((p) => [peer(p), p.flapCount]),
  );
  family(
    'chanfitness_peer_flaps_total',
    'counter',
    PEERS.map((p) => [peer(p), 1 + Math.floor(p.flapsPerSecond * elapsed)]),
  );
  family(
    'chanfitness_peer_last_flap_timestamp_seconds',
    'gauge',
    PEERS.map((p) => [
      peer(p),
      p.flapsPerSecond > 0 ? now - p.lastFlapAgo : started - p.lastFlapAgo,
    ]),
  );
  family(
    'chanfitness_peer_online',
    'gauge',
    PEERS.map((p) => [peer(p), p.online ? 1 : 0]),
  );
  family(
    'chanfitness_peer_channels',
    'gauge',
    PEERS.map((p) => [peer(p), p.channels.length]),
  );
  // lnd's own view (ListChannels), listed 5 minutes ago: alice's lnd restarted 6 hours ago,
  // so its figures count from there; bob's has run as long as the exporter has watched it.
  const lndLifetime = (node: string, lifetime: number) => (node === 'alice' ? 6 * 3600 : lifetime);
  family(
    'chanfitness_lnd_channel_uptime_seconds',
    'gauge',
    channels.map((c) => [c.l, Math.floor(lndLifetime(c.l.node, c.lifetime) * c.ratio)]),
  );
  family(
    'chanfitness_lnd_channel_lifetime_seconds',
    'gauge',
    channels.map((c) => [c.l, lndLifetime(c.l.node, c.lifetime)]),
  );
  family('chanfitness_lnd_listing_timestamp_seconds', 'gauge', [
    [{ node: 'alice' }, now - 300],
    [{ node: 'bob' }, now - 300],
  ]);
  family('chanfitness_node_observed', 'gauge', [
    [{ node: 'alice' }, 1],
    [{ node: 'bob' }, 1],
  ]);
  family('chanfitness_node_unobserved_seconds_total', 'counter', [
    [{ node: 'alice' }, 420],
    [{ node: 'bob' }, 0],
  ]);
  family(
    'chanfitness_events_total',
    'counter',
    EVENTS.map((e) => [
      { node: e.node, kind: e.kind, type: e.type },
      100 + Math.floor(e.perSecond * elapsed),
    ]),
  );
  family(
    'chanfitness_events_rejected_total',
    'counter',
    REJECT_REASONS.map((reason) => [{ reason }, reason === 'invalid_json' ? 2 : 0]),
  );
  family('chanfitness_events_reordered_total', 'counter', [
    [{ node: 'alice' }, 4],
    [{ node: 'bob' }, 0],
  ]);
  family('chanfitness_flap_flushes_total', 'counter', [
    [{ result: 'success' }, 12],
    [{ result: 'error' }, 1],
  ]);
  family('chanfitness_last_flap_flush_timestamp_seconds', 'gauge', [[{}, now - 600]]);
  // History on: restored at the start in 1.2 s, a snapshot every 2 s (the last 1.5 s ago),
  // one failure long ago, nothing ignored, nothing pending.
  family('chanfitness_history_snapshot_writes_total', 'counter', [
    [{ result: 'success' }, 30 + Math.floor(elapsed / 2)],
    [{ result: 'error' }, 1],
  ]);
  family('chanfitness_history_snapshot_last_write_bytes', 'gauge', [[{}, 48_213]]);
  family('chanfitness_history_snapshot_last_write_duration_seconds', 'gauge', [[{}, 0.084]]);
  family('chanfitness_history_snapshot_last_write_longest_step_seconds', 'gauge', [[{}, 0.006]]);
  family('chanfitness_history_last_snapshot_timestamp_seconds', 'gauge', [[{}, now - 1.5]]);
  family('chanfitness_history_snapshot_age_seconds', 'gauge', [[{}, 1.5]]);
  family('chanfitness_history_restore_duration_seconds', 'gauge', [[{}, 1.2]]);
  family('chanfitness_history_restored', 'gauge', [[{}, 1]]);
  family('chanfitness_history_restore_failures_total', 'counter', [[{}, 0]]);
  family('chanfitness_history_rejected_total', 'counter', [
    [{ reason: 'format' }, 0],
    [{ reason: 'corrupt' }, 0],
  ]);
  family('chanfitness_history_pending_events', 'gauge', [[{}, 0]]);
  family('chanfitness_history_pending_overflow_total', 'counter', [[{}, 0]]);
  family('chanfitness_history_compacted_events_total', 'counter', [[{}, 250]]);
  family('chanfitness_nats_connected', 'gauge', [[{}, 1]]);
  return lines.join('\n') + '\n';
}

export interface FixtureExporter {
  /** host:port, as a scrape target. */
  readonly address: string;
  close(): Promise<void>;
}

/** Serves the fixture, plus this process's real prom-client default metrics, on loopback. */
export async function startFixtureExporter(): Promise<FixtureExporter> {
  const started = Date.now() / 1000;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void registry.metrics().then((defaults) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(fixtureExposition(Date.now() / 1000, started) + defaults);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    address: `127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
      }),
  };
}
