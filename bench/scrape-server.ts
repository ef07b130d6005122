/**
 * The server process of the scrape benchmark (forked by bench/scrape.bench.ts,
 * one per variant and size, so that each one's memory is its own): builds the
 * stores, then serves /metrics either with our exposition (the real
 * createHttpServer and Exposition; `ours-no-windows` without the window
 * family, as the exposition was before it) or with a hand-written builder of
 * the same series as `ours-no-windows` (the baseline), or with prom-client
 * labelled gauges of the same series as `ours` behind the same HTTP route
 * (`prom-client`, bench/fast-path-exposition.bench.ts), and measures its own
 * event loop on request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { constants as zlibConstants, gzip } from 'node:zlib';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { systemScheduler } from '../src/clock.js';
import { createHttpServer } from '../src/http/http-server.js';
import { acceptsGzip } from '../src/http/accept-encoding.js';
import { IngestStats } from '../src/ingest/ingest-stats.js';
import { createLogger } from '../src/log/logger.js';
import { ChannelCollector } from '../src/metrics/channel-collector.js';
import { Exposition, type ExpositionSources } from '../src/metrics/exposition.js';
import {
  CHANNEL_FAMILIES,
  PEER_FAMILIES,
  type MetricFamily,
} from '../src/metrics/metric-families.js';
import { DEFAULT_METRIC_WINDOWS } from '../src/metrics/metric-windows.js';
import type { TextSink } from '../src/metrics/text-sink.js';
import { registerIngestCollector } from '../src/metrics/ingest-collector.js';
import { registerNatsCollector } from '../src/metrics/nats-collector.js';
import { registerPersistenceCollector } from '../src/metrics/persistence-collector.js';
import { ConnectionState } from '../src/nats/connection-state.js';
import { FlushStats } from '../src/persistence/flush-stats.js';
import type { NodeStores } from '../src/store/node-stores.js';
import type { ChannelView, PeerView } from '../src/store/peer-monitor.js';
import { buildStores, DEFAULT_HISTORY_DAYS } from './scrape-fixture.js';

/**
 * Our exposition with the default windows, ours without the window family,
 * the hand-written builder, prom-client labelled gauges of the same series
 * as `ours`.
 */
export type ScrapeVariant = 'ours' | 'ours-no-windows' | 'builder' | 'prom-client';

export type ServerRequest = { readonly kind: 'gc' | 'loop-start' | 'loop-stop' | 'exit' };

export type ServerReply =
  | {
      readonly kind: 'ready';
      readonly url: string;
      readonly buildSeconds: number;
      readonly peers: number;
      readonly nodes: number;
      readonly events: number;
    }
  | { readonly kind: 'gc-done' }
  | { readonly kind: 'loop-started' }
  | {
      readonly kind: 'loop';
      /** monitorEventLoopDelay's largest delay, ms. */
      readonly maxDelayMs: number;
      /** Largest gap between two setImmediate ticks, ms. */
      readonly maxGapMs: number;
    };

const send = (reply: ServerReply): void => {
  process.send?.(reply);
};

/**
 * The baseline: the same series as our exposition, built the straightforward
 * way — every line pushed to an array, joined, written with one res.end — with
 * the small families and the default metrics from an identical prom-client
 * registry, as ours has them.
 */
