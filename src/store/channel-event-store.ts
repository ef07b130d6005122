import { StoreError } from './errors.js';
import {
  channelInfo,
  channelLifetimeAt,
  channelUnobservedAt,
  channelUptimeAt,
  peerLogStart,
  channelUptimeWith,
  peerOnlineUntil,
  peerOnlineUntilAt,
  peerUptime,
  type ChannelInfo,
  type PeerUptime,
} from './channel-info.js';
import { ChannelUptimeIndex, type ChannelUptimes } from './channel-uptimes.js';
import type { OnlinePeriod } from './online-log.js';
import type { ChannelView, PeerView } from './peer-monitor.js';
import { HistoryStore } from './store-history.js';
import type { Outages, UptimeWindow } from './store-types.js';

export type { ChannelInfo, PeerUptime } from './channel-info.js';
export type { ChannelUptimes } from './channel-uptimes.js';
export {
  NO_RECORD,
  type ApplyOutcome,
  type ChannelEventStoreConfig,
  type ChannelSource,
  type FlapCountAnswer,
  type LoadedRecord,
  type Outages,
  type RestoredObservation,
  type RestoredPeer,
  type StoreObserver,
  type StoreRejection,
  type UptimeWindow,
} from './store-types.js';

/**
 * The channel event store of one lnd node, with exactly the semantics of lnd's
 * chanfitness.ChannelEventStore, event times taken from the events, and uptime
 * over any window: the pure, synchronous core. As lnd's store is given
 * everything through its Config, this one is given each new monitor's
 * persisted flap record with the open that creates it (needsRecord,
 * openChannel's `loaded`); reading records is the edge's business
 * (src/ingest/record-gate.ts), which holds a peer's events while it reads.
 *
 * Built in layers (see StoreState): this one answers the queries, lnd's
 * GetChanInfo and uptime and the windows and periods beyond lnd.
 */
export class ChannelEventStore extends HistoryStore {
  private uptimeIndex: ChannelUptimeIndex | undefined;

  /** A monitored peer. */
  peer(pubkey: string): PeerView | undefined {
    return this.monitors.get(pubkey);
  }

  /** Every monitored peer, live (no copy). */
  peers(): IterableIterator<PeerView> {
    return this.monitors.values();
  }

  get peerCount(): number {
    return this.monitors.size;
  }

  channel(channelPoint: string): ChannelView | undefined {
    return this.channelIndex.get(channelPoint);
  }

  /** Every tracked channel, live (no copy). */
  channels(): IterableIterator<ChannelView> {
    return this.channelIndex.values();
  }

  get channelCount(): number {
    return this.channelIndex.size;
  }

  /** lnd's GetChanInfo. */
  getChanInfo(channelPoint: string, pubkey: string): ChannelInfo {
    const monitor = this.monitors.get(pubkey);
    if (monitor === undefined) {
      throw new StoreError('PEER_NOT_FOUND', `peer ${pubkey} not found in event store`);
    }
    const channel = monitor.channel(channelPoint);
    if (channel === undefined) {
      throw new StoreError('CHANNEL_NOT_FOUND', `channel ${channelPoint} not found in event store`);
    }
    return this.channelInfo(channel);
  }

  /**
   * Lifetime = now - openedAt, uptime = uptime(openedAt, now). An opening time
   * in the future (timestamps may lead the clock a little) reads as zero.
   */
  channelInfo(channel: ChannelView, now: number = this.config.clock.now()): ChannelInfo {
    return channelInfo(channel, now);
  }

  /**
   * channelInfo's uptime alone, allocating nothing (for ranking many channels):
   * uptime(openedAt, now), 0 while the lifetime is not positive.
   */
  channelUptimeAt(channel: ChannelView, now: number): number {
    return channelUptimeAt(channel, now);
  }

  /**
   * For ranking many channels at one instant, peer by peer: the peer's online
   * time up to now, for channelUptimeWith on each of its channels.
   */
  peerOnlineUntil(peer: PeerView, now: number): number {
    return peerOnlineUntil(peer, now);
  }

  /**
   * Every channel's lifetime and uptime at now, as channelInfo computes them,
   * in arrays reused by the next call: for ranking or exporting all channels
   * in O(peers + channels) without chasing each channel's objects.
   */
  channelUptimes(now: number = this.config.clock.now()): ChannelUptimes {
    this.uptimeIndex ??= new ChannelUptimeIndex();
    return this.uptimeIndex.compute(
      this.channelVersion,
      () => this.monitors.values(),
      now,
      this.observation,
    );
  }

  /**
   * A monitored peer's online time over its monitored time (from its
   * monitor's creation to now), from its event log; see PeerUptime.
   */
  peerUptime(peer: PeerView, now: number = this.config.clock.now()): PeerUptime {
    return peerUptime(peer, now);
  }

  /** channelUptimeAt, given peerOnlineUntil(channel.peer, now) of the same instant. */
  channelUptimeWith(channel: ChannelView, now: number, peerUntilNow: number): number {
    return channelUptimeWith(channel, now, peerUntilNow);
  }

  /**
   * Where channelUptime(channel, now - lengthMs) starts at now for a channel
   * opened before it: now - lengthMs, clamped to the history horizon. A
   * channel opened at or after it has its whole lifetime in the window.
   */
  windowStart(lengthMs: number, now: number): number {
    return Math.max(now - lengthMs, this.horizon(now) ?? -Infinity);
  }

  /**
   * For windowed uptime of many channels at one instant, peer by peer: the
   * peer's online time up to a window's start, once for all its channels
   * opened before it. Their uptime over [start, now] is then
   * peerOnlineUntil(peer, now) minus this, the figure channelUptime gives.
   */
  peerOnlineUntilAt(peer: PeerView, start: number, now: number): number {
    return peerOnlineUntilAt(peer, start, now);
  }

