import type { ChannelEventStore, ChannelInfo, UptimeWindow } from '../store/channel-event-store.js';
import type { GapReason } from '../store/node-observation.js';
import type { OnlinePeriod } from '../store/online-log.js';
import type { ChannelView, FlapRecord, PeerView } from '../store/peer-monitor.js';
import type { CloseMode, NodeCloseAnalysis } from './close-recommendations.js';

/**
 * A Channel as resolvers see it: the store's view plus its lifetime and
 * uptime at the query's instant (now), computed once and shared by
 * lifetimeSeconds, uptimeSeconds and uptimeRatio so that they agree. info,
 * when given, must be the figures of that same instant.
 */
export class ChannelRef {
  private cachedInfo: ChannelInfo | undefined;

  constructor(
    readonly store: ChannelEventStore,
    readonly view: ChannelView,
    /** The query's instant: every figure of the channel is of this instant. */
    readonly now: number,
    info?: ChannelInfo,
  ) {
    this.cachedInfo = info;
  }

  get info(): ChannelInfo {
    return (this.cachedInfo ??= this.store.channelInfo(this.view, this.now));
  }
}

/**
 * A Peer as resolvers see it: a monitored peer (view), or one known only from
 * its persisted flap record; store is absent when the node is not tracked.
 */
export type PeerRef =
  | {
      readonly node: string;
      readonly pubkey: string;
      readonly store: ChannelEventStore;
      readonly view: PeerView;
    }
  | {
      readonly node: string;
      readonly pubkey: string;
      readonly store: ChannelEventStore | undefined;
      readonly view: undefined;
      readonly record: FlapRecord;
    };

export function trackedPeer(store: ChannelEventStore, view: PeerView): PeerRef {
  return { node: store.node, pubkey: view.pubkey, store, view };
}

export function persistedPeer(
  node: string,
  pubkey: string,
  store: ChannelEventStore | undefined,
  record: FlapRecord,
): PeerRef {
  return { node, pubkey, store, view: undefined, record };
}

/** A page of a connection (ChannelConnection, PeerConnection). */
export interface ConnectionResult<T> {
  readonly nodes: T[];
  readonly totalCount: number;
  readonly pageInfo: { readonly endCursor: string | null; readonly hasNextPage: boolean };
}

/** A page of the channels connection. */
export type ChannelConnectionResult = ConnectionResult<ChannelRef>;

/** A page of the peers connection. */
export type PeerConnectionResult = ConnectionResult<PeerRef>;

/** The answer of `closeRecommendations`: the analysis of every node and a page of candidates. */
export interface CloseRecommendationsResult {
  readonly mode: CloseMode;
  /** The instant the ratios were computed at. */
  readonly computedAt: number;
  readonly byNode: readonly NodeCloseAnalysis[];
  readonly considered: ConnectionResult<CloseCandidateResult>;
}

/** A considered channel: its ratio in the analysis and whether it is recommended for close. */
export interface CloseCandidateResult {
  readonly channel: ChannelRef;
  readonly ratio: number;
  readonly recommended: boolean;
}

export interface UptimeWindowResult {
  readonly from: number;
  readonly to: number;
  readonly uptimeSeconds: number;
  readonly unobservedSeconds: number;
  readonly ratio: number | null;
}

/** part / whole, or null when whole is empty. */
export function ratioOf(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/**
 * An UptimeWindow from the store's clamped window: what was not observed of
 * it is neither uptime nor downtime, and the ratio is over the observed part.
 */
export function uptimeWindowResult(window: UptimeWindow): UptimeWindowResult {
  const length = window.to - window.from;
  return {
    from: window.from,
    to: window.to,
    uptimeSeconds: window.uptime / 1000,
    unobservedSeconds: Math.max(0, length - window.observed) / 1000,
    ratio: ratioOf(window.uptime, window.observed),
  };
}

/** An OnlinePeriod or an OfflinePeriod: end null while it lasts. */
export interface OnlinePeriodResult {
  readonly start: number;
  readonly end: number | null;
}

/** A store's period as the API shows it: an ongoing one has no end. */
export function periodResult(period: OnlinePeriod): OnlinePeriodResult {
  return { start: period.start, end: period.ongoing ? null : period.end };
}

/** A Gap of a node's observation. */
export interface GapResult {
  readonly start: number;
  readonly end: number | null;
  readonly reason: GapReason;
}

/**
 * A peer's Outages over a window: its offline periods as the store lists
 * them (clipped to the window, oldest first, an ongoing one up to the
 * window's end), with figures of their durations computed once, when asked.
 */
export class OutagesRef {
  private sortedDurations: Float64Array | undefined;

  constructor(readonly periods: readonly OnlinePeriod[]) {}

  get count(): number {
    return this.periods.length;
  }

  /** Durations in ms, ascending. */
  get durations(): Float64Array {
    if (this.sortedDurations === undefined) {
      const durations = new Float64Array(this.periods.length);
      this.periods.forEach((period, i) => {
        durations[i] = period.end - period.start;
      });
      this.sortedDurations = durations.sort();
    }
    return this.sortedDurations;
  }
}