function builderHandler(
  stores: NodeStores,
  registry: Registry,
): (req: IncomingMessage, res: ServerResponse) => void {
  const header = (name: string, type: string, help: string): string =>
    `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  const build = async (): Promise<string> => {
    const small = (await registry.metrics()).replace(/ Nan$/gm, ' NaN');
    const now = systemScheduler.now();
    const out: string[] = [];
    const labels: string[] = [];
    const lifetimes: number[] = [];
    const uptimes: number[] = [];
    for (const store of stores.values()) {
      for (const channel of store.channels()) {
        const info = store.channelInfo(channel, now);
        labels.push(
          `{node="${store.node}",channel_point="${channel.channelPoint}",peer="${channel.peer.pubkey}"}`,
        );
        lifetimes.push(info.lifetime);
        uptimes.push(info.uptime);
      }
    }
    out.push(
      header(
        'chanfitness_channel_uptime_ratio',
        'gauge',
        "Time the channel's peer was online divided by the channel's lifetime (0..1); absent while the lifetime is 0.",
      ),
    );
    for (let i = 0; i < labels.length; i++) {
      const lifetime = lifetimes[i] ?? 0;
      if (lifetime > 0) {
        out.push(
          `chanfitness_channel_uptime_ratio${labels[i]} ${Math.min(1, (uptimes[i] ?? 0) / lifetime)}\n`,
        );
      }
    }
    out.push(
      header(
        'chanfitness_channel_lifetime_seconds',
        'gauge',
        'Time the channel has been monitored, in seconds.',
      ),
    );
    for (let i = 0; i < labels.length; i++) {
      out.push(`chanfitness_channel_lifetime_seconds${labels[i]} ${(lifetimes[i] ?? 0) / 1000}\n`);
    }
    out.push(
      header(
        'chanfitness_channel_uptime_seconds',
        'gauge',
        "Time the channel's peer was online during the channel's lifetime, in seconds.",
      ),
    );
    for (let i = 0; i < labels.length; i++) {
      out.push(`chanfitness_channel_uptime_seconds${labels[i]} ${(uptimes[i] ?? 0) / 1000}\n`);
    }
    const peerFamily = (
      name: string,
      type: string,
      help: string,
      value: (peer: {
        flapCount: number;
        flapsSinceStart: number;
        lastFlap: number | undefined;
        online: boolean;
        channelCount: number;
      }) => number | undefined,
    ): void => {
      out.push(header(name, type, help));
      for (const store of stores.values()) {
        for (const peer of store.peers()) {
          const v = value(peer);
          if (v !== undefined)
            out.push(`${name}{node="${store.node}",peer="${peer.pubkey}"} ${v}\n`);
        }
      }
    };
    peerFamily(
      'chanfitness_peer_flap_count',
      'gauge',
      "lnd's flap count of the peer (goes down with the 8 h cooldown).",
      (p) => p.flapCount,
    );
    peerFamily(
      'chanfitness_peer_flaps_total',
      'counter',
      'Flaps of the peer recorded since this process started.',
      (p) => p.flapsSinceStart,
    );
    peerFamily(
      'chanfitness_peer_last_flap_timestamp_seconds',
      'gauge',
      "Unix time of the peer's last flap; absent when none was recorded.",
      (p) => (p.lastFlap === undefined ? undefined : p.lastFlap / 1000),
    );
    peerFamily(
      'chanfitness_peer_online',
      'gauge',
      'Whether the peer is online (1) or offline (0).',
      (p) => (p.online ? 1 : 0),
    );
    peerFamily(
      'chanfitness_peer_channels',
      'gauge',
      'Open channels tracked with the peer.',
      (p) => p.channelCount,
    );
    out.push(small);
    return out.join('');
  };
  return (req, res) => {
    if (req.url !== '/metrics') {
      res.statusCode = 404;
      res.end();
      return;
    }
    void build().then((text) => {
      res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
      if (!acceptsGzip(req.headers['accept-encoding'])) {
        res.end(text);
        return;
      }
      res.setHeader('Content-Encoding', 'gzip');
      gzip(text, { level: zlibConstants.Z_BEST_SPEED }, (err, body) => {
        if (err !== null) res.destroy(err);
        else res.end(body);
      });
    });
  };
}

/** ChannelCollector's snapshot of a node's channels (its private per-scrape figures). */
interface NodeChannels {
  readonly node: string;
  readonly channels: readonly ChannelView[];
  readonly lifetimes: readonly number[];
  readonly uptimes: readonly number[];
  readonly windowRatios: readonly number[];
}

/**
 * The per-channel and per-peer families the prom-client way, for the
 * comparison with our writer: a Gauge (a Counter for the flaps total) per
 * family with its label names, in the registry of an Exposition of the same
 * sources (the small families and default metrics as ours has them), each
 * reset and set series by series in its collect(), the text from
 * registry.metrics() handed to the response at once. The channel figures are
 * those of our ChannelCollector's snapshot (the same computation, yielding as
 * it goes), taken once per scrape for the four channel families: only the
 * writing differs.
 */
class PromClientExposition extends Exposition {
  private snapshot: Promise<NodeChannels[]> | undefined;

  constructor(sources: ExpositionSources) {
    super(sources);
    const collector = new ChannelCollector(sources.stores, DEFAULT_METRIC_WINDOWS);
    const take = (
      collector as unknown as { snapshot(now: number): Promise<NodeChannels[]> }
    ).snapshot.bind(collector);
    registerPromClientFamilies(
      this.registry,
      sources.stores,
      () => (this.snapshot ??= take(sources.clock.now())),
    );
  }

  override async write(sink: TextSink): Promise<void> {
    this.snapshot = undefined;
    try {
      const text = (await this.registry.metrics()).replace(/ Nan$/gm, ' NaN');
      await sink.write(Buffer.from(text, 'utf8'));
    } finally {
      this.snapshot = undefined;
    }
  }
}

function registerPromClientFamilies(
  registry: Registry,
  stores: NodeStores,
  snapshotOf: () => Promise<NodeChannels[]>,
): void {
  const windows = DEFAULT_METRIC_WINDOWS;
  const channelLabels = (node: string, channel: ChannelView): Record<string, string> => ({
    node,
    channel_point: channel.channelPoint,
    peer: channel.peer.pubkey,
  });
  const channelGauge = (
    family: MetricFamily,
    value: (lifetime: number, uptime: number) => number | undefined,
  ): void => {
    new Gauge({
      name: family.name,
      help: family.help,
      labelNames: family.labels,
      registers: [registry],
      async collect() {
        const nodes = await snapshotOf();
        this.reset();
        for (const { node, channels, lifetimes, uptimes } of nodes) {
          for (let i = 0; i < channels.length; i++) {
            const v = value(lifetimes[i] ?? 0, uptimes[i] ?? 0);
            if (v !== undefined) this.set(channelLabels(node, channels[i] as ChannelView), v);
          }
        }
      },
    });
  };
  channelGauge(CHANNEL_FAMILIES.uptimeRatio, (lifetime, uptime) =>
    lifetime > 0 ? Math.min(1, uptime / lifetime) : undefined,
  );
  channelGauge(CHANNEL_FAMILIES.lifetimeSeconds, (lifetime) => lifetime / 1000);
  channelGauge(CHANNEL_FAMILIES.uptimeSeconds, (_, uptime) => uptime / 1000);
  new Gauge({
    name: CHANNEL_FAMILIES.windowUptimeRatio.name,
    help: CHANNEL_FAMILIES.windowUptimeRatio.help,
    labelNames: CHANNEL_FAMILIES.windowUptimeRatio.labels,
    registers: [registry],
    async collect() {
      const nodes = await snapshotOf();
      this.reset();
      for (const { node, channels, windowRatios } of nodes) {
        for (let i = 0; i < channels.length; i++) {
          for (let w = 0; w < windows.length; w++) {
            const ratio = windowRatios[i * windows.length + w] ?? Number.NaN;
            if (ratio !== ratio) continue;
            const labels = channelLabels(node, channels[i] as ChannelView);
            this.set({ ...labels, window: windows[w]?.label ?? '' }, ratio);
          }
        }
      }
    },
  });
  const peerValues = (
    value: (peer: PeerView) => number | undefined,
    set: (labels: Record<string, string>, v: number) => void,
  ): void => {
    for (const store of stores.values()) {
      for (const peer of store.peers()) {
        const v = value(peer);
        if (v !== undefined) set({ node: store.node, peer: peer.pubkey }, v);
      }
    }
  };
  const peerGauge = (family: MetricFamily, value: (peer: PeerView) => number | undefined): void => {
    new Gauge({
      name: family.name,
      help: family.help,
      labelNames: family.labels,
      registers: [registry],
      collect() {
        this.reset();
        peerValues(value, (labels, v) => {
          this.set(labels, v);
        });
      },
    });
  };
  peerGauge(PEER_FAMILIES.flapCount, (p) => p.flapCount);
  new Counter({
    name: PEER_FAMILIES.flapsTotal.name,
    help: PEER_FAMILIES.flapsTotal.help,
    labelNames: PEER_FAMILIES.flapsTotal.labels,
    registers: [registry],
    collect() {
      this.reset();
      peerValues(
        (p) => p.flapsSinceStart,
        (labels, v) => {
          this.inc(labels, v);
        },
      );
    },
  });
  peerGauge(PEER_FAMILIES.lastFlapTimestampSeconds, (p) =>
    p.lastFlap === undefined ? undefined : p.lastFlap / 1000,
  );
  peerGauge(PEER_FAMILIES.online, (p) => (p.online ? 1 : 0));
  peerGauge(PEER_FAMILIES.channels, (p) => p.channelCount);
}

async function main(): Promise<void> {
  const [variant = 'ours', size = '1000', days = String(DEFAULT_HISTORY_DAYS), gaps = '0'] =
    process.argv.slice(2);
  const started = performance.now();
  const fixture = await buildStores(Number(size), undefined, Number(days), Number(gaps));
  const buildSeconds = (performance.now() - started) / 1000;
  const sources = {
    stores: fixture.stores,
    ingest: new IngestStats(),
    flush: new FlushStats(),
    connection: new ConnectionState(),
    clock: systemScheduler,
  };
  let url: string;
  if (variant === 'ours' || variant === 'ours-no-windows' || variant === 'prom-client') {
    const http = await createHttpServer({
      listenAddress: { address: '127.0.0.1:0', host: '127.0.0.1', port: 0 },
      exposition:
        variant === 'prom-client'
          ? // Served by the same route (src/http/metrics-route.ts) as ours.
            new PromClientExposition(sources)
          : new Exposition(sources, variant === 'ours' ? {} : { windows: [] }),
      graphql: (_req, res) => {
        res.statusCode = 404;
        res.end();
      },
      readiness: () => ({ ready: true, reasons: [] }),
      logger: createLogger({ level: 'warn', format: 'json', destination: process.stderr }),
    });
    url = http.url;
  } else {
    const registry = new Registry();
    registerIngestCollector(registry, sources.ingest, sources.stores);
    registerPersistenceCollector(registry, sources.flush, undefined);
    registerNatsCollector(registry, sources.connection);
    collectDefaultMetrics({ register: registry });
    const server = createServer(builderHandler(fixture.stores, registry));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let maxGap = 0;
  let ticking = false;
  const tick = (last: number): void => {
    if (!ticking) return;
    setImmediate(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      tick(now);
    });
  };
  process.on('message', (request: ServerRequest) => {
    switch (request.kind) {
      case 'gc':
        global.gc?.();
        global.gc?.();
        send({ kind: 'gc-done' });
        return;
      case 'loop-start':
        histogram.reset();
        histogram.enable();
        maxGap = 0;
        ticking = true;
        tick(performance.now());
        send({ kind: 'loop-started' });
        return;
      case 'loop-stop':
        histogram.disable();
        ticking = false;
        send({ kind: 'loop', maxDelayMs: histogram.max / 1e6, maxGapMs: maxGap });
        return;
      case 'exit':
        process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({
    kind: 'ready',
    url,
    buildSeconds,
    peers: fixture.peers,
    nodes: fixture.nodes,
    events: fixture.events,
  });
}

void main();
