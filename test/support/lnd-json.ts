/** lnd JSON payloads as lnd's REST API prints them, for tests. */
import {
  lndChannel as demoChannel,
  lndChannelPoint as demoChannelPoint,
  lndCloseSummary as demoCloseSummary,
  lndPeer as demoPeer,
  type ChannelFacts,
} from '../../scripts/demo/lnd-json.js';

const encoder = new TextEncoder();

export function bytes(value: unknown): Uint8Array {
  return encoder.encode(typeof value === 'string' ? value : JSON.stringify(value));
}

function withTimestamp(body: Record<string, unknown>, timestamp?: number): Record<string, unknown> {
  return timestamp === undefined ? body : { ...body, timestamp: new Date(timestamp).toISOString() };
}

export function openChannelJson(pubkey: string, channelPoint: string, timestamp?: number) {
  return withTimestamp(
    {
      type: 'OPEN_CHANNEL',
      open_channel: {
        active: true,
        remote_pubkey: pubkey,
        channel_point: channelPoint,
        chan_id: '123456789',
        capacity: '1000000',
      },
    },
    timestamp,
  );
}

export function closedChannelJson(pubkey: string, channelPoint: string, timestamp?: number) {
  return withTimestamp(
    {
      type: 'CLOSED_CHANNEL',
      closed_channel: {
        channel_point: channelPoint,
        remote_pubkey: pubkey,
        close_type: 'COOPERATIVE_CLOSE',
      },
    },
    timestamp,
  );
}

export function peerEventJson(pubkey: string, online: boolean, timestamp?: number) {
  return withTimestamp(
    { pub_key: pubkey, type: online ? 'PEER_ONLINE' : 'PEER_OFFLINE' },
    timestamp,
  );
}

/** The bridge's `<prefix>.<node>.status` (SPEC 4.4): lnd up or down, at a time. */
export function statusJson(up: boolean, timestamp?: number) {
  return withTimestamp({ lnd: up ? 'up' : 'down' }, timestamp);
}

export function listChannelsJson(channels: { pubkey: string; channelPoint: string }[]) {
  return {
    channels: channels.map((c) => ({
      active: true,
      remote_pubkey: c.pubkey,
      channel_point: c.channelPoint,
    })),
  };
}

export function listPeersJson(pubkeys: string[]) {
  return { peers: pubkeys.map((p) => ({ pub_key: p, address: '127.0.0.1:9735', inbound: false })) };
}

// Full lnd messages, with every field lnd prints: built by the demo's builders (one
// source per message shape) from the facts of a test channel or peer, filler values fixed.

/** An lnrpc.Channel as lnd's REST API prints it; the fields tests read typed. */
export type LndChannelJson = Readonly<Record<string, unknown>> & {
  readonly remote_pubkey: string;
  readonly channel_point: string;
  readonly chan_id: string;
};

function channelFacts(remotePubkey: string, channelPoint: string, chanId: string): ChannelFacts {
  const colon = channelPoint.lastIndexOf(':');
  return {
    remotePubkey,
    txid: colon < 0 ? channelPoint : channelPoint.slice(0, colon),
    outputIndex: Number(channelPoint.slice(colon + 1)),
    channelPoint,
    chanId,
    capacity: 1_000_000,
    localBalance: 496_530,
    initiator: false,
    private: false,
  };
}

const CHAN_ID = '869469965136789505';

/** An active lnrpc.Channel (ListChannels entries and OPEN_CHANNEL's open_channel). */
export function lndChannel(
  remotePubkey: string,
  channelPoint: string,
  options: { readonly chanId?: string; readonly memo?: string } = {},
): LndChannelJson {
  const channel = demoChannel(
    channelFacts(remotePubkey, channelPoint, options.chanId ?? CHAN_ID),
    true,
    0,
    0,
  ) as LndChannelJson;
  return options.memo === undefined ? channel : { ...channel, memo: options.memo };
}

/** A cooperative close's lnrpc.ChannelCloseSummary (CLOSED_CHANNEL's closed_channel). */
export function lndCloseSummary(
  remotePubkey: string,
  channelPoint: string,
  chanId = CHAN_ID,
): Record<string, unknown> {
  return demoCloseSummary(
    channelFacts(remotePubkey, channelPoint, chanId),
    'COOPERATIVE_CLOSE',
    'ab'.repeat(32),
    840_123,
  ) as Record<string, unknown>;
}

/** An lnrpc.ChannelPoint (ACTIVE/INACTIVE/FULLY_RESOLVED payloads): the txid as bytes, base64. */
export function lndChannelPoint(channelPoint: string): Record<string, unknown> {
  return demoChannelPoint(channelFacts('', channelPoint, CHAN_ID)) as Record<string, unknown>;
}

/** SubscribeChannelEvents' ChannelEventUpdate of an opened channel, without timestamp. */
export function openChannelEvent(channel: LndChannelJson) {
  return { open_channel: channel, type: 'OPEN_CHANNEL' };
}

/** SubscribeChannelEvents' ChannelEventUpdate of a cooperative close, without timestamp. */
export function closedChannelEvent(remotePubkey: string, channelPoint: string, chanId?: string) {
  return {
    closed_channel: lndCloseSummary(remotePubkey, channelPoint, chanId),
    type: 'CLOSED_CHANNEL',
  };
}

/**
 * An lnrpc.Peer (ListPeers entries). The pubkey may be anything, for tests
 * of bad entries: undefined leaves `pub_key` out, as JSON.stringify does.
 */
export function lndPeer(pubkey: unknown): Record<string, unknown> {
  const peer = demoPeer({
    pubkey: '',
    address: '203.0.113.7:9735',
    inbound: false,
    flapCount: 1,
    lastFlapMs: 1_714_560_000_000,
    pingMicros: 48_211,
  });
  return { ...peer, pub_key: pubkey };
}