  /**
   * Uptime of a peer over any window, lnd's uptime(start, end): INVALID_RANGE
   * when end is before start or is the zero time.
   */
  uptime(pubkey: string, start: number, end: number): number {
    const monitor = this.monitors.get(pubkey);
    if (monitor === undefined) {
      throw new StoreError('PEER_NOT_FOUND', `peer ${pubkey} not found in event store`);
    }
    const now = this.config.clock.now();
    const horizon = this.horizon(now);
    if (horizon !== undefined && start < horizon && end >= start) {
      return monitor.log.uptime(Math.min(horizon, end), end, now);
    }
    return monitor.log.uptime(start, end, now);
  }

  /**
   * A channel's uptime over [from, to] (to defaults to now), clamped to
   * [openedAt, now]; INVALID_RANGE when to is before from.
   */
  channelUptime(channel: ChannelView, from: number, to?: number): UptimeWindow {
    const now = this.config.clock.now();
    const end = to ?? now;
    if (end < from) {
      throw new StoreError(
        'INVALID_RANGE',
        `window end ${new Date(end).toISOString()} is before its start ${new Date(from).toISOString()}`,
      );
    }
    return this.logWindow(channel.peer, channel.openedAt, from, end, now);
  }

  /**
   * A peer's uptime over [from, to] (to defaults to now) from its log,
   * clamped to the log's start (see peerLogStart) and now; undefined for a
   * peer without a log (no channel). INVALID_RANGE when to is before from.
   */
  peerUptimeWindow(peer: PeerView, from: number, to?: number): UptimeWindow | undefined {
    const now = this.config.clock.now();
    const end = to ?? now;
    if (end < from) {
      throw new StoreError(
        'INVALID_RANGE',
        `window end ${new Date(end).toISOString()} is before its start ${new Date(from).toISOString()}`,
      );
    }
    const start = peerLogStart(peer);
    return start === undefined ? undefined : this.logWindow(peer, start, from, end, now);
  }

  /**
   * A peer's offline periods over [from, to] (defaults: the log's start and
   * now), clamped as peerUptimeWindow clamps; undefined without a log.
   */
  peerOutages(peer: PeerView, from?: number, to?: number): Outages | undefined {
    const now = this.config.clock.now();
    const start = peerLogStart(peer);
    if (start === undefined) return undefined;
    const { lo, hi } = this.clampWindow(start, from ?? start, to ?? now, now);
    return { from: lo, to: hi, periods: hi > lo ? peer.log.offlinePeriods(lo, hi, now) : [] };
  }

  /** At least as many periods as peerOutages lists, in O(log n). */
  peerOutagesBound(peer: PeerView, from?: number, to?: number): number {
    const now = this.config.clock.now();
    const start = peerLogStart(peer);
    if (start === undefined) return 0;
    const { lo, hi } = this.clampWindow(start, from ?? start, to ?? now, now);
    return hi > lo ? peer.log.periodsBound(lo, hi) : 0;
  }

  /** The channel's lifetime alone: observed time since its opening (lnd's now - openedAt without gaps). */
  channelLifetime(channel: ChannelView, now: number): number {
    return channelLifetimeAt(channel, now);
  }

  /** The time since the channel's opening during which its node was not observed. */
  channelUnobserved(channel: ChannelView, now: number = this.config.clock.now()): number {
    return channelUnobservedAt(channel, now);
  }

  /**
   * The observed part of [start, now]: what a window from start holds for a
   * channel opened before it (windowStart), once for all such channels.
   */
  observedSince(start: number, now: number): number {
    return this.observation.observedBetween(start, now);
  }

  private logWindow(
    peer: PeerView,
    start: number,
    from: number,
    end: number,
    now: number,
  ): UptimeWindow {
    const { lo, hi } = this.clampWindow(start, from, end, now);
    if (!(hi > lo)) return { from: lo, to: hi, uptime: 0, observed: 0 };
    return {
      from: lo,
      to: hi,
      uptime: peer.log.uptime(lo, hi, now),
      observed: this.observation.observedBetween(lo, hi),
    };
  }

  /** [from, end] clamped to [start, now] and to the history horizon. */
  private clampWindow(
    start: number,
    from: number,
    end: number,
    now: number,
  ): { lo: number; hi: number } {
    const latest = Math.max(start, now);
    const lo = clamp(Math.max(from, this.horizon(now) ?? from), start, latest);
    return { lo, hi: clamp(end, lo, latest) };
  }

  /** The peer's online periods during the channel's lifetime and the window, oldest first. */
  onlinePeriods(channel: ChannelView, from?: number, to?: number): OnlinePeriod[] {
    const now = this.config.clock.now();
    const [lo, hi] = this.periodWindow(channel, now, from, to);
    if (hi < lo) return [];
    return channel.peer.log.periods(lo, hi, now);
  }

  /** At least as many as onlinePeriods(channel, from, to) returns, in O(log n). */
  onlinePeriodsBound(channel: ChannelView, from?: number, to?: number): number {
    const [lo, hi] = this.periodWindow(channel, this.config.clock.now(), from, to);
    return hi < lo ? 0 : channel.peer.log.periodsBound(lo, hi);
  }

  /** The window onlinePeriods lists: clamped to the channel's lifetime, the horizon and now. */
  private periodWindow(
    channel: ChannelView,
    now: number,
    from: number | undefined,
    to: number | undefined,
  ): [number, number] {
    const lo = Math.max(from ?? channel.openedAt, channel.openedAt, this.horizon(now) ?? -Infinity);
    return [lo, Math.min(to ?? now, now)];
  }
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(Math.max(value, lo), hi);
}
