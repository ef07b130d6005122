import type { ChannelEventStore } from '../store/channel-event-store.js';
import type { NodeStores } from '../store/node-stores.js';
import type { ChannelView, PeerView } from '../store/peer-monitor.js';
import { yieldToEventLoop, type ChunkedTextWriter } from './chunked-text-writer.js';
import { EncodedLines, labelValueBound } from './encoded-lines.js';
import { CHANNEL_FAMILIES, type MetricFamily } from './metric-families.js';
import type { MetricWindow } from './metric-windows.js';
import { escapeLabelValue, familyHeader, formatSampleValue } from './text-format.js';

/** Channels whose info is computed between two yields to the event loop. */
const SNAPSHOT_BATCH = 4096;
/**
 * Encoded chunks are this many text chunks in size. Each chunk handed over
 * waits for the connection to drain, a cost per chunk; encoding lines costs
 * under half of what writing text does per byte, so such a chunk still holds
 * the event loop for well under a millisecond.
 */
const ENCODED_CHUNK_FACTOR = 4;
/** The longest formatSampleValue gives: sign, 17 digits, point, exponent. */
const MAX_VALUE_CHARS = 24;

/** One node's channels and their info as of the scrape's start. */
interface NodeChannels {
  /** The node label value, escaped. */
  readonly node: string;
  readonly channels: ChannelView[];
  /** Milliseconds, parallel to channels. */
  readonly lifetimes: number[];
  readonly uptimes: number[];
  /**
   * Channel i's uptime ratio over window w, at i * windows + w; NaN while that
   * clamped window is empty.
   */
  readonly windowRatios: number[];
}

type SampleOf = (lifetimeMs: number, uptimeMs: number) => number | undefined;

/**
 * The per-channel families (uptime ratio, lifetime, uptime, and the uptime
 * ratio over each window), streamed. They need the same channel info, so it
 * is computed once per scrape (a few numbers per channel, no text) at one
 * instant; the families are then written from that snapshot and agree with
 * each other even if channels open or close while the scrape yields.
 */
export class ChannelCollector {
  constructor(
    private readonly stores: NodeStores,
    /** The windows of chanfitness_channel_window_uptime_ratio; none: no such family. */
    private readonly windows: readonly MetricWindow[],
  ) {}

  async write(out: ChunkedTextWriter, now: number): Promise<void> {
    const nodes = await this.snapshot(now);
    await writeFamily(out, CHANNEL_FAMILIES.uptimeRatio, nodes, (lifetime, uptime) =>
      // Absent while the lifetime is 0 (no NaN); float error never lifts it above 1.
      lifetime > 0 ? Math.min(1, uptime / lifetime) : undefined,
    );
    await writeFamily(out, CHANNEL_FAMILIES.lifetimeSeconds, nodes, (lifetime) => lifetime / 1000);
    await writeFamily(out, CHANNEL_FAMILIES.uptimeSeconds, nodes, (_, uptime) => uptime / 1000);
    if (this.windows.length > 0) await this.writeWindows(out, nodes);
  }

  /**
   * Peer by peer, so that what the channels of a peer share is computed once:
   * its online time up to now (each channel's lifetime uptime is then O(1)
   * once its opening is final, see channelUptimeWith) and up to each window's
   * start, an O(log n) search needed only by channels opened before it.
   */
  private async snapshot(now: number): Promise<NodeChannels[]> {
    const nodes: NodeChannels[] = [];
    const starts = new Array<number>(this.windows.length);
    /** The observed part of each window, for the channels opened before its start. */
    const spans = new Array<number>(this.windows.length);
    const onlineAtStart = new Array<number>(this.windows.length);
    let sinceYield = 0;
    for (const store of this.stores.values()) {
      const entry: NodeChannels = {
        node: escapeLabelValue(store.node),
        channels: [],
        lifetimes: [],
        uptimes: [],
        windowRatios: [],
      };
      nodes.push(entry);
      for (let w = 0; w < this.windows.length; w++) {
        const start = store.windowStart((this.windows[w] as MetricWindow).durationMs, now);
        starts[w] = start;
        spans[w] = store.observedSince(start, now);
      }
      for (const peer of store.peers()) {
        if (peer.channelCount === 0) continue;
        this.snapshotPeer(store, peer, now, starts, spans, onlineAtStart, entry);
        sinceYield += peer.channelCount;
        // Between peers only: a peer's figures are all of one state of its log.
        if (sinceYield >= SNAPSHOT_BATCH) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      }
    }
    return nodes;
  }

