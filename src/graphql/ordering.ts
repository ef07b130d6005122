import type { ChannelInfo, PeerUptime } from '../store/channel-event-store.js';
import type { ChannelView, PeerView } from '../store/peer-monitor.js';

/** The ChannelOrder enum of the schema. */
export const CHANNEL_ORDERS = [
  'UPTIME_RATIO_ASC',
  'UPTIME_RATIO_DESC',
  'LIFETIME_DESC',
  'FLAP_COUNT_DESC',
] as const;
export type ChannelOrder = (typeof CHANNEL_ORDERS)[number];

/**
 * A channel's place in an order: rank ascending, then node, then channel
 * point, so that no two channels tie and pages are stable.
 */
export interface OrderPosition {
  readonly rank: number;
  readonly node: string;
  readonly channelPoint: string;
}

/** Orders whose rank needs the channel's lifetime and uptime. */
export function rankNeedsInfo(order: ChannelOrder): boolean {
  return order === 'UPTIME_RATIO_ASC' || order === 'UPTIME_RATIO_DESC';
}

/**
 * The rank of a channel in an order, as one number sorted ascending:
 * descending orders negate their value, a missing ratio (lifetime 0) is
 * +Infinity so that it comes last both ways. LIFETIME_DESC ranks by opening
 * time, which orders lifetimes the same way without changing as time passes,
 * so that a cursor keeps its place.
 */
export function rankOf(
  order: ChannelOrder,
  channel: ChannelView,
  info: ChannelInfo | undefined,
): number {
  return rankFrom(order, channel, info?.uptime ?? 0, info?.lifetime ?? 0);
}

/** rankOf, from the channel's uptime and lifetime as channelInfo computes them. */
export function rankFrom(
  order: ChannelOrder,
  channel: ChannelView,
  uptime: number,
  lifetime: number,
): number {
  switch (order) {
    case 'UPTIME_RATIO_ASC':
    case 'UPTIME_RATIO_DESC': {
      if (!(lifetime > 0)) return Number.POSITIVE_INFINITY;
      const ratio = uptime / lifetime;
      return order === 'UPTIME_RATIO_ASC' ? ratio : -ratio;
    }
    case 'LIFETIME_DESC':
      return channel.openedAt;
    case 'FLAP_COUNT_DESC':
      return -channel.peer.flapCount;
  }
}

/** The PeerOrder enum of the schema. */
export const PEER_ORDERS = ['FLAP_COUNT_DESC', 'LAST_FLAP_DESC', 'UPTIME_RATIO_ASC'] as const;
export type PeerOrder = (typeof PEER_ORDERS)[number];

/**
 * The rank of a monitored peer in an order, as rankFrom's: descending orders
 * negate their value, and what a peer lacks (a last flap, a monitored time for
 * a ratio) is +Infinity, last. uptime is needed only by UPTIME_RATIO_ASC.
 */
export function peerRank(order: PeerOrder, peer: PeerView, uptime: PeerUptime | undefined): number {
  switch (order) {
    case 'FLAP_COUNT_DESC':
      return -peer.flapCount;
    case 'LAST_FLAP_DESC':
      return peer.lastFlap === undefined ? Number.POSITIVE_INFINITY : -peer.lastFlap;
    case 'UPTIME_RATIO_ASC':
      return uptime !== undefined && uptime.monitored > 0
        ? uptime.uptime / uptime.monitored
        : Number.POSITIVE_INFINITY;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares two places in a listing's order, given by their parts: rank, then
 * node, then the item's key within its node (a channel point, a pubkey), so
 * that no two items tie.
 */
export function compareRanked(
  rank: number,
  node: string,
  key: string,
  otherRank: number,
  otherNode: string,
  otherKey: string,
): number {
  if (rank !== otherRank) return rank < otherRank ? -1 : 1;
  return compareStrings(node, otherNode) || compareStrings(key, otherKey);
}
