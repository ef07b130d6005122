import { HistoryStats } from '../../src/history/history-stats.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import { LndListings } from '../../src/ingest/lnd-listings.js';
import { Exposition, type ExpositionOptions } from '../../src/metrics/exposition.js';
import { ConnectionState } from '../../src/nats/connection-state.js';
import { FlushStats } from '../../src/persistence/flush-stats.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { TestClock } from '../support/test-clock.js';

export const HOUR = 3_600_000;
/** 2024-01-01T00:00:00Z */
export const T0 = Date.UTC(2024, 0, 1);

export interface TestSources {
  readonly clock: TestClock;
  readonly stores: NodeStores;
  readonly ingest: IngestStats;
  readonly flush: FlushStats;
  readonly connection: ConnectionState;
  /** History stats (off until a test sets `enabled`); undefined with `history: false`. */
  readonly history: HistoryStats | undefined;
  /** The store's state: up until a test says otherwise. */
  readonly store: { up: boolean };
  /** lnd's own figures: empty until a test lists a node (see listLnd). */
  readonly lnd: LndListings;
  readonly exposition: Exposition;
}

export interface TestSourceOptions extends ExpositionOptions {
  /** Give the exposition history stats (the default), or none. */
  readonly history?: boolean;
}

/** Real stores (no persisted records) behind a real Exposition, on a test clock. */
export function makeSources(options: TestSourceOptions = {}): TestSources {
  const clock = new TestClock(T0);
  const stores = new NodeStores((node) => new ChannelEventStore({ node, clock }));
  const ingest = new IngestStats();
  const flush = new FlushStats();
  const connection = new ConnectionState();
  const { history: withHistory = true, ...expositionOptions } = options;
  const history = withHistory ? new HistoryStats() : undefined;
  const store = { up: true };
  // Listed only through listLnd: nothing is ever asked.
  const lnd = new LndListings({ clock, listChannels: () => Promise.resolve(undefined) });
  lnd.stop();
  const exposition = new Exposition(
    { stores, ingest, flush, connection, clock, history, store, lnd },
    expositionOptions,
  );
  return { clock, stores, ingest, flush, connection, history, store, lnd, exposition };
}

/** lnd's ListChannels of a node, with its own figures (seconds), received now. */
export function listLnd(
  sources: TestSources,
  node: string,
  channels: { pubkey: string; channelPoint: string; uptime?: number; lifetime?: number }[],
): void {
  const request = sources.lnd.begin(node);
  sources.lnd.end(
    request,
    channels.map((c) => ({
      pubkey: c.pubkey,
      channelPoint: c.channelPoint,
      ...(c.uptime === undefined ? {} : { uptimeSeconds: c.uptime }),
      ...(c.lifetime === undefined ? {} : { lifetimeSeconds: c.lifetime }),
    })),
    sources.clock.now(),
  );
}

export function pubkey(i: number): string {
  return `02${i.toString(16).padStart(64, '0')}`;
}

export function channelPoint(i: number): string {
  return `${i.toString(16).padStart(64, '0')}:${i % 4}`;
}

/**
 * Opens `channels` channels on `node`, spread over `peers` peers, every other
 * peer online since the opening; the clock then moves on by an hour.
 */
export function populate(
  sources: TestSources,
  node: string,
  channels: number,
  peers: number,
): void {
  const store = sources.stores.getOrCreate(node);
  const opened = sources.clock.now();
  for (let i = 0; i < channels; i++) store.openChannel(pubkey(i % peers), channelPoint(i), opened);
  for (let p = 0; p < peers; p += 2) store.peerEvent(pubkey(p), true, opened);
  sources.clock.set(opened + HOUR);
}
