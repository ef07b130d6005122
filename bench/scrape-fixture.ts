/**
 * Stores of a given size with a realistic history, for the scrape benchmark:
 * `channels` channels, 5 per peer, over as many nodes as there are 25,000
 * channels; each peer with a week (or `historyDays`) of connectivity changes
 * in the proportions of the demo's peer profiles (mostly stable peers, some
 * flaky, a few flapping fast enough for the rate limiter to matter), its
 * channels opened at random times in that history. Deterministic.
 */
import { systemScheduler } from '../src/clock.js';
import { ChannelEventStore } from '../src/store/channel-event-store.js';
import { NodeStores } from '../src/store/node-stores.js';
import { Rng } from '../scripts/demo/rng.js';

export const CHANNELS_PER_PEER = 5;
const CHANNELS_PER_NODE = 25_000;
const DAY = 86_400_000;
export const DEFAULT_HISTORY_DAYS = 7;

/** Mean spells online and offline (ms) and share of the peers, as scripts/demo's profiles. */
const PROFILES = [
  { share: 0.45, online: 36 * 3_600_000, offline: 4 * 60_000 },
  { share: 0.25, online: 3 * 3_600_000, offline: 20 * 60_000 },
  { share: 0.15, online: 40 * 60_000, offline: 6 * 3_600_000 },
  { share: 0.1, online: 60_000, offline: 30_000 },
  { share: 0.05, online: 4_000, offline: 2_000 },
] as const;
/** The fastest flappers stop after this many changes: the rate limiter keeps few of them anyway. */
const MAX_CHANGES = 500;

export interface Fixture {
  readonly stores: NodeStores;
  readonly channels: number;
  readonly peers: number;
  readonly nodes: number;
  /** Connectivity changes applied. */
  readonly events: number;
}

interface Change {
  readonly time: number;
  readonly kind: 'open' | 'peer';
  readonly online: boolean;
  readonly channel: number;
}

/** How long each lnd restart of `gapsPerNode` keeps a node unobserved (before the settle time). */
const GAP_MS = 10 * 60_000;

/**
 * With `gapsPerNode`, every node's lnd went down that many times, evenly
 * spread over the history (GAP_MS each, then the 2-minute settle): its
 * peers' logs and lifetimes count observed time only.
 */
export function buildStores(
  channels: number,
  seed = 6,
  historyDays = DEFAULT_HISTORY_DAYS,
  gapsPerNode = 0,
): Promise<Fixture> {
  const rng = new Rng(seed);
  const stores = new NodeStores(
    (node) =>
      new ChannelEventStore({
        node,
        clock: systemScheduler,
      }),
  );
  const now = Date.now();
  const start = now - historyDays * DAY;
  const peers = Math.ceil(channels / CHANNELS_PER_PEER);
  const nodes = Math.max(1, Math.ceil(channels / CHANNELS_PER_NODE));
  // The gaps first: the peers' events then fall inside or outside them as they come.
  for (let n = 1; n <= nodes && gapsPerNode > 0; n++) {
    const store = stores.getOrCreate(`node${n}`);
    for (let g = 0; g < gapsPerNode; g++) {
      const down = start + ((g + 0.5) * (now - start)) / gapsPerNode;
      store.status(false, down);
      store.status(true, down + GAP_MS);
    }
  }
  let events = 0;
  let channel = 0;
  for (let p = 0; p < peers; p++) {
    const store = stores.getOrCreate(`node${(p % nodes) + 1}`);
    const pubkey = `0${rng.int(2, 3)}${rng.hex(32)}`;
    const profile = pick(rng);
    const changes: Change[] = [];
    // Connected before its first channel, then on and off until now.
    let time = start + rng.between(0, DAY);
    let online = true;
    for (let n = 0; time < now && n < MAX_CHANGES; n++) {
      changes.push({ time, kind: 'peer', online, channel: 0 });
      time += Math.max(1_000, rng.exponential(online ? profile.online : profile.offline));
      online = !online;
    }
    const first = (changes[0]?.time ?? start) + 1_000;
    for (let c = 0; c < CHANNELS_PER_PEER && channel < channels; c++) {
      changes.push({
        time: c === 0 ? first : rng.between(first, now - 60_000),
        kind: 'open',
        online: false,
        channel: channel++,
      });
    }
    changes.sort((a, b) => a.time - b.time);
    for (const change of changes) {
      if (change.kind === 'open') {
        store.openChannel(pubkey, channelPoint(rng, change.channel), change.time, 'event');
      } else {
        store.peerEvent(pubkey, change.online, change.time);
        events += 1;
      }
    }
  }
  // Built at once: a promise for the callers that await it.
  return Promise.resolve({ stores, channels, peers, nodes, events });
}

function pick(rng: Rng): (typeof PROFILES)[number] {
  let x = rng.next();
  for (const profile of PROFILES) {
    if (x < profile.share) return profile;
    x -= profile.share;
  }
  return PROFILES[0];
}

function channelPoint(rng: Rng, index: number): string {
  return `${rng.hex(32)}:${index % 3}`;
}
