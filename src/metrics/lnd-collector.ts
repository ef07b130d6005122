import { Gauge, type Registry } from 'prom-client';
import type { ChunkedTextWriter } from './chunked-text-writer.js';
import { LND_FAMILIES, type MetricFamily } from './metric-families.js';
import { escapeLabelValue, familyHeader, formatSampleValue } from './text-format.js';

/** What the lnd families read of a listed channel (ingest's LndChannelFigures satisfies it). */
export interface LndChannelView {
  readonly peer: string;
  /** lnd's `uptime`, seconds; undefined when the listing lacked it. */
  readonly uptimeSeconds: number | undefined;
  /** lnd's `lifetime`, seconds; undefined when the listing lacked it. */
  readonly lifetimeSeconds: number | undefined;
}

/** What they read of a node's latest listing (ingest's LndNodeListing satisfies it). */
export interface LndListingView {
  /** When its reply arrived, ms since the epoch. */
  readonly time: number;
  /** By channel point. */
  readonly channels: ReadonlyMap<string, LndChannelView>;
}

/** What the lnd families read: each node's latest ListChannels listing. */
export interface LndListingsView {
  listings(): Iterable<readonly [string, LndListingView]>;
}

type SampleOf = (figures: LndChannelView) => number | undefined;

/**
 * lnd's own uptime and lifetime of each channel, as its node's latest listing
 * gave them (values as lnd reported them then, not moved on to now). They grow
 * with the node's channels, so they are streamed like the other per-channel
 * families; both are written from the listings as they were at the scrape's
 * start (a listing that arrives meanwhile replaces its node's whole map, and
 * the scrape keeps the one it started with).
 */
export class LndCollector {
  constructor(private readonly source: LndListingsView | undefined) {}

  async write(out: ChunkedTextWriter): Promise<void> {
    const listings = this.source === undefined ? [] : [...this.source.listings()];
    await writeFamily(out, LND_FAMILIES.channelUptimeSeconds, listings, (c) => c.uptimeSeconds);
    await writeFamily(out, LND_FAMILIES.channelLifetimeSeconds, listings, (c) => c.lifetimeSeconds);
  }
}

async function writeFamily(
  out: ChunkedTextWriter,
  family: MetricFamily,
  listings: readonly (readonly [string, LndListingView])[],
  sampleOf: SampleOf,
): Promise<void> {
  if (out.add(familyHeader(family))) await out.flush();
  const prefix = `${family.name}{node="`;
  for (const [node, listing] of listings) {
    const nodeLabel = escapeLabelValue(node);
    for (const [channelPoint, figures] of listing.channels) {
      const value = sampleOf(figures);
      if (value === undefined) continue;
      const line = `${prefix}${nodeLabel}",channel_point="${escapeLabelValue(channelPoint)}",peer="${escapeLabelValue(figures.peer)}"} ${formatSampleValue(value)}\n`;
      if (out.add(line)) await out.flush();
    }
  }
}

/** Per node: when its latest listing (the one lnd's figures are from) arrived. */
export function registerLndCollector(
  registry: Registry,
  source: LndListingsView | undefined,
): void {
  const family = LND_FAMILIES.listingTimestampSeconds;
  new Gauge({
    name: family.name,
    help: family.help,
    labelNames: family.labels,
    registers: [registry],
    collect() {
      this.reset();
      if (source === undefined) return;
      for (const [node, listing] of source.listings()) this.set({ node }, listing.time / 1000);
    },
  });
}
