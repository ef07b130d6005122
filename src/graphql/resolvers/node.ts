import type { ChannelEventStore } from '../../store/channel-event-store.js';

/** A Node is its channel event store. */
export const nodeResolvers = {
  id: (store: ChannelEventStore): string => store.node,
  channelCount: (store: ChannelEventStore): number => store.channelCount,
  peerCount: (store: ChannelEventStore): number => store.peerCount,
  onlinePeerCount: (store: ChannelEventStore): number => {
    let online = 0;
    for (const peer of store.peers()) if (peer.online) online++;
    return online;
  },
};
