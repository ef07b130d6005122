import { channelUptimeAt } from './channel-info.js';
import { ALWAYS_OBSERVED, type ObservedTime } from './node-observation.js';
import { TrackedChannel, type ChannelView, type PeerView } from './peer-monitor.js';

/**
 * Every channel's lifetime and uptime at one instant, as channelInfo computes
 * them, in arrays (entry i is channels[i]). The arrays are reused: they hold
 * until the next computation.
 */
export interface ChannelUptimes {
  readonly count: number;
  readonly channels: readonly ChannelView[];
  /** The observed lifetime (now - openedAt when always observed), or 0 when not positive. */
  readonly lifetime: Float64Array;
  /** uptime(openedAt, now), or 0 when the lifetime is 0. */
  readonly uptime: Float64Array;
}

/**
 * Computes ChannelUptimes for a whole store in two tight passes: one over the
 * peers (each peer's online time up to now, once) and one over the channels
 * in columns (opening time, peer, and the online time at the opening, which a
 * channel memoizes once it is final). Ranking or exporting every channel then
 * streams through a few typed arrays instead of chasing each channel's
 * objects. The columns are rebuilt when the set of channels changes (the
 * store's channel version), which is also when a log can be cleared.
 */
export class ChannelUptimeIndex {
  private version = -1;
  private channels: ChannelView[] = [];
  private peers: PeerView[] = [];
  private peerOf = new Int32Array(0);
  private openedAt = new Float64Array(0);
  /** The node's unobserved time up to each opening. */
  private unobservedAtOpening = new Float64Array(0);
  /** The online time at the opening when final, NaN otherwise (computed the long way). */
  private atOpening = new Float64Array(0);
  private peerUntil = new Float64Array(0);
  private lifetime = new Float64Array(0);
  private uptime = new Float64Array(0);

  /**
   * The figures at now of the channels of the peers given, rebuilding the
   * columns when version differs from the last call's.
   */
  compute(
    version: number,
    peers: () => Iterable<PeerView>,
    now: number,
    observation: ObservedTime = ALWAYS_OBSERVED,
  ): ChannelUptimes {
    if (version !== this.version) this.rebuild(version, peers(), now);
    const { peerUntil, peerOf, openedAt, atOpening, lifetime, uptime, channels } = this;
    const unobservedAtOpening = this.unobservedAtOpening;
    const peerList = this.peers;
    for (let p = 0; p < peerList.length; p++) {
      peerUntil[p] = (peerList[p] as PeerView).log.onlineUntilNow(now);
    }
    const count = channels.length;
    for (let i = 0; i < count; i++) {
      const age = now - (openedAt[i] as number);
      if (!(age > 0)) {
        lifetime[i] = 0;
        uptime[i] = 0;
        continue;
      }
      lifetime[i] = observation.observedSince(
        openedAt[i] as number,
        unobservedAtOpening[i] as number,
        now,
      );
      const before = atOpening[i] as number;
      if (before === before && now !== 0) {
        // The same subtraction as OnlineLog.uptimeFromUntil's.
        uptime[i] = (peerUntil[peerOf[i] as number] as number) - before;
      } else {
        const channel = channels[i] as ChannelView;
        uptime[i] = channelUptimeAt(channel, now);
        atOpening[i] = finalAtOpening(channel);
      }
    }
    return { count, channels, lifetime, uptime };
  }

  private rebuild(version: number, peers: Iterable<PeerView>, now: number): void {
    const channels: ChannelView[] = [];
    const peerList: PeerView[] = [];
    const peerOf: number[] = [];
    for (const peer of peers) {
      if (peer.channelCount === 0) continue;
      const p = peerList.length;
      peerList.push(peer);
      for (const channel of peer.channels()) {
        channels.push(channel);
        peerOf.push(p);
        // Sets the channel's memo when final.
        channelUptimeAt(channel, now);
      }
    }
    const n = channels.length;
    this.version = version;
    this.channels = channels;
    this.peers = peerList;
    this.peerOf = Int32Array.from(peerOf);
    this.openedAt = Float64Array.from(channels, (c) => c.openedAt);
    this.unobservedAtOpening = Float64Array.from(channels, (c) => c.unobservedAtOpening);
    this.atOpening = Float64Array.from(channels, finalAtOpening);
    this.peerUntil = new Float64Array(peerList.length);
    this.lifetime = new Float64Array(n);
    this.uptime = new Float64Array(n);
  }
}

/** The channel's memoized online time at its opening, NaN while it is not final. */
function finalAtOpening(channel: ChannelView): number {
  if (!(channel instanceof TrackedChannel)) return Number.NaN;
  return channel.peer.log.memoIsFinal(channel) ? channel.memoValue : Number.NaN;
}
