/**
 * What bench/history.bench.ts and its memory child share: the memory
 * benchmark's node (bench/memory/simulated-node.ts) in NodeStores configured
 * as src/app.ts configures them with --history, a HistoryKeeper over a real
 * Keyv store (SQLite or Redis) as src/app.ts builds it, and a loop of peer
 * events at 5,000 simulated events per second.
 */
import { pino } from 'pino';
import { parseStoreUrl } from '../../src/config/store-url.js';
import { HistoryKeeper } from '../../src/history/history-keeper.js';
import { keyvHistoryKv } from '../../src/history/history-kv.js';
import { HistoryStats } from '../../src/history/history-stats.js';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import {
  openFlapRecordStore,
  type KeyvFlapRecordStore,
} from '../../src/persistence/keyv-flap-record-store.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { seededRandom } from '../../test/support/seeded-random.js';
import {
  BenchClock,
  DAY,
  DAYS,
  MINUTE,
  openChannels,
  playHistory,
  simulatedPeers,
  T0,
  type SimPeer,
} from '../memory/simulated-node.js';

export const NODE = 'bench';
/** --history.retention's default (no compaction within the 30 days simulated). */
export const RETENTION_MS = 90 * DAY;
/** --history.pending-limit's default. */
const PENDING_LIMIT = 1_000_000;
/** Simulated time per live event: 5,000 events per second. */
export const EVENT_MS = 0.2;

export interface BenchNode {
  readonly clock: BenchClock;
  readonly peers: SimPeer[];
  readonly channels: number;
  readonly received: number;
  readonly random: () => number;
}

/** Node stores as src/app.ts makes them with history on (journal until restored). */
export function historyStores(
  clock: BenchClock,
  stats: HistoryStats,
  bootstrapPeers: BootstrapPeers,
): NodeStores {
  return new NodeStores((node) => {
    const store = new ChannelEventStore({
      node,
      clock,
      bootstrapConnectivity: (pubkey) => bootstrapPeers.connectivity(node, pubkey),
      retentionMs: RETENTION_MS,
      trackChanges: true,
    });
    if (!stats.restored) store.beginJournal(PENDING_LIMIT);
    return store;
  });
}

/** The memory benchmark's store (same seed, same draws), at T0 + 30 days. */
export function buildNode(store: ChannelEventStore, clock: BenchClock): BenchNode {
  const random = seededRandom(42);
  const { peers } = simulatedPeers(random);
  const channels = openChannels(store, peers, random);
  clock.time = T0 + 10 * MINUTE;
  const received = playHistory(store, peers, random);
  clock.time = T0 + DAYS * DAY;
  return { clock, peers, channels, received, random };
}

export interface Kept {
  readonly records: KeyvFlapRecordStore;
  readonly keeper: HistoryKeeper;
  readonly stats: HistoryStats;
}

/** Opens the Keyv store at url (private namespace) and a keeper over it, as src/app.ts does. */
export async function keeperOver(
  url: string,
  namespace: string,
  stores: NodeStores,
  clock: BenchClock,
  stats: HistoryStats,
  bootstrapPeers: BootstrapPeers,
): Promise<Kept> {
  const records = await openFlapRecordStore(parseStoreUrl(url), { namespace });
  stats.enabled = true;
  const keeper = new HistoryKeeper({
    stores,
    kv: keyvHistoryKv(records),
    stats,
    logger: pino({ level: 'silent' }),
    clock,
    bootstrapPeers,
    intervalMs: 60_000,
  });
  return { records, keeper, stats };
}

/** Committed events over every peer of the store. */
export function committedEvents(store: ChannelEventStore): number {
  let n = 0;
  for (const peer of store.peers()) n += peer.log.committedCount;
  return n;
}

/**
 * Applies `count` live peer events (random peers, each flapping), advancing
 * the clock by EVENT_MS per event, synchronously.
 */
export function applyEvents(store: ChannelEventStore, node: BenchNode, count: number): void {
  const { peers, random, clock } = node;
  for (let i = 0; i < count; i++) {
    const peer = peers[Math.floor(random() * peers.length)] as SimPeer;
    peer.online = !peer.online;
    clock.time += EVENT_MS;
    store.peerEvent(peer.pubkey, peer.online, clock.time);
  }
}
