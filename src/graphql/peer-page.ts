import type { ChannelEventStore } from '../store/channel-event-store.js';
import type { PeerView } from '../store/peer-monitor.js';
import { KeysetSelection, type SelectedPage } from './keyset-selection.js';
import { peerRank, type PeerOrder } from './ordering.js';

/** A listed peer's place in its order: rank, then node, then pubkey. */
export interface PeerPosition {
  readonly rank: number;
  readonly node: string;
  readonly pubkey: string;
}

export interface PeerPageQuery {
  readonly order: PeerOrder;
  readonly first: number;
  /** Only peers after this position are listed. */
  readonly after: PeerPosition | undefined;
  /** The instant peers are ranked at (uptime ratios move with time). */
  readonly now: number;
}

/** A listed peer. */
export interface PeerPageEntry extends PeerPosition {
  readonly store: ChannelEventStore;
  readonly view: PeerView;
}

/** A page of peers; totalCount counts the monitored peers of the stores. */
export type PeerPage = SelectedPage<PeerPageEntry>;

/**
 * One page of the monitored peers of the stores, in order, selected as
 * channel pages are (KeysetSelection). Only UPTIME_RATIO_ASC reads a peer's
 * log; the other orders rank by fields of the monitor.
 */
export function selectPeerPage(
  stores: Iterable<ChannelEventStore>,
  query: PeerPageQuery,
): PeerPage {
  const { order, now, after } = query;
  const selection = new KeysetSelection<PeerPageEntry>(
    query.first,
    after === undefined ? undefined : { rank: after.rank, node: after.node, key: after.pubkey },
    pubkeyOf,
  );
  const needsUptime = order === 'UPTIME_RATIO_ASC';
  for (const store of stores) {
    const node = store.node;
    for (const view of store.peers()) {
      const rank = peerRank(order, view, needsUptime ? store.peerUptime(view, now) : undefined);
      if (selection.dropped(rank)) continue;
      const pubkey = view.pubkey;
      if (selection.admits(rank, node, pubkey)) {
        selection.add({ rank, node, pubkey, store, view });
      }
    }
  }
  return selection.page();
}

function pubkeyOf(entry: PeerPageEntry): string {
  return entry.pubkey;
}
