import assert from 'node:assert/strict';
import { DecodeError } from '../../src/lnd/decode-error.js';
import type { RejectReason } from '../../src/ingest/reject-reason.js';

export const PUBKEY = `02${'ab'.repeat(32)}`;
export const PUBKEY_UPPER = PUBKEY.toUpperCase();
export const PUBKEY_03 = `03${'0f'.repeat(32)}`;
export const TXID = 'c0ffee'.padEnd(64, '1');
export const CHANNEL_POINT = `${TXID}:1`;

/** Asserts fn throws a DecodeError whose code is reason. */
export function assertRejects(fn: () => unknown, reason: RejectReason): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DecodeError, `expected a DecodeError, got ${String(err)}`);
    assert.equal(err.code, reason, err.message);
    return true;
  });
}

/** JSON text of a value, for payloads written as objects. */
export const json = (value: unknown): string => JSON.stringify(value);

/** An lnrpc.Channel as lnd's REST API prints it (ListChannels entries and OPEN_CHANNEL). */
export function lndChannel(remotePubkey: string, channelPoint: string, memo = ''): object {
  return {
    active: true,
    remote_pubkey: remotePubkey,
    channel_point: channelPoint,
    chan_id: '869469965136789505',
    capacity: '1000000',
    local_balance: '496530',
    remote_balance: '500000',
    commit_fee: '2810',
    commit_weight: '1116',
    fee_per_kw: '2500',
    unsettled_balance: '0',
    total_satoshis_sent: '0',
    total_satoshis_received: '0',
    num_updates: '0',
    pending_htlcs: [],
    csv_delay: 144,
    private: false,
    initiator: true,
    chan_status_flags: 'ChanStatusDefault',
    local_chan_reserve_sat: '10000',
    remote_chan_reserve_sat: '10000',
    static_remote_key: false,
    commitment_type: 'ANCHORS',
    lifetime: '0',
    uptime: '0',
    close_address: '',
    push_amount_sat: '0',
    thaw_height: 0,
    alias_scids: [],
    zero_conf: false,
    peer_alias: '',
    memo,
  };
}

/** An lnrpc.ChannelCloseSummary as lnd's REST API prints it. */
export function lndCloseSummary(remotePubkey: string, channelPoint: string): object {
  return {
    channel_point: channelPoint,
    chan_id: '869469965136789505',
    chain_hash: '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000',
    closing_tx_hash: 'ab'.repeat(32),
    remote_pubkey: remotePubkey,
    capacity: '1000000',
    close_height: 840123,
    settled_balance: '493720',
    time_locked_balance: '0',
    close_type: 'COOPERATIVE_CLOSE',
    open_initiator: 'INITIATOR_LOCAL',
    close_initiator: 'INITIATOR_REMOTE',
    resolutions: [],
    alias_scids: [],
    zero_conf_confirmed_scid: '0',
  };
}

/** An lnrpc.ChannelPoint as lnd's REST API prints it (bytes in base64). */
export const lndChannelPointMessage = {
  funding_txid_bytes: 'wP/uERERERERERERERERERERERERERERERERERERERE=',
  output_index: 1,
};
