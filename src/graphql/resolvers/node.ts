import type { GraphQLResolveInfo } from 'graphql';
import type { Clock } from '../../clock.js';
import type { ChannelEventStore } from '../../store/channel-event-store.js';
import { checkWindow } from '../arguments.js';
import { withClientErrors } from '../errors.js';
import type { ListCost } from '../list-cost.js';
import type { GapResult } from '../models.js';
import type { WindowArgs } from './channel.js';

/** A Node is its channel event store. */
export function nodeResolvers(clock: Clock, lists: ListCost) {
  return {
    id: (store: ChannelEventStore): string => store.node,
    channelCount: (store: ChannelEventStore): number => store.channelCount,
    peerCount: (store: ChannelEventStore): number => store.peerCount,
    onlinePeerCount: (store: ChannelEventStore): number => {
      let online = 0;
      for (const peer of store.peers()) if (peer.online) online++;
      return online;
    },

    // A settling gap whose end has come is over, as gaps() shows it, even before
    // the store's next event or tick applies its end.
    observed: (store: ChannelEventStore): boolean => store.observedAt(clock.now()),

    gaps: (
      store: ChannelEventStore,
      args: WindowArgs,
      context: unknown,
      info: GraphQLResolveInfo,
    ): GapResult[] =>
      withClientErrors(() => {
        checkWindow('gaps', args.from, args.to);
        const from = args.from ?? Number.NEGATIVE_INFINITY;
        // An omitted end is now, or the start when that is later.
        const to = args.to ?? Math.max(from, clock.now());
        const bound = store.observation.gapsBound(from, to);
        lists.charge(context, info, bound);
        return store.gaps(from, to, bound).map((gap) => ({
          start: gap.start,
          end: gap.end ?? null,
          reason: gap.reason,
        }));
      }),
  };
}
