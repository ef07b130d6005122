import type { GraphQLResolveInfo } from 'graphql';
import type { Clock } from '../../clock.js';
import { checkWindow } from '../arguments.js';
import { withClientErrors } from '../errors.js';
import type { ListCost } from '../list-cost.js';
import {
  ChannelRef,
  OutagesRef,
  uptimeWindowResult,
  type PeerRef,
  type UptimeWindowResult,
} from '../models.js';
import type { UptimeArgs, WindowArgs } from './channel.js';

function byChannelPoint(a: ChannelRef, b: ChannelRef): number {
  const x = a.view.channelPoint;
  const y = b.view.channelPoint;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function peerResolvers(clock: Clock, lists: ListCost) {
  return {
    node: (peer: PeerRef): string => peer.node,
    pubkey: (peer: PeerRef): string => peer.pubkey,
    tracked: (peer: PeerRef): boolean => peer.view !== undefined,
    online: (peer: PeerRef): boolean | null => {
      if (peer.view !== undefined) return peer.view.online;
      return peer.store?.connectivity(peer.pubkey) ?? null;
    },
    flapCount: (peer: PeerRef): number =>
      peer.view === undefined ? peer.record.count : peer.view.flapCount,
    lastFlap: (peer: PeerRef): number | null =>
      (peer.view === undefined ? peer.record.lastFlap : peer.view.lastFlap) ?? null,
    channels: (
      peer: PeerRef,
      _args: unknown,
      context: unknown,
      info: GraphQLResolveInfo,
    ): ChannelRef[] => {
      if (peer.view === undefined) return [];
      lists.charge(context, info, peer.view.channelCount);
      const now = clock.now();
      const refs: ChannelRef[] = [];
      for (const view of peer.view.channels()) refs.push(new ChannelRef(peer.store, view, now));
      return refs.sort(byChannelPoint);
    },

    uptime: (peer: PeerRef, args: UptimeArgs): UptimeWindowResult | null =>
      withClientErrors(() => {
        // Refused alike whether the peer has a log or not.
        checkWindow('uptime', args.from, args.to);
        // Only a monitored peer has a log (one known from its persisted record has none).
        if (peer.view === undefined) return null;
        // An omitted end is now, or the start when that is later: an empty window, not an error.
        const to = args.to ?? Math.max(args.from, clock.now());
        const window = peer.store.peerUptimeWindow(peer.view, args.from, to);
        return window === undefined ? null : uptimeWindowResult(window);
      }),

    outages: (peer: PeerRef, args: WindowArgs): OutagesRef | null =>
      withClientErrors(() => {
        checkWindow('outages', args.from, args.to);
        if (peer.view === undefined) return null;
        const outages = peer.store.peerOutages(
          peer.view,
          args.from ?? undefined,
          args.to ?? undefined,
        );
        return outages === undefined ? null : new OutagesRef(outages.periods);
      }),
  };
}
