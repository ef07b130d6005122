import type { GraphQLResolveInfo } from 'graphql';
import type { Clock } from '../../clock.js';
import { badUserInput, withClientErrors } from '../errors.js';
import type { ListCost } from '../list-cost.js';
import {
  trackedPeer,
  type ChannelRef,
  type OnlinePeriodResult,
  type PeerRef,
  type UptimeWindowResult,
} from '../models.js';

interface UptimeArgs {
  readonly from: number;
  readonly to?: number | null;
}

interface OnlinePeriodsArgs {
  readonly from?: number | null;
  readonly to?: number | null;
}

/** part / whole, or null when whole is empty. */
export function ratioOf(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

export function channelResolvers(clock: Clock, lists: ListCost) {
  return {
    node: (channel: ChannelRef): string => channel.store.node,
    channelPoint: (channel: ChannelRef): string => channel.view.channelPoint,
    peer: (channel: ChannelRef): PeerRef => trackedPeer(channel.store, channel.view.peer),
    openedAt: (channel: ChannelRef): number => channel.view.openedAt,
    lifetimeSeconds: (channel: ChannelRef): number => channel.info.lifetime / 1000,
    uptimeSeconds: (channel: ChannelRef): number => channel.info.uptime / 1000,
    uptimeRatio: (channel: ChannelRef): number | null =>
      ratioOf(channel.info.uptime, channel.info.lifetime),

    uptime: (channel: ChannelRef, args: UptimeArgs): UptimeWindowResult =>
      withClientErrors(() => {
        // An omitted end is now, or the start when that is later: an empty window, not an error.
        const to = args.to ?? Math.max(args.from, clock.now());
        const window = channel.store.channelUptime(channel.view, args.from, to);
        return {
          from: window.from,
          to: window.to,
          uptimeSeconds: window.uptime / 1000,
          ratio: ratioOf(window.uptime, window.to - window.from),
        };
      }),

    onlinePeriods: (
      channel: ChannelRef,
      args: OnlinePeriodsArgs,
      context: unknown,
      info: GraphQLResolveInfo,
    ): OnlinePeriodResult[] =>
      withClientErrors(() => {
        const from = args.from ?? undefined;
        const to = args.to ?? undefined;
        if (from !== undefined && to !== undefined && to < from) {
          throw badUserInput(
            `onlinePeriods: to (${new Date(to).toISOString()}) is before from (${new Date(from).toISOString()})`,
          );
        }
        lists.charge(context, info, channel.store.onlinePeriodsBound(channel.view, from, to));
        return channel.store
          .onlinePeriods(channel.view, from, to)
          .map((period) => ({ start: period.start, end: period.ongoing ? null : period.end }));
      }),
  };
}
