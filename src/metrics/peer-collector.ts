import type { NodeStores } from '../store/node-stores.js';
import type { PeerView } from '../store/peer-monitor.js';
import type { ChunkedTextWriter } from './chunked-text-writer.js';
import { PEER_FAMILIES, type MetricFamily } from './metric-families.js';
import { escapeLabelValue, familyHeader, formatSampleValue } from './text-format.js';

type SampleOf = (peer: PeerView) => number | undefined;

/**
 * The per-peer families of the monitored peers (flap count, flaps since start,
 * last flap, online, channels), streamed straight from the live stores: each
 * value is a field of the peer, read when its line is written.
 */
export class PeerCollector {
  constructor(private readonly stores: NodeStores) {}

  async write(out: ChunkedTextWriter): Promise<void> {
    await this.writeFamily(out, PEER_FAMILIES.flapCount, (peer) => peer.flapCount);
    await this.writeFamily(out, PEER_FAMILIES.flapsTotal, (peer) => peer.flapsSinceStart);
    await this.writeFamily(out, PEER_FAMILIES.lastFlapTimestampSeconds, (peer) =>
      peer.lastFlap === undefined ? undefined : peer.lastFlap / 1000,
    );
    await this.writeFamily(out, PEER_FAMILIES.online, (peer) => (peer.online ? 1 : 0));
    await this.writeFamily(out, PEER_FAMILIES.channels, (peer) => peer.channelCount);
  }

  private async writeFamily(
    out: ChunkedTextWriter,
    family: MetricFamily,
    sampleOf: SampleOf,
  ): Promise<void> {
    if (out.add(familyHeader(family))) await out.flush();
    const prefix = `${family.name}{node="`;
    for (const store of this.stores.values()) {
      const node = escapeLabelValue(store.node);
      for (const peer of store.peers()) {
        const value = sampleOf(peer);
        if (value === undefined) continue;
        const line = `${prefix}${node}",peer="${escapeLabelValue(peer.pubkey)}"} ${formatSampleValue(value)}\n`;
        if (out.add(line)) await out.flush();
      }
    }
  }
}
