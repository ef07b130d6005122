import type { GraphQLResolveInfo } from 'graphql';
import type { Clock } from '../../clock.js';
import type { ChannelEventStore } from '../../store/channel-event-store.js';
import type { NodeStores } from '../../store/node-stores.js';
import type { FlapRecord } from '../../store/peer-monitor.js';
import { chooseNode, pageSize, parseChannelPoint, parsePubkey } from '../arguments.js';
import { selectChannelPage, type ChannelSource } from '../channel-page.js';
import {
  analyseClose,
  closePolicy,
  type CloseCandidateOrder,
  type ClosePolicyArgs,
} from '../close-recommendations.js';
import {
  decodeCloseCandidateCursor,
  decodeCursor,
  decodePeerCursor,
  encodeCloseCandidateCursor,
  encodeCursor,
  encodePeerCursor,
} from '../cursor.js';
import { ApiError, withClientErrors } from '../errors.js';
import {
  ChannelRef,
  persistedPeer,
  trackedPeer,
  type ChannelConnectionResult,
  type CloseRecommendationsResult,
  type PeerConnectionResult,
  type PeerRef,
} from '../models.js';
import type { ListCost } from '../list-cost.js';
import type { ChannelOrder, PeerOrder } from '../ordering.js';
import { selectPeerPage } from '../peer-page.js';

/** What the Query resolvers read. */
export interface QueryDeps {
  readonly stores: NodeStores;
  readonly clock: Clock;
  /** A peer's persisted flap record (undefined when none), for peers not in memory. */
  readonly readPersistedFlapRecord: (
    node: string,
    pubkey: string,
  ) => Promise<FlapRecord | undefined>;
  /**
   * The peer of a channel whose open is held while that peer's flap record is
   * read (src/ingest/record-gate.ts), or undefined: the peer is not monitored
   * yet (lnd's "peer not found"). None: no open is ever held.
   */
  readonly heldChannelPeer?: (node: string, channelPoint: string) => string | undefined;
  /** The default page size of `channels` and `peers`. */
  readonly defaultPageSize: number;
  /** The largest page size of `channels` and `peers`; larger requests are capped to it. */
  readonly maxPageSize: number;
  /** Lists without a page size count their real size against the cost limit. */
  readonly lists: ListCost;
}

interface ChannelArgs {
  readonly channelPoint: string;
  readonly node?: string | null;
}

interface ChannelsArgs {
  readonly node?: string | null;
  readonly peer?: string | null;
  readonly orderBy?: ChannelOrder | null;
  readonly first?: number | null;
  readonly after?: string | null;
}

interface PeerArgs {
  readonly pubkey: string;
  readonly node?: string | null;
}

interface PeersArgs {
  readonly node?: string | null;
  readonly orderBy?: PeerOrder | null;
  readonly first?: number | null;
  readonly after?: string | null;
}

interface CloseRecommendationsArgs extends ClosePolicyArgs {
  readonly node?: string | null;
  readonly orderBy?: CloseCandidateOrder | null;
  readonly first?: number | null;
  readonly after?: string | null;
}

