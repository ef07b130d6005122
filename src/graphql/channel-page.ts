import type { ChannelEventStore, ChannelInfo } from '../store/channel-event-store.js';
import { channelLifetimeAt } from '../store/channel-info.js';
import type { ChannelUptimes } from '../store/channel-uptimes.js';
import type { ChannelView, PeerView } from '../store/peer-monitor.js';
import { KeysetSelection, type SelectedPage } from './keyset-selection.js';
import { rankFrom, rankNeedsInfo, type ChannelOrder, type OrderPosition } from './ordering.js';

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
  /**
   * For tests: how a page's worst rank is estimated from a store's figures
   * (PageSelection.ratioBound): the number of channels sampled, and which
   * smallest sampled rank is taken (by default about twice a page's worth).
   */
  readonly bound?: { readonly sample: number; readonly keep?: number };
}

/** Channels sampled to estimate a page's worst rank; a few microseconds for any list. */
const BOUND_SAMPLE = 512;

/** A listed channel, with the lifetime and uptime its rank was computed from. */
export interface PageEntry extends OrderPosition {
  readonly store: ChannelEventStore;
  readonly view: ChannelView;
  readonly info: ChannelInfo | undefined;
}

/** A page of channels; totalCount counts the channels of the sources. */
export type ChannelPage = SelectedPage<PageEntry>;

/**
 * One page of channels in order, without sorting them all (KeysetSelection):
 * each channel's rank is computed once. Ranking allocates nothing per
 * channel: the lifetime and uptime a rank comes from become an object only
 * for the channels that enter the page.
 */
