import type { ChannelEventType } from './messages.js';

/**
 * The field of ChannelEventUpdate's `channel` oneof that carries each type
 * (lnrpc/lightning.proto). CHANNEL_UPDATE has no field in any lnd proto we could
 * find: its `channel_update` is this service's guess, optional for that type.
 */
export const CHANNEL_EVENT_FIELD: Readonly<Record<ChannelEventType, string>> = {
  OPEN_CHANNEL: 'open_channel', // lnrpc.Channel
  CLOSED_CHANNEL: 'closed_channel', // lnrpc.ChannelCloseSummary
  ACTIVE_CHANNEL: 'active_channel', // lnrpc.ChannelPoint
  INACTIVE_CHANNEL: 'inactive_channel', // lnrpc.ChannelPoint
  PENDING_OPEN_CHANNEL: 'pending_open_channel', // lnrpc.PendingUpdate
  FULLY_RESOLVED_CHANNEL: 'fully_resolved_channel', // lnrpc.ChannelPoint
  CHANNEL_FUNDING_TIMEOUT: 'channel_funding_timeout', // lnrpc.ChannelPoint
  CHANNEL_UPDATE: 'channel_update',
};
