import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../clock.js';
import type { NodeStores } from '../store/node-stores.js';
import { ChannelCollector } from './channel-collector.js';
import { ChunkedTextWriter, DEFAULT_CHUNK_CHARS } from './chunked-text-writer.js';
import { registerHistoryCollector, type HistoryFigures } from './history-collector.js';
import { registerIngestCollector, type IngestCounts } from './ingest-collector.js';
import { LndCollector, registerLndCollector, type LndListingsView } from './lnd-collector.js';
import { DEFAULT_METRIC_WINDOWS, type MetricWindow } from './metric-windows.js';
import { registerNatsCollector, type NatsConnectionView } from './nats-collector.js';
import { registerNodeCollector } from './node-collector.js';
import { PeerCollector } from './peer-collector.js';
import {
  registerPersistenceCollector,
  type FlushCounts,
  type StoreState,
} from './persistence-collector.js';
import { StringSink, type TextSink } from './text-sink.js';

/**
 * The live state the metrics are computed from at scrape time: the stores,
 * and the adapters' figures through the interfaces their collectors declare
 * (IngestStats, FlushStats, ConnectionState and HistoryStats satisfy them).
 */
export interface ExpositionSources {
  readonly stores: NodeStores;
  readonly ingest: IngestCounts;
  readonly flush: FlushCounts;
  readonly connection: NatsConnectionView;
  /** The stores' clock: "now" of a scrape, for channel lifetimes and the snapshot age. */
  readonly clock: Clock;
  /**
   * History snapshots and their restore. Its families are registered when given; they
   * have samples only while `enabled` is true.
   */
  readonly history?: HistoryFigures;
  /** Whether the persistent store answers (chanfitness_store_up); absent without one. */
  readonly store?: StoreState;
  /** lnd's own figures of the channels (chanfitness_lnd_…); without it the families are empty. */
  readonly lnd?: LndListingsView;
}

export interface ExpositionOptions {
  /** Characters of text per chunk handed to the sink; about 64 KiB by default. */
  readonly chunkChars?: number;
  /**
   * Windows of chanfitness_channel_window_uptime_ratio (--metrics.windows);
   * 1d, 7d and 30d by default. Empty: no such family (a benchmark's baseline).
   */
  readonly windows?: readonly MetricWindow[];
}

/**
 * The whole /metrics exposition. The per-channel and per-peer families, which
 * grow with the node, are streamed as text in chunks with yields to the event
 * loop; the small families (ingest, persistence, history, NATS) and prom-client's
 * default process and Node.js metrics come from a prom-client registry of our
 * own, rendered at the start of each scrape.
 */
export class Exposition {
  /** Holds the small families and the default metrics (never the global registry). */
  readonly registry = new Registry();
  private readonly channels: ChannelCollector;
  private readonly peers: PeerCollector;
  private readonly lnd: LndCollector;
  private readonly chunkChars: number;

  constructor(
    private readonly sources: ExpositionSources,
    options: ExpositionOptions = {},
  ) {
    this.chunkChars = options.chunkChars ?? DEFAULT_CHUNK_CHARS;
    this.channels = new ChannelCollector(sources.stores, options.windows ?? DEFAULT_METRIC_WINDOWS);
    this.peers = new PeerCollector(sources.stores);
    this.lnd = new LndCollector(sources.lnd);
    // First in the registry: its text follows the streamed lnd families.
    registerLndCollector(this.registry, sources.lnd);
    registerIngestCollector(this.registry, sources.ingest, sources.stores);
    registerPersistenceCollector(this.registry, sources.flush, sources.store);
    if (sources.history !== undefined) {
      registerHistoryCollector(this.registry, sources.history, sources.clock);
    }
    registerNodeCollector(this.registry, sources.stores, sources.clock);
    registerNatsCollector(this.registry, sources.connection);
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Writes the exposition to the sink. Nothing is written before the registry
   * has rendered, so a failure there leaves the sink untouched (an HTTP
   * handler can still answer 500). Rejects with SCRAPE_ABORTED when the sink
   * closes midway.
   */
  async write(sink: TextSink): Promise<void> {
    const now = this.sources.clock.now();
    // prom-client spells NaN "Nan" (the event loop lag mean before any sample): use the format's spelling.
    const registryText = (await this.registry.metrics()).replace(/ Nan$/gm, ' NaN');
    const out = new ChunkedTextWriter(sink, this.chunkChars);
    await this.channels.write(out, now);
    await this.peers.write(out);
    await this.lnd.write(out);
    if (out.add(registryText)) await out.flush();
    await out.end();
  }

  /** The whole exposition as one string (tests, benchmarks). */
  async renderToString(): Promise<string> {
    const sink = new StringSink();
    await this.write(sink);
    return sink.text();
  }
}