function byNodeId(a: ChannelEventStore, b: ChannelEventStore): number {
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** The stores `channels` and `peers` list from: one node's, or every node's when none is named. */
function storesToList(
  stores: NodeStores,
  node: string | null | undefined,
): Iterable<ChannelEventStore> {
  if (node === null || node === undefined) return stores.values();
  const store = stores.get(node);
  if (store === undefined) throw new ApiError('NODE_NOT_FOUND', `node ${node} is not tracked`);
  return [store];
}

/** Each store's channels, or only those with one peer (read from the peer, not by scanning). */
function* channelSources(
  stores: Iterable<ChannelEventStore>,
  pubkey: string | undefined,
): Generator<ChannelSource> {
  for (const store of stores) {
    if (pubkey === undefined) {
      yield { store, allChannels: true };
      continue;
    }
    const peer = store.peer(pubkey);
    if (peer !== undefined) yield { store, peers: [peer] };
  }
}

/** A page's pageInfo, its end cursor encoded only when asked for (and then once). */
function pageInfo<E>(
  page: { readonly entries: readonly E[]; readonly hasNextPage: boolean },
  encode: (last: E) => string,
): { readonly endCursor: string | null; readonly hasNextPage: boolean } {
  const last = page.entries.at(-1);
  let endCursor: string | null | undefined;
  return {
    get endCursor(): string | null {
      return (endCursor ??= last === undefined ? null : encode(last));
    },
    hasNextPage: page.hasNextPage,
  };
}

export function queryResolvers(deps: QueryDeps) {
  const { stores, clock } = deps;

  /**
   * What every paginated listing reads of its arguments: its order, its page
   * size, its cursor decoded (refused when malformed, of another order or
   * listing, or from the future), and the instant its pages are ranked at:
   * the first page's, kept by its cursors.
   */
  const pageRequest = <O extends string, C extends { readonly at: number }>(
    args: {
      readonly orderBy?: O | null;
      readonly first?: number | null;
      readonly after?: string | null;
    },
    defaultOrder: O,
    decode: (text: string, order: O, now: number) => C,
  ): { order: O; first: number; after: C | undefined; now: number; rankedAt: number } => {
    const order = args.orderBy ?? defaultOrder;
    const first = pageSize(args.first, deps.defaultPageSize, deps.maxPageSize);
    const now = clock.now();
    const after =
      args.after === null || args.after === undefined ? undefined : decode(args.after, order, now);
    return { order, first, after, now, rankedAt: after?.at ?? now };
  };
  return {
    nodes: (
      _: unknown,
      _args: unknown,
      context: unknown,
      info: GraphQLResolveInfo,
    ): ChannelEventStore[] => {
      deps.lists.charge(context, info, stores.size);
      return [...stores.values()].sort(byNodeId);
    },

    channel: (_: unknown, args: ChannelArgs): ChannelRef =>
      withClientErrors(() => {
        const channelPoint = parseChannelPoint(args.channelPoint);
        const { node, store } = chooseNode(stores, args.node);
        if (store === undefined) {
          throw new ApiError('NODE_NOT_FOUND', `node ${node} is not tracked`);
        }
        const view = store.channel(channelPoint);
        const waitingPeer =
          view === undefined ? deps.heldChannelPeer?.(store.node, channelPoint) : undefined;
        if (waitingPeer !== undefined) {
          throw new ApiError(
            'PEER_NOT_FOUND',
            `peer ${waitingPeer} of channel ${channelPoint} is not monitored yet (its flap record is being read)`,
          );
        }
        if (view === undefined) {
          throw new ApiError(
            'CHANNEL_NOT_FOUND',
            `channel ${channelPoint} not found in the event store of node ${node}`,
          );
        }
        return new ChannelRef(store, view, clock.now());
      }),

    channels: (_: unknown, args: ChannelsArgs): ChannelConnectionResult =>
      withClientErrors(() => {
        const { order, first, after, now, rankedAt } = pageRequest(
          args,
          'UPTIME_RATIO_ASC',
          decodeCursor,
        );
        const pubkey =
          args.peer === null || args.peer === undefined
            ? undefined
            : parsePubkey(args.peer, 'peer');
        // Every page of a listing is ranked at its first page's instant (see
        // ChannelCursor.at), so that no channel is listed twice or never; the
        // figures returned are computed at now, as for any other query.
        const page = selectChannelPage(channelSources(storesToList(stores, args.node), pubkey), {
          order,
          first,
          after,
          now: rankedAt,
        });
        return {
          nodes: page.entries.map(
            (entry) =>
              new ChannelRef(
                entry.store,
                entry.view,
                now,
                rankedAt === now ? entry.info : undefined,
              ),
          ),
          totalCount: page.totalCount,
          pageInfo: pageInfo(page, (last) =>
            encodeCursor({
              order,
              rank: last.rank,
              node: last.node,
              channelPoint: last.channelPoint,
              at: rankedAt,
            }),
          ),
        };
      }),

    peer: (_: unknown, args: PeerArgs): Promise<PeerRef | null> =>
      withClientErrors(async () => {
        const pubkey = parsePubkey(args.pubkey);
        const { node, store } = chooseNode(stores, args.node);
        const view = store?.peer(pubkey);
        if (store !== undefined && view !== undefined) return trackedPeer(store, view);
        let record: FlapRecord | undefined;
        try {
          record = await deps.readPersistedFlapRecord(node, pubkey);
        } catch {
          // Not its details, which may name the store's host: chanfitness_store_up shows the outage.
          throw new ApiError(
            'STORE_UNAVAILABLE',
            `peer ${pubkey} is not monitored on node ${node} and the store of persisted flap records cannot be read now; try again later`,
          );
        }
        return record === undefined ? null : persistedPeer(node, pubkey, store, record);
      }),

    peers: (_: unknown, args: PeersArgs): PeerConnectionResult =>
      withClientErrors(() => {
        // Ranked at the first page's instant, as channels are (see PeerCursor.at).
        const { order, first, after, rankedAt } = pageRequest(
          args,
          'FLAP_COUNT_DESC',
          decodePeerCursor,
        );
        const page = selectPeerPage(storesToList(stores, args.node), {
          order,
          first,
          after,
          now: rankedAt,
        });
        return {
          nodes: page.entries.map((entry) => trackedPeer(entry.store, entry.view)),
          totalCount: page.totalCount,
          pageInfo: pageInfo(page, (last) =>
            encodePeerCursor({
              order,
              rank: last.rank,
              node: last.node,
              pubkey: last.pubkey,
              at: rankedAt,
            }),
          ),
        };
      }),

    closeRecommendations: (
      _: unknown,
      args: CloseRecommendationsArgs,
    ): CloseRecommendationsResult =>
      withClientErrors(() => {
        const policy = closePolicy(args);
        // Every page recomputes the analysis at the first page's instant: the quartiles and
        // recommendations of all pages agree, and no ratio drifts past the cursor.
        const {
          order,
          first,
          after,
          now,
          rankedAt: at,
        } = pageRequest(args, 'RATIO_ASC', decodeCloseCandidateCursor);
        const { nodes, page } = analyseClose(storesToList(stores, args.node), policy, {
          order,
          first,
          after:
            after === undefined
              ? undefined
              : { rank: after.rank, node: after.node, key: after.channelPoint },
          at,
        });
        return {
          mode: policy.threshold === undefined ? 'OUTLIER' : 'THRESHOLD',
          computedAt: at,
          byNode: nodes,
          considered: {
            nodes: page.entries.map((entry) => ({
              // Its figures at now, as every Channel's; the ratio is the analysis'.
              channel: new ChannelRef(
                entry.store,
                entry.view,
                now,
                at === now ? entry.info : undefined,
              ),
              ratio: entry.ratio,
              recommended: entry.recommended,
            })),
            totalCount: page.totalCount,
            pageInfo: pageInfo(page, (last) =>
              encodeCloseCandidateCursor({
                order,
                rank: last.rank,
                node: last.node,
                channelPoint: last.channelPoint,
                at,
              }),
            ),
          },
        };
      }),
  };
}