  private snapshotPeer(
    store: ChannelEventStore,
    peer: PeerView,
    now: number,
    starts: readonly number[],
    spans: readonly number[],
    onlineAtStart: number[],
    entry: NodeChannels,
  ): void {
    const windows = starts.length;
    const untilNow = store.peerOnlineUntil(peer, now);
    // NaN: not searched yet for this peer.
    onlineAtStart.fill(Number.NaN);
    for (const channel of peer.channels()) {
      entry.channels.push(channel);
      if (!(now - channel.openedAt > 0)) {
        // An opening not before now: lifetime 0, and every clamped window empty.
        entry.lifetimes.push(0);
        entry.uptimes.push(0);
        for (let w = 0; w < windows; w++) entry.windowRatios.push(Number.NaN);
        continue;
      }
      // Observed time only: now - openedAt while the node was always observed.
      const lifetime = store.channelLifetime(channel, now);
      const uptime = store.channelUptimeWith(channel, now, untilNow);
      entry.lifetimes.push(lifetime);
      entry.uptimes.push(uptime);
      for (let w = 0; w < windows; w++) {
        const start = starts[w] as number;
        if (channel.openedAt >= start) {
          // The window holds the whole lifetime: the lifetime ratio.
          entry.windowRatios.push(lifetime > 0 ? Math.min(1, uptime / lifetime) : Number.NaN);
          continue;
        }
        const span = spans[w] as number;
        if (!(span > 0)) {
          entry.windowRatios.push(Number.NaN);
          continue;
        }
        let before = onlineAtStart[w] as number;
        if (before !== before) {
          before = store.peerOnlineUntilAt(peer, start, now);
          onlineAtStart[w] = before;
        }
        entry.windowRatios.push(Math.min(1, (untilNow - before) / span));
      }
    }
  }

  /**
   * One family, its samples channel by channel, encoded as they are written
   * (EncodedLines): its lines are half the exposition's text. A channel's
   * label set is escaped and encoded once and copied for its other windows,
   * and a value is formatted only when it differs from the channel's previous
   * window's (windows reaching before the opening) and from the last one of
   * its window (a peer's channels opened before the window's start).
   */
  private async writeWindows(
    out: ChunkedTextWriter,
    nodes: readonly NodeChannels[],
  ): Promise<void> {
    const family = CHANNEL_FAMILIES.windowUptimeRatio;
    if (out.add(familyHeader(family))) await out.flush();
    const suffixes = this.windows.map((w) =>
      Buffer.from(`",window="${escapeLabelValue(w.label)}"} `),
    );
    const windows = suffixes.length;
    const lineBound = Math.max(...suffixes.map((s) => s.length)) + MAX_VALUE_CHARS + 1;
    const lines = new EncodedLines(out.chunkSize * ENCODED_CHUNK_FACTOR);
    // The last value of each window and its text: the channels of a peer opened
    // before a window's start share its ratio over that window.
    const seen = new Array<number>(windows).fill(Number.NaN);
    const seenText = new Array<string>(windows).fill('');
    for (const { node, channels, windowRatios } of nodes) {
      const prefix = Buffer.from(`${family.name}{node="${node}",channel_point="`);
      // The snapshot lists a peer's channels together: its label is encoded once.
      let peer: PeerView | undefined;
      let peerLabel = Buffer.alloc(0);
      for (let i = 0; i < channels.length; i++) {
        const channel = channels[i];
        if (channel === undefined) continue;
        const { channelPoint } = channel;
        if (channel.peer !== peer) {
          peer = channel.peer;
          peerLabel = Buffer.from(`",peer="${escapeLabelValue(peer.pubkey)}`);
        }
        const seriesBound = prefix.length + labelValueBound(channelPoint) + peerLabel.length;
        const full = lines.reserve(windows * (seriesBound + lineBound));
        if (full !== undefined) await out.addEncoded(full);
        let seriesFrom = -1;
        let seriesTo = -1;
        let last = Number.NaN;
        let lastText = '';
        for (let w = 0; w < windows; w++) {
          const ratio = windowRatios[i * windows + w] ?? Number.NaN;
          if (ratio !== ratio) continue;
          if (seriesFrom < 0) {
            seriesFrom = lines.length;
            lines.bytes(prefix);
            lines.labelValue(channelPoint);
            lines.bytes(peerLabel);
            seriesTo = lines.length;
          } else {
            lines.repeat(seriesFrom, seriesTo);
          }
          lines.bytes(suffixes[w] as Buffer);
          if (ratio !== last) {
            last = ratio;
            if (ratio === seen[w]) {
              lastText = seenText[w] as string;
            } else {
              lastText = formatSampleValue(ratio);
              seen[w] = ratio;
              seenText[w] = lastText;
            }
          }
          lines.ascii(lastText);
          lines.newline();
        }
      }
    }
    await out.addEncoded(lines.take());
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
