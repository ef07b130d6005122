/**
 * lnd's messages as its REST API prints them (proto field names, int64 as
 * strings, bytes as base64, enums as strings), built from the simulation's state.
 */

/** A channel as the simulation knows it. */
export interface ChannelFacts {
  readonly remotePubkey: string;
  readonly txid: string;
  readonly outputIndex: number;
  readonly channelPoint: string;
  readonly chanId: string;
  readonly capacity: number;
  readonly localBalance: number;
  readonly initiator: boolean;
  readonly private: boolean;
}

const COMMIT_FEE = 2810;
const ANCHOR_VALUE = 330;

/** lnrpc.ChannelConstraints of one side of a channel (uint64 as strings, uint32 as numbers). */
function lndChannelConstraints(capacity: number): object {
  return {
    csv_delay: 144,
    chan_reserve_sat: String(Math.floor(capacity / 100)),
    dust_limit_sat: '354',
    max_pending_amt_msat: String(capacity * 990),
    min_htlc_msat: '1',
    max_accepted_htlcs: 483,
  };
}

/**
 * lnrpc.Channel (ListChannels entries and OPEN_CHANNEL's open_channel), every field
 * in lnd's order as its REST API prints it (lnd v0.18 to v0.20: unset fields included).
 */
export function lndChannel(
  channel: ChannelFacts,
  active: boolean,
  lifetimeSeconds: number,
  uptimeSeconds: number,
): object {
  const reserve = Math.floor(channel.capacity / 100);
  const localFees = channel.initiator ? COMMIT_FEE + 2 * ANCHOR_VALUE : 0;
  return {
    active,
    remote_pubkey: channel.remotePubkey,
    channel_point: channel.channelPoint,
    chan_id: channel.chanId,
    capacity: String(channel.capacity),
    local_balance: String(channel.localBalance),
    remote_balance: String(channel.capacity - channel.localBalance - localFees),
    commit_fee: String(channel.initiator ? COMMIT_FEE : 0),
    commit_weight: '1116',
    fee_per_kw: '2500',
    unsettled_balance: '0',
    total_satoshis_sent: '0',
    total_satoshis_received: '0',
    num_updates: '0',
    pending_htlcs: [],
    csv_delay: 144,
    private: channel.private,
    initiator: channel.initiator,
    chan_status_flags: 'ChanStatusDefault',
    local_chan_reserve_sat: String(reserve),
    remote_chan_reserve_sat: String(reserve),
    static_remote_key: false,
    commitment_type: 'ANCHORS',
    lifetime: String(Math.floor(lifetimeSeconds)),
    uptime: String(Math.floor(uptimeSeconds)),
    close_address: '',
    push_amount_sat: '0',
    thaw_height: 0,
    local_constraints: lndChannelConstraints(channel.capacity),
    remote_constraints: lndChannelConstraints(channel.capacity),
    alias_scids: [],
    zero_conf: false,
    zero_conf_confirmed_scid: '0',
    peer_alias: '',
    peer_scid_alias: '0',
    memo: '',
    custom_channel_data: '',
  };
}

export type CloseType = 'COOPERATIVE_CLOSE' | 'LOCAL_FORCE_CLOSE' | 'REMOTE_FORCE_CLOSE';

/** lnrpc.ChannelCloseSummary (CLOSED_CHANNEL's closed_channel). */
export function lndCloseSummary(
  channel: ChannelFacts,
  closeType: CloseType,
  closingTxid: string,
  closeHeight: number,
): object {
  const forced = closeType !== 'COOPERATIVE_CLOSE';
  const remoteInitiated = closeType === 'REMOTE_FORCE_CLOSE';
  return {
    channel_point: channel.channelPoint,
    chan_id: channel.chanId,
    chain_hash: '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000',
    closing_tx_hash: closingTxid,
    remote_pubkey: channel.remotePubkey,
    capacity: String(channel.capacity),
    close_height: closeHeight,
    settled_balance: String(forced ? 0 : channel.localBalance),
    time_locked_balance: String(forced ? channel.localBalance : 0),
    close_type: closeType,
    open_initiator: channel.initiator ? 'INITIATOR_LOCAL' : 'INITIATOR_REMOTE',
    close_initiator: remoteInitiated ? 'INITIATOR_REMOTE' : 'INITIATOR_LOCAL',
    resolutions: [],
    alias_scids: [],
    zero_conf_confirmed_scid: '0',
  };
}

/** lnrpc.ChannelPoint (ACTIVE/INACTIVE/FULLY_RESOLVED/FUNDING_TIMEOUT payloads). */
export function lndChannelPoint(channel: ChannelFacts): object {
  return { funding_txid_bytes: txidBytesBase64(channel.txid), output_index: channel.outputIndex };
}

/** lnrpc.PendingUpdate (PENDING_OPEN_CHANNEL's payload). */
export function lndPendingUpdate(channel: ChannelFacts): object {
  return { txid: txidBytesBase64(channel.txid), output_index: channel.outputIndex };
}

/** What the simulation knows of a connected peer. */
export interface PeerFacts {
  readonly pubkey: string;
  readonly address: string;
  readonly inbound: boolean;
  readonly flapCount: number;
  readonly lastFlapMs: number | undefined;
  readonly pingMicros: number;
}

/** lnrpc.Peer (ListPeers entries). */
export function lndPeer(peer: PeerFacts): object {
  return {
    pub_key: peer.pubkey,
    address: peer.address,
    bytes_sent: '48213',
    bytes_recv: '51877',
    sat_sent: '0',
    sat_recv: '0',
    inbound: peer.inbound,
    ping_time: String(peer.pingMicros),
    sync_type: 'ACTIVE_SYNC',
    features: {},
    errors: [],
    flap_count: peer.flapCount,
    last_flap_ns: peer.lastFlapMs === undefined ? '0' : `${Math.floor(peer.lastFlapMs)}000000`,
    last_ping_payload: '',
  };
}

/** lnd's short channel id: block height, transaction index, output index. */
export function shortChannelId(height: number, txIndex: number, outputIndex: number): string {
  return ((BigInt(height) << 40n) | (BigInt(txIndex) << 16n) | BigInt(outputIndex)).toString();
}

/** A txid's raw bytes (the reverse of its hex display order), base64 as lnd's JSON prints bytes. */
function txidBytesBase64(txid: string): string {
  return Buffer.from(txid, 'hex').reverse().toString('base64');
}