export function selectChannelPage(sources: Iterable<ChannelSource>, query: PageQuery): ChannelPage {
  const selection = new PageSelection(query);
  const needsInfo = rankNeedsInfo(query.order);
  const now = query.now;
  for (const source of sources) {
    const store = source.store;
    if ('allChannels' in source) {
      if (needsInfo) {
        selection.offerRatios(store, store.channelUptimes(now));
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

/** rankFrom for the uptime ratio orders: the ratio (negated descending), +Infinity without a lifetime. */
function ratioRank(uptime: number, lifetime: number, descending: boolean): number {
  if (!(lifetime > 0)) return Number.POSITIVE_INFINITY;
  return descending ? -(uptime / lifetime) : uptime / lifetime;
}

/**
 * For the ratios of channels, uptime u over lifetime l: a factor such that u >
 * limit * l (ascending), or u < limit * l (descending), proves that the rank,
 * as ratioRank computes it, is strictly above worst. The relative margin of
 * 1e-12 is far more than the rounding of the division and the two
 * multiplications (a few 1e-16): channels that close to worst go the exact
 * way. With worst infinite nothing is proven (the products are infinite or NaN).
 */
function ratioLimit(worst: number, descending: boolean): number {
  return descending ? -worst * (1 - 1e-12) : worst * (1 + 1e-12);
}

/**
 * The channel's lifetime at now as channelInfo computes it, allocating
 * nothing: its observed time since the opening (see Node.gaps), zero for an
 * opening not before now.
 */
export function lifetimeAt(view: ChannelView, now: number): number {
  return now - view.openedAt > 0 ? channelLifetimeAt(view, now) : 0;
}

/** The page being selected, fed one channel at a time. */
class PageSelection {
  private readonly selection: KeysetSelection<PageEntry>;
  private readonly order: ChannelOrder;
  private readonly first: number;
  private readonly after: OrderPosition | undefined;
  private readonly needsInfo: boolean;
  private readonly boundSample: number;
  private readonly boundKeep: number | undefined;

  constructor(query: PageQuery) {
    this.order = query.order;
    this.first = query.first;
    const after = query.after;
    this.after = after;
    this.selection = new KeysetSelection<PageEntry>(
      query.first,
      after === undefined
        ? undefined
        : { rank: after.rank, node: after.node, key: after.channelPoint },
      channelPointOf,
    );
    this.needsInfo = rankNeedsInfo(query.order);
    this.boundSample = query.bound?.sample ?? BOUND_SAMPLE;
    this.boundKeep = query.bound?.keep;
  }

  /** A channel, with its uptime and lifetime when the order needs them (0 otherwise). */
  offer(store: ChannelEventStore, view: ChannelView, uptime: number, lifetime: number): void {
    const rank = rankFrom(this.order, view, uptime, lifetime);
    if (!this.selection.dropped(rank)) this.offerRanked(store, view, uptime, lifetime, rank);
  }

  /**
   * Every channel of a store's figures, for an order by uptime ratio, in one
   * tight loop over the figures' arrays: most channels of a long list rank
   * strictly worse than a full page's worst entry (itself after the cursor)
   * and are only counted, without a call or a look at their objects.
   *
   * A full page's worst rank is not known until the heap is full, and while
   * it tightens most of the channels that enter the heap leave it again (in a
   * list in no particular order, about first * (1 + ln(count / first)) enter:
   * 560 for a page of 100 out of 10,000). So the loop first drops what ranks
   * above an estimate of that rank, from a sample (ratioBound), and only if
   * fewer than a page's worth of channels came out at or below it (the
   * estimate was too low: rare) does it offer the channels above it too.
   */
  offerRatios(store: ChannelEventStore, figures: ChannelUptimes): void {
    const { channels, uptime, lifetime, count } = figures;
    const selection = this.selection;
    const descending = this.order === 'UPTIME_RATIO_DESC';
    const bound = this.ratioBound(figures, descending);
    let worst = Math.min(selection.worstRank, bound);
    let limit = ratioLimit(worst, descending);
    let dropped = 0;
    for (let i = 0; i < count; i++) {
      const l = lifetime[i] as number;
      const u = uptime[i] as number;
      // A division costs several times a multiplication: most channels are
      // dropped on a multiplication that proves their rank above the worst.
      if (descending ? u < limit * l : u > limit * l) {
        dropped++;
        continue;
      }
      const rank = ratioRank(u, l, descending);
      if (rank > worst) {
        dropped++;
        continue;
      }
      this.offerRanked(store, channels[i] as ChannelView, u, l, rank);
      worst = Math.min(selection.worstRank, bound);
      limit = ratioLimit(worst, descending);
    }
    if (bound !== Number.POSITIVE_INFINITY && !(selection.isFull && selection.worstRank <= bound)) {
      // Every channel above the bound was dropped: offer them after all.
      for (let i = 0; i < count; i++) {
        const l = lifetime[i] as number;
        const u = uptime[i] as number;
        const rank = ratioRank(u, l, descending);
        if (!(rank > bound)) continue;
        dropped--;
        if (!selection.dropped(rank)) {
          this.offerRanked(store, channels[i] as ChannelView, u, l, rank);
        }
      }
    }
    selection.countDropped(dropped);
  }

  /**
   * An estimate of the worst rank of the page among a store's figures (by
   * uptime ratio), at least the rank of some channel after the cursor:
   * the (2 * first / stride + 2)-th smallest rank after the cursor among every
   * stride-th channel, so that about twice a page of channels rank at or below
   * it. +Infinity when the list is too short for an estimate to pay off.
   */
  private ratioBound(figures: ChannelUptimes, descending: boolean): number {
    const { uptime, lifetime, count } = figures;
    const first = this.first;
    if (first === 0 || count < 4 * first) return Number.POSITIVE_INFINITY;
    const stride = Math.max(1, Math.floor(count / this.boundSample));
    const keep = this.boundKeep ?? Math.ceil((2 * first) / stride) + 2;
    // The smallest ranks sampled, ascending.
    const smallest = new Float64Array(keep);
    let size = 0;
    const afterRank = this.after?.rank ?? Number.NEGATIVE_INFINITY;
    for (let i = 0; i < count; i += stride) {
      const rank = ratioRank(uptime[i] as number, lifetime[i] as number, descending);
      // Ranks equal to the cursor's may be before it: not counted.
      if (!(rank > afterRank)) continue;
      if (size === keep && !(rank < (smallest[keep - 1] as number))) continue;
      let j = size < keep ? size++ : keep - 1;
      while (j > 0 && (smallest[j - 1] as number) > rank) {
        smallest[j] = smallest[j - 1] as number;
        j--;
      }
      smallest[j] = rank;
    }
    return size === keep ? (smallest[keep - 1] as number) : Number.POSITIVE_INFINITY;
  }

  /** offer, with the channel's rank computed and not dropped. */
  offerRanked(
    store: ChannelEventStore,
    view: ChannelView,
    uptime: number,
    lifetime: number,
    rank: number,
  ): void {
    const node = store.node;
    const channelPoint = view.channelPoint;
    if (!this.selection.admits(rank, node, channelPoint)) return;
    const info = this.needsInfo ? { lifetime, uptime } : undefined;
    this.selection.add({ rank, node, channelPoint, store, view, info });
  }

  page(): ChannelPage {
    return this.selection.page();
  }
}

function channelPointOf(entry: PageEntry): string {
  return entry.channelPoint;
}
