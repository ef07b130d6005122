/**
 * lnd's channel and peer events as the store needs them, decoded from the JSON
 * lnd's REST API and lncli print (proto field names, enums as strings).
 */

/** lnd's ChannelEventUpdate.UpdateType values. */
export const CHANNEL_EVENT_TYPES = [
  'OPEN_CHANNEL',
  'CLOSED_CHANNEL',
  'ACTIVE_CHANNEL',
  'INACTIVE_CHANNEL',
  'PENDING_OPEN_CHANNEL',
  'FULLY_RESOLVED_CHANNEL',
  'CHANNEL_FUNDING_TIMEOUT',
  'CHANNEL_UPDATE',
] as const;
export type ChannelEventType = (typeof CHANNEL_EVENT_TYPES)[number];

/** lnd's PeerEvent.EventType values. */
export const PEER_EVENT_TYPES = ['PEER_ONLINE', 'PEER_OFFLINE'] as const;
export type PeerEventType = (typeof PEER_EVENT_TYPES)[number];

/** A decoded ChannelEventUpdate. Only opens and closes change the store. */
export type ChannelEventMessage =
  | {
      readonly type: 'OPEN_CHANNEL' | 'CLOSED_CHANNEL';
      /** Remote node pubkey, lower-case hex (66 chars). */
      readonly pubkey: string;
      /** `<funding txid hex>:<output index>`, txid lower-case. */
      readonly channelPoint: string;
      /** Payload timestamp (ms since epoch), when the message has one. */
      readonly timestamp: number | undefined;
    }
  | {
      readonly type: Exclude<ChannelEventType, 'OPEN_CHANNEL' | 'CLOSED_CHANNEL'>;
      readonly timestamp: number | undefined;
    };

/** A decoded PeerEvent. */
export interface PeerEventMessage {
  readonly type: PeerEventType;
  readonly pubkey: string;
  readonly timestamp: number | undefined;
}

/** An open channel of a ListChannelsResponse. */
export interface ListedChannel {
  readonly pubkey: string;
  readonly channelPoint: string;
  /**
   * lnd's own chanfitness figures of the channel, seconds (its `uptime` and
   * `lifetime`, int64 printed as strings): as lnd counts them, from lnd's own
   * start. Left out when the entry lacks them or they are malformed.
   */
  readonly uptimeSeconds?: number;
  readonly lifetimeSeconds?: number;
}

/** The bridge's status of its lnd (SPEC 4.4): lnd's streams connected (up) or dropped (down). */
export interface StatusMessage {
  /** The `type` label of chanfitness_events_total{kind="status"}. */
  readonly type: 'LND_UP' | 'LND_DOWN';
  readonly up: boolean;
  /** The optional `timestamp`, ms since the epoch. */
  readonly timestamp: number | undefined;
}
