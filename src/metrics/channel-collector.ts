import type { NodeStores } from '../store/node-stores.js';
import type { ChannelView } from '../store/peer-monitor.js';
import { yieldToEventLoop, type ChunkedTextWriter } from './chunked-text-writer.js';
import { CHANNEL_FAMILIES, type MetricFamily } from './metric-families.js';
import { escapeLabelValue, familyHeader, formatSampleValue } from './text-format.js';

/** Channels whose info is computed between two yields to the event loop. */
const SNAPSHOT_BATCH = 4096;

/** One node's channels and their info as of the scrape's start. */
interface NodeChannels {
  /** The node label value, escaped. */
  readonly node: string;
  readonly channels: ChannelView[];
  /** Milliseconds, parallel to channels. */
  readonly lifetimes: number[];
  readonly uptimes: number[];
}

type SampleOf = (lifetimeMs: number, uptimeMs: number) => number | undefined;

/**
 * The per-channel families (uptime ratio, lifetime, uptime), streamed. The
 * three families need the same channel info, so it is computed once per scrape
 * (a few numbers per channel, no text) at one instant; the families are then
 * written from that snapshot and agree with each other even if channels open
 * or close while the scrape yields.
 */
export class ChannelCollector {
  constructor(private readonly stores: NodeStores) {}

  async write(out: ChunkedTextWriter, now: number): Promise<void> {
    const nodes = await this.snapshot(now);
    await writeFamily(out, CHANNEL_FAMILIES.uptimeRatio, nodes, (lifetime, uptime) =>
      // Absent while the lifetime is 0 (no NaN); float error never lifts it above 1.
      lifetime > 0 ? Math.min(1, uptime / lifetime) : undefined,
    );
    await writeFamily(out, CHANNEL_FAMILIES.lifetimeSeconds, nodes, (lifetime) => lifetime / 1000);
    await writeFamily(out, CHANNEL_FAMILIES.uptimeSeconds, nodes, (_, uptime) => uptime / 1000);
  }

  private async snapshot(now: number): Promise<NodeChannels[]> {
    const nodes: NodeChannels[] = [];
    let sinceYield = 0;
    for (const store of this.stores.values()) {
      const entry: NodeChannels = {
        node: escapeLabelValue(store.node),
        channels: [],
        lifetimes: [],
        uptimes: [],
      };
      nodes.push(entry);
      for (const channel of store.channels()) {
        const info = store.channelInfo(channel, now);
        entry.channels.push(channel);
        entry.lifetimes.push(info.lifetime);
        entry.uptimes.push(info.uptime);
        if (++sinceYield === SNAPSHOT_BATCH) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      }
    }
    return nodes;
  }
}

async function writeFamily(
  out: ChunkedTextWriter,
  family: MetricFamily,
  nodes: readonly NodeChannels[],
  sampleOf: SampleOf,
): Promise<void> {
  if (out.add(familyHeader(family))) await out.flush();
  const prefix = `${family.name}{node="`;
  for (const { node, channels, lifetimes, uptimes } of nodes) {
    for (let i = 0; i < channels.length; i++) {
      const value = sampleOf(lifetimes[i] ?? 0, uptimes[i] ?? 0);
      if (value === undefined) continue;
      const channel = channels[i];
      if (channel === undefined) continue;
      const line = `${prefix}${node}",channel_point="${escapeLabelValue(channel.channelPoint)}",peer="${escapeLabelValue(channel.peer.pubkey)}"} ${formatSampleValue(value)}\n`;
      if (out.add(line)) await out.flush();
    }
  }
}
