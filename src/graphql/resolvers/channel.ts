import type { GraphQLResolveInfo } from 'graphql';
import type { Clock } from '../../clock.js';
import { checkWindow } from '../arguments.js';
import { withClientErrors } from '../errors.js';
import type { ListCost } from '../list-cost.js';
import {
  periodResult,
  ratioOf,
  trackedPeer,
  uptimeWindowResult,
  type ChannelRef,
  type OnlinePeriodResult,
  type PeerRef,
  type UptimeWindowResult,
} from '../models.js';

/** The arguments of `uptime` (Channel's and Peer's). */
export interface UptimeArgs {
  readonly from: number;
  readonly to?: number | null;
}

/** The arguments of a window with both bounds optional (onlinePeriods, outages, gaps). */
export interface WindowArgs {
  readonly from?: number | null;
  readonly to?: number | null;
}

export function channelResolvers(clock: Clock, lists: ListCost) {
  return {
    node: (channel: ChannelRef): string => channel.store.node,
    channelPoint: (channel: ChannelRef): string => channel.view.channelPoint,
    peer: (channel: ChannelRef): PeerRef => trackedPeer(channel.store, channel.view.peer),
    openedAt: (channel: ChannelRef): number => channel.view.openedAt,
    lifetimeSeconds: (channel: ChannelRef): number => channel.info.lifetime / 1000,
    // At the instant of the lifetime: the two add up to the time since the opening.
    unobservedSeconds: (channel: ChannelRef): number =>
      channel.store.channelUnobserved(channel.view, channel.now) / 1000,
    uptimeSeconds: (channel: ChannelRef): number => channel.info.uptime / 1000,
    uptimeRatio: (channel: ChannelRef): number | null =>
      ratioOf(channel.info.uptime, channel.info.lifetime),

    uptime: (channel: ChannelRef, args: UptimeArgs): UptimeWindowResult =>
      withClientErrors(() => {
        // An omitted end is now, or the start when that is later: an empty window, not an error.
        const to = args.to ?? Math.max(args.from, clock.now());
        return uptimeWindowResult(channel.store.channelUptime(channel.view, args.from, to));
      }),

    onlinePeriods: (
      channel: ChannelRef,
      args: WindowArgs,
      context: unknown,
      info: GraphQLResolveInfo,
    ): OnlinePeriodResult[] =>
      withClientErrors(() => {
        const from = args.from ?? undefined;
        const to = args.to ?? undefined;
        checkWindow('onlinePeriods', from, to);
        lists.charge(context, info, channel.store.onlinePeriodsBound(channel.view, from, to));
        return channel.store.onlinePeriods(channel.view, from, to).map(periodResult);
      }),
  };
}
