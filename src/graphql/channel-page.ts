import type { ChannelEventStore, ChannelInfo } from '../store/channel-event-store.js';
import type { ChannelView, PeerView } from '../store/peer-monitor.js';
import {
  comparePositions,
  compareToPosition,
  rankFrom,
  rankNeedsInfo,
  type ChannelOrder,
  type OrderPosition,
} from './ordering.js';

/**
 * Channels of one node's store to list: given one by one, as peers (a peer's
 * part of the uptime computation is then done once for all its channels), or
 * all of the store's (the fastest: the store computes every figure in one
 * pass over its columns).
 */
export type ChannelSource =
  | { readonly store: ChannelEventStore; readonly channels: Iterable<ChannelView> }
  | { readonly store: ChannelEventStore; readonly peers: Iterable<PeerView> }
  | { readonly store: ChannelEventStore; readonly allChannels: true };

export interface PageQuery {
  readonly order: ChannelOrder;
  readonly first: number;
  /** Only channels after this position are listed. */
  readonly after: OrderPosition | undefined;
  /**
   * The instant channels are ranked at (the lifetimes and uptimes of the
   * entries' info are those of this instant).
   */
  readonly now: number;
}

/** A listed channel, with the lifetime and uptime its rank was computed from. */
export interface PageEntry extends OrderPosition {
  readonly store: ChannelEventStore;
  readonly view: ChannelView;
  readonly info: ChannelInfo | undefined;
}

export interface ChannelPage {
  readonly entries: PageEntry[];
  /** Channels of the sources, before the cursor and the page size apply. */
  readonly totalCount: number;
  readonly hasNextPage: boolean;
}

/**
 * One page of channels in order, without sorting them all: each channel's
 * rank is computed once, and only the `first` best after the cursor are kept,
 * in a max-heap (O(n log first) time, O(first) memory). Ranking allocates
 * nothing per channel: the lifetime and uptime a rank comes from become an
 * object only for the channels that enter the heap.
 */
export function selectChannelPage(sources: Iterable<ChannelSource>, query: PageQuery): ChannelPage {
  const selection = new PageSelection(query);
  const needsInfo = rankNeedsInfo(query.order);
  const now = query.now;
  for (const source of sources) {
    const store = source.store;
    if ('allChannels' in source) {
      if (needsInfo) {
        const figures = store.channelUptimes(now);
        const { channels, uptime, lifetime } = figures;
        const order = query.order;
        for (let i = 0; i < figures.count; i++) {
          const u = uptime[i] as number;
          const l = lifetime[i] as number;
          const view = channels[i] as ChannelView;
          // Most channels of a long list are dropped on their rank alone, from the arrays.
          const rank = rankFrom(order, view, u, l);
          if (!selection.dropped(rank)) selection.offerRanked(store, view, u, l, rank);
        }
      } else {
        for (const view of store.channels()) selection.offer(store, view, 0, 0);
      }
    } else if ('peers' in source) {
      for (const peer of source.peers) {
        if (peer.channelCount === 0) continue;
        const untilNow = needsInfo ? store.peerOnlineUntil(peer, now) : 0;
        for (const view of peer.channels()) {
          if (!needsInfo) selection.offer(store, view, 0, 0);
          else
            selection.offer(
              store,
              view,
              store.channelUptimeWith(view, now, untilNow),
              lifetimeAt(view, now),
            );
        }
      }
    } else {
      for (const view of source.channels) {
        if (!needsInfo) selection.offer(store, view, 0, 0);
        else selection.offer(store, view, store.channelUptimeAt(view, now), lifetimeAt(view, now));
      }
    }
  }
  return selection.page();
}

/** As channelInfo: a lifetime that is not positive reads as zero. */
function lifetimeAt(view: ChannelView, now: number): number {
  const age = now - view.openedAt;
  return age > 0 ? age : 0;
}

/** The heap of a page being selected, fed one channel at a time. */
class PageSelection {
  private readonly heap: PageEntry[] = [];
  private totalCount = 0;
  private afterCount = 0;
  private readonly order: ChannelOrder;
  private readonly first: number;
  private readonly after: OrderPosition | undefined;
  private readonly needsInfo: boolean;
  /** Rank of the worst entry once the heap holds `first` (Infinity never rejects). */
  private worstRank = Number.POSITIVE_INFINITY;

  constructor(query: PageQuery) {
    this.order = query.order;
    this.first = query.first;
    this.after = query.after;
    this.needsInfo = rankNeedsInfo(query.order);
  }

  /** A channel, with its uptime and lifetime when the order needs them (0 otherwise). */
  offer(store: ChannelEventStore, view: ChannelView, uptime: number, lifetime: number): void {
    const rank = rankFrom(this.order, view, uptime, lifetime);
    if (!this.dropped(rank)) this.offerRanked(store, view, uptime, lifetime, rank);
  }

  /**
   * Counts and drops a channel that ranks strictly worse than a full page's
   * worst entry (itself after the cursor), as most channels of a long list do.
   */
  dropped(rank: number): boolean {
    if (!(rank > this.worstRank)) return false;
    this.totalCount++;
    this.afterCount++;
    return true;
  }

  /** offer, with the channel's rank computed and not dropped. */
  offerRanked(
    store: ChannelEventStore,
    view: ChannelView,
    uptime: number,
    lifetime: number,
    rank: number,
  ): void {
    this.totalCount++;
    const node = store.node;
    const channelPoint = view.channelPoint;
    const after = this.after;
    if (after !== undefined && compareToPosition(rank, node, channelPoint, after) <= 0) return;
    this.afterCount++;
    const heap = this.heap;
    const first = this.first;
    if (heap.length < first) {
      const info = this.needsInfo ? { lifetime, uptime } : undefined;
      heapPush(heap, { rank, node, channelPoint, store, view, info });
    } else if (first > 0 && compareToPosition(rank, node, channelPoint, heapTop(heap)) < 0) {
      const info = this.needsInfo ? { lifetime, uptime } : undefined;
      heapReplaceTop(heap, { rank, node, channelPoint, store, view, info });
    } else {
      return;
    }
    if (heap.length === first) this.worstRank = heapTop(heap).rank;
  }

  page(): ChannelPage {
    const entries = this.heap.sort(comparePositions);
    return {
      entries,
      totalCount: this.totalCount,
      hasNextPage: this.afterCount > this.first,
    };
  }
}

// A binary max-heap on comparePositions: the worst kept entry is at index 0.

function heapTop(heap: PageEntry[]): PageEntry {
  const top = heap[0];
  if (top === undefined) throw new RangeError('empty heap');
  return top;
}

function heapPush(heap: PageEntry[], entry: PageEntry): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent] as PageEntry;
    if (comparePositions(p, entry) >= 0) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = entry;
}

function heapReplaceTop(heap: PageEntry[], entry: PageEntry): void {
  const n = heap.length;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) break;
    const right = left + 1;
    let child = left;
    let c = heap[left] as PageEntry;
    if (right < n) {
      const r = heap[right] as PageEntry;
      if (comparePositions(r, c) > 0) {
        child = right;
        c = r;
      }
    }
    if (comparePositions(c, entry) <= 0) break;
    heap[i] = c;
    i = child;
  }
  heap[i] = entry;
}
