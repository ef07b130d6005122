/** lnd JSON payloads as lnd's REST API prints them, for tests. */

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
