import type { GraphQLResolveInfo } from 'graphql';
import type { Clock } from '../../clock.js';
import type { ListCost } from '../list-cost.js';
import { ChannelRef, type PeerRef } from '../models.js';

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
  };
}
