import type { ChannelEventStore, ChannelInfo } from '../store/channel-event-store.js';
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
    private readonly now: number,
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
  readonly ratio: number | null;
}

export interface OnlinePeriodResult {
  readonly start: number;
  readonly end: number | null;
}
