import { pino } from 'pino';
import type { HistoryKv } from '../../src/history/history-kv.js';
import { HistoryKeeper, type JetStreamPosition } from '../../src/history/history-keeper.js';
import { HistoryStats } from '../../src/history/history-stats.js';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import type { TestClock } from '../support/test-clock.js';

/**
 * A Keyv-like map for unit tests of the history layer (the real backends are
 * tested in history-backends.test.ts). Values go through JSON as Keyv's do;
 * `failAfter` makes the n-th and later writes fail, as a store that goes down
 * (or a crash) in the middle of a snapshot.
 */
export class MemoryKv implements HistoryKv {
  readonly data = new Map<string, string>();
  writes = 0;
  failAfter = Infinity;
  down = false;

  get(key: string): Promise<unknown> {
    if (this.down) return Promise.reject(new Error('store down'));
    const text = this.data.get(key);
    return Promise.resolve(text === undefined ? undefined : (JSON.parse(text) as unknown));
  }

  /** In two batches, the second first: callers must place values by index, not by arrival. */
  async getEach(
    keys: readonly string[],
    each: (from: number, values: unknown[]) => void,
  ): Promise<void> {
    const half = Math.ceil(keys.length / 2);
    const second = await Promise.all(keys.slice(half).map((key) => this.get(key)));
    if (second.length > 0) each(half, second);
    const first = await Promise.all(keys.slice(0, half).map((key) => this.get(key)));
    if (first.length > 0) each(0, first);
  }

  setMany(entries: readonly { key: string; value: unknown }[]): Promise<void> {
    if (this.down) return Promise.reject(new Error('store down'));
    this.writes += 1;
    if (this.writes >= this.failAfter) return Promise.reject(new Error('write failed'));
    for (const { key, value } of entries) this.data.set(key, JSON.stringify(value));
    return Promise.resolve();
  }

  deleteMany(keys: readonly string[]): Promise<void> {
    if (this.down) return Promise.reject(new Error('store down'));
    for (const key of keys) this.data.delete(key);
    return Promise.resolve();
  }

  /** A copy of the data as it is now (what a crash right now leaves). */
  copy(): MemoryKv {
    const copy = new MemoryKv();
    for (const [key, value] of this.data) copy.data.set(key, value);
    return copy;
  }
}

export interface KeptStores {
  readonly stores: NodeStores;
  readonly keeper: HistoryKeeper;
  readonly stats: HistoryStats;
  readonly bootstrapPeers: BootstrapPeers;
}

/** Node stores kept by a HistoryKeeper over kv, on the test's clock. */
export function keptStores(
  kv: HistoryKv,
  clock: TestClock,
  options: {
    retentionMs?: number;
    jetstream?: JetStreamPosition;
    bucketCount?: number;
  } = {},
): KeptStores {
  const stats = new HistoryStats();
  stats.enabled = true;
  const bootstrapPeers = new BootstrapPeers();
  const stores = new NodeStores(
    (node) =>
      new ChannelEventStore({
        node,
        clock,
        bootstrapConnectivity: (pubkey) => bootstrapPeers.connectivity(node, pubkey),
        retentionMs: options.retentionMs,
        trackChanges: true,
      }),
  );
  const keeper = new HistoryKeeper({
    stores,
    kv,
    stats,
    logger: pino({ level: 'silent' }),
    clock,
    bootstrapPeers,
    intervalMs: 60_000,
    jetstream: options.jetstream,
    bucketCount: options.bucketCount,
  });
  return { stores, keeper, stats, bootstrapPeers };
}

/**
 * Every figure a user can see of a store at the clock's now, as plain data:
 * two stores with equal pictures answer every query alike.
 */
export function pictureOf(
  store: ChannelEventStore,
  windows: readonly [number, number][] = [],
): unknown {
  const peers = [...store.peers()]
    .map((peer) => ({
      pubkey: peer.pubkey,
      online: peer.online,
      flapCount: peer.flapCount,
      lastFlap: peer.lastFlap,
      connectivity: store.connectivity(peer.pubkey),
      committed: peer.log.committed().length,
      staged: peer.log.staged,
      channels: [...peer.channels()].map((c) => c.channelPoint).sort(),
    }))
    .sort((a, b) => a.pubkey.localeCompare(b.pubkey));
  const channels = [...store.channels()]
    .map((channel) => ({
      channelPoint: channel.channelPoint,
      peer: channel.peer.pubkey,
      openedAt: channel.openedAt,
      info: store.channelInfo(channel),
      periods: store.onlinePeriods(channel),
      windows: windows.map(([from, to]) => store.channelUptime(channel, from, to)),
    }))
    .sort((a, b) => a.channelPoint.localeCompare(b.channelPoint));
  return { peers, channels, peerCount: store.peerCount, channelCount: store.channelCount };
}
