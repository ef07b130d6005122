/**
 * The data every GraphQL server of the benchmark serves: one node's store with
 * 10,000 channels over 2,000 peers and two weeks of peer history, built
 * through the store's API (deterministic), and the same channels as plain
 * objects in a Map for the baselines.
 */
import { systemScheduler, type Scheduler } from '../../src/clock.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { seededRandom } from '../../test/support/seeded-random.js';

export const NODE = 'bench';
export const CHANNELS = 10_000;
export const PEERS = 2_000;
const DAYS = 14;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.parse('2024-01-01T00:00:00Z');
/** The fixed instant every server computes lifetimes and uptimes at. */
export const NOW = T0 + DAYS * DAY;

const CLASSES = [
  { share: 0.5, onlineMs: 24 * HOUR, offlineMs: 15 * MINUTE },
  { share: 0.35, onlineMs: 4 * HOUR, offlineMs: 20 * MINUTE },
  { share: 0.15, onlineMs: HOUR, offlineMs: 5 * MINUTE },
];

/** The fixed instant, with the system's timers. */
export const fixedClock: Scheduler = { ...systemScheduler, now: () => NOW };

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

export function pubkeyOf(p: number): string {
  return '02' + hex(p, 8) + 'ab'.repeat(28);
}

export function channelPointOf(c: number): string {
  return `${hex(c, 8)}${'cd'.repeat(28)}:${c % 3}`;
}

/**
 * The store, with its channels opened over the first day and the peers
 * flapping since (built at once: a promise for the callers that await it).
 */
export function buildStores(): Promise<NodeStores> {
  const random = seededRandom(7);
  const exponential = (mean: number): number => -mean * Math.log(1 - random());
  const stores = new NodeStores(
    (node) =>
      new ChannelEventStore({
        node,
        clock: fixedClock,
      }),
  );
  const store = stores.getOrCreate(NODE);
  const peers = Array.from({ length: PEERS }, (_, p) => {
    const u = random();
    const cls = u < 0.5 ? CLASSES[0] : u < 0.85 ? CLASSES[1] : CLASSES[2];
    if (cls === undefined) throw new Error('no class');
    const online = random() < 0.9;
    return { pubkey: pubkeyOf(p), cls, online, next: T0 + exponential(DAY) };
  });
  for (const peer of peers) store.peerEvent(peer.pubkey, peer.online, T0);
  for (let c = 0; c < CHANNELS; c++) {
    const peer = peers[c < PEERS ? c : Math.floor(random() * PEERS)];
    if (peer !== undefined) store.openChannel(peer.pubkey, channelPointOf(c), T0 + random() * DAY);
  }
  for (const peer of peers) {
    while (peer.next < NOW) {
      peer.online = !peer.online;
      store.peerEvent(peer.pubkey, peer.online, peer.next);
      peer.next += Math.max(1, exponential(peer.online ? peer.cls.onlineMs : peer.cls.offlineMs));
    }
  }
  return Promise.resolve(stores);
}

/** A Peer of the baselines: what the schema's Peer fields read. */
export interface PlainPeer {
  readonly node: string;
  readonly pubkey: string;
  readonly tracked: boolean;
  readonly online: boolean;
  readonly flapCount: number;
  readonly lastFlap: string | null;
  readonly channels: PlainChannel[];
}

/** A Channel of the baselines, its figures computed once at NOW. */
export interface PlainChannel {
  readonly node: string;
  readonly channelPoint: string;
  readonly peer: PlainPeer;
  readonly openedAt: string;
  readonly lifetimeSeconds: number;
  readonly uptimeSeconds: number;
  readonly uptimeRatio: number | null;
}

/**
 * The store's channels as plain objects in a Map keyed by channel point,
 * inserted in the default page order (uptime ratio ascending, then channel
 * point), so that a baseline can list a page by taking the first entries.
 */
export function plainChannels(stores: NodeStores): Map<string, PlainChannel> {
  const store = stores.get(NODE);
  if (store === undefined) throw new Error('no store');
  const peers = new Map<string, PlainPeer>();
  const list: PlainChannel[] = [];
  for (const view of store.channels()) {
    const p = view.peer;
    let peer = peers.get(p.pubkey);
    if (peer === undefined) {
      peer = {
        node: NODE,
        pubkey: p.pubkey,
        tracked: true,
        online: p.online,
        flapCount: p.flapCount,
        lastFlap: p.lastFlap === undefined ? null : new Date(p.lastFlap).toISOString(),
        channels: [],
      };
      peers.set(p.pubkey, peer);
    }
    const info = store.channelInfo(view, NOW);
    const channel: PlainChannel = {
      node: NODE,
      channelPoint: view.channelPoint,
      peer,
      openedAt: new Date(view.openedAt).toISOString(),
      lifetimeSeconds: info.lifetime / 1000,
      uptimeSeconds: info.uptime / 1000,
      uptimeRatio: info.lifetime > 0 ? info.uptime / info.lifetime : null,
    };
    peer.channels.push(channel);
    list.push(channel);
  }
  const rank = (c: PlainChannel): number => c.uptimeRatio ?? Number.POSITIVE_INFINITY;
  list.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.channelPoint < b.channelPoint ? -1 : a.channelPoint > b.channelPoint ? 1 : 0),
  );
  return new Map(list.map((c) => [c.channelPoint, c]));
}

/** The two benchmarked operations. */
export const CHANNEL_QUERY = `query Channel($channelPoint: String!) {
  channel(channelPoint: $channelPoint) {
    channelPoint uptimeRatio lifetimeSeconds uptimeSeconds
    peer { pubkey flapCount online }
  }
}`;

export const PAGE_QUERY = `query Page {
  channels(first: 100) {
    nodes {
      channelPoint uptimeRatio lifetimeSeconds uptimeSeconds
      peer { pubkey flapCount online }
    }
  }
}`;

export const CHANNEL_BODY = JSON.stringify({
  query: CHANNEL_QUERY,
  variables: { channelPoint: channelPointOf(4_242) },
});

export const PAGE_BODY = JSON.stringify({ query: PAGE_QUERY });
