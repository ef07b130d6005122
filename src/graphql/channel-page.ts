import type { ChannelEventStore, ChannelInfo } from '../store/channel-event-store.js';
import type { ChannelView } from '../store/peer-monitor.js';
import {
  comparePositions,
  compareToPosition,
  rankNeedsInfo,
  rankOf,
  type ChannelOrder,
  type OrderPosition,
} from './ordering.js';

/** Channels of one node's store to list (all of them, or one peer's). */
export interface ChannelSource {
  readonly store: ChannelEventStore;
  readonly channels: Iterable<ChannelView>;
}

export interface PageQuery {
  readonly order: ChannelOrder;
  readonly first: number;
  /** Only channels after this position are listed. */
  readonly after: OrderPosition | undefined;
  /** The instant every lifetime and uptime of the page is computed at. */
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
 * in a max-heap (O(n log first) time, O(first) memory).
 */
export function selectChannelPage(sources: Iterable<ChannelSource>, query: PageQuery): ChannelPage {
  const { order, first, after, now } = query;
  const needsInfo = rankNeedsInfo(order);
  const heap: PageEntry[] = [];
  let totalCount = 0;
  let afterCount = 0;
  for (const { store, channels } of sources) {
    const node = store.node;
    for (const view of channels) {
      totalCount++;
      const info = needsInfo ? store.channelInfo(view, now) : undefined;
      const rank = rankOf(order, view, info);
      const channelPoint = view.channelPoint;
      if (after !== undefined && compareToPosition(rank, node, channelPoint, after) <= 0) continue;
      afterCount++;
      if (heap.length < first) {
        heapPush(heap, { rank, node, channelPoint, store, view, info });
      } else if (first > 0 && compareToPosition(rank, node, channelPoint, heapTop(heap)) < 0) {
        heapReplaceTop(heap, { rank, node, channelPoint, store, view, info });
      }
    }
  }
  heap.sort(comparePositions);
  return { entries: heap, totalCount, hasNextPage: afterCount > first };
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
