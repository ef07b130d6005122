import assert from 'node:assert/strict';
import { decodeListChannels, decodeListPeers } from '../../src/lnd/decode-rpc.js';
import { DecodeError } from '../../src/lnd/decode-error.js';
import { MAX_EVENT_BYTES, MAX_RPC_REPLY_BYTES } from '../../src/lnd/json-payload.js';
import {
  assertRejects,
  CHANNEL_POINT,
  json,
  PUBKEY,
  PUBKEY_03,
  PUBKEY_UPPER,
  TXID,
} from './fixtures.js';
import { lndChannel, lndPeer } from '../support/lnd-json.js';

describe('decodeListChannels', () => {
  it('lists remote pubkey and channel point of every channel', () => {
    const reply = json({
      channels: [lndChannel(PUBKEY, CHANNEL_POINT), lndChannel(PUBKEY_03, `${TXID}:2`)],
    });
    assert.deepEqual(decodeListChannels(reply), {
      channels: [
        { pubkey: PUBKEY, channelPoint: CHANNEL_POINT },
        { pubkey: PUBKEY_03, channelPoint: `${TXID}:2` },
      ],
      skipped: 0,
    });
  });

  it('accepts the result wrapper and bytes, and normalizes hex case', () => {
    const reply = json({
      result: { channels: [lndChannel(PUBKEY_UPPER, `${TXID.toUpperCase()}:1`)] },
    });
    const expected = { channels: [{ pubkey: PUBKEY, channelPoint: CHANNEL_POINT }], skipped: 0 };
    assert.deepEqual(decodeListChannels(reply), expected);
    assert.deepEqual(decodeListChannels(new TextEncoder().encode(reply)), expected);
  });

  it('reads a reply without channels (proto3 omits empty lists) as none', () => {
    assert.deepEqual(decodeListChannels('{}'), { channels: [], skipped: 0 });
    assert.deepEqual(decodeListChannels('{"channels":null}'), { channels: [], skipped: 0 });
  });

  it('skips and counts bad entries instead of failing the reply', () => {
    const reply = json({
      channels: [
        lndChannel(PUBKEY, CHANNEL_POINT),
        lndChannel('02nothex', `${TXID}:2`),
        lndChannel(PUBKEY, 'not a channel point'),
        { remote_pubkey: PUBKEY },
        null,
        'channel',
        lndChannel(PUBKEY_03, `${TXID}:3`),
      ],
    });
    assert.deepEqual(decodeListChannels(reply), {
      channels: [
        { pubkey: PUBKEY, channelPoint: CHANNEL_POINT },
        { pubkey: PUBKEY_03, channelPoint: `${TXID}:3` },
      ],
      skipped: 5,
    });
  });

  it('rejects a reply that is unusable as a whole', () => {
    assertRejects(() => decodeListChannels('<html>'), 'invalid_json');
    assertRejects(() => decodeListChannels('[]'), 'invalid_shape');
    assertRejects(() => decodeListChannels('{"channels":{}}'), 'invalid_shape');
    assertRejects(() => decodeListChannels(json({ result: 'x' })), 'invalid_shape');
  });

  it('takes replies far over the 64 KiB event limit', () => {
    const channels = Array.from({ length: 200 }, (_, i) => lndChannel(PUBKEY, `${TXID}:${i}`));
    const reply = json({ channels });
    assert.ok(reply.length > MAX_EVENT_BYTES);
    assert.equal(decodeListChannels(reply).channels.length, 200);
  });

  it('rejects a reply over 64 MiB as too_large', () => {
    assertRejects(() => decodeListChannels(new Uint8Array(MAX_RPC_REPLY_BYTES + 1)), 'too_large');
  });
  it('rejects an lnd error reply instead of reading it as a node without channels', () => {
    for (const reply of [
      '{"code":2,"message":"permission denied","details":[]}',
      '{"error":{"code":14,"message":"unavailable"}}',
      '{"result":{"code":2,"message":"wallet locked"}}',
    ]) {
      assert.throws(
        () => decodeListChannels(reply),
        (e: unknown) =>
          e instanceof DecodeError && e.code === 'invalid_shape' && e.message.includes('lnd error'),
        reply,
      );
      assert.throws(() => decodeListPeers(reply), DecodeError, reply);
    }
  });
});

describe('decodeListPeers', () => {
  it('lists the pubkeys of the peers, lower case', () => {
    const reply = json({ peers: [lndPeer(PUBKEY_UPPER), lndPeer(PUBKEY_03)] });
    assert.deepEqual(decodeListPeers(reply), { peers: [PUBKEY, PUBKEY_03], skipped: 0 });
  });

  it('accepts the result wrapper and an empty reply', () => {
    assert.deepEqual(decodeListPeers(json({ result: { peers: [lndPeer(PUBKEY)] } })), {
      peers: [PUBKEY],
      skipped: 0,
    });
    assert.deepEqual(decodeListPeers('{}'), { peers: [], skipped: 0 });
  });

  it('skips and counts bad entries', () => {
    const reply = json({
      peers: [lndPeer(PUBKEY), lndPeer(7), lndPeer(undefined), [], lndPeer('03')],
    });
    assert.deepEqual(decodeListPeers(reply), { peers: [PUBKEY], skipped: 4 });
  });

  it('rejects a reply that is unusable as a whole', () => {
    assertRejects(() => decodeListPeers('{"peers":'), 'invalid_json');
    assertRejects(() => decodeListPeers('{"peers":"none"}'), 'invalid_shape');
    assertRejects(() => decodeListPeers('null'), 'invalid_shape');
  });
});
