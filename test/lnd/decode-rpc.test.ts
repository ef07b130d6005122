import assert from 'node:assert/strict';
import { decodeListChannels, decodeListPeers, lndSeconds } from '../../src/lnd/decode-rpc.js';
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

/** lnd's ListChannels entry with its own uptime and lifetime (int64 as strings, as lnd prints them). */
const withFigures = (channel: Record<string, unknown>, uptime: unknown, lifetime: unknown) => ({
  ...channel,
  uptime,
  lifetime,
});

describe('decodeListChannels', () => {
  it('lists remote pubkey, channel point and lnd own uptime and lifetime of every channel', () => {
    const reply = json({
      channels: [
        withFigures(lndChannel(PUBKEY, CHANNEL_POINT), '3500', '7200'),
        lndChannel(PUBKEY_03, `${TXID}:2`),
      ],
    });
    assert.deepEqual(decodeListChannels(reply), {
      channels: [
        { pubkey: PUBKEY, channelPoint: CHANNEL_POINT, uptimeSeconds: 3500, lifetimeSeconds: 7200 },
        // lnd prints 0 for a channel its event store does not know (yet).
        { pubkey: PUBKEY_03, channelPoint: `${TXID}:2`, uptimeSeconds: 0, lifetimeSeconds: 0 },
      ],
      skipped: 0,
    });
  });

  it('leaves out lnd figures the entry lacks, and keeps the channel', () => {
    const reply = json({
      channels: [{ remote_pubkey: PUBKEY, channel_point: CHANNEL_POINT, uptime: '60' }],
    });
    assert.deepEqual(decodeListChannels(reply), {
      channels: [{ pubkey: PUBKEY, channelPoint: CHANNEL_POINT, uptimeSeconds: 60 }],
      skipped: 0,
    });
  });

  it('ignores malformed uptime and lifetime values for that channel, never the listing', () => {
    const bad: unknown[] = [
      '-5',
      '1.5',
      '1e3',
      ' 60',
      '',
      '0x10',
      'NaN',
      '12345678901234567',
      '9007199254740993',
      -1,
      2.5,
      Number.MAX_SAFE_INTEGER + 1,
      null,
      true,
      {},
      ['60'],
    ];
    const reply = json({
      channels: bad.map((value, i) =>
        withFigures(lndChannel(PUBKEY, `${TXID}:${i}`), value, value),
      ),
    });
    const decoded = decodeListChannels(reply);
    assert.equal(decoded.skipped, 0);
    assert.equal(decoded.channels.length, bad.length);
    for (const [i, channel] of decoded.channels.entries()) {
      assert.deepEqual(channel, { pubkey: PUBKEY, channelPoint: `${TXID}:${i}` }, String(bad[i]));
    }
    // One bad figure leaves the other.
    const half = decodeListChannels(
      json({ channels: [withFigures(lndChannel(PUBKEY, CHANNEL_POINT), 'soon', '86400')] }),
    );
    assert.deepEqual(half.channels, [
      { pubkey: PUBKEY, channelPoint: CHANNEL_POINT, lifetimeSeconds: 86400 },
    ]);
  });

  it('accepts the result wrapper and bytes, and normalizes hex case', () => {
    const reply = json({
      result: { channels: [lndChannel(PUBKEY_UPPER, `${TXID.toUpperCase()}:1`)] },
    });
    const expected = {
      channels: [
        { pubkey: PUBKEY, channelPoint: CHANNEL_POINT, uptimeSeconds: 0, lifetimeSeconds: 0 },
      ],
      skipped: 0,
    };
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
    assert.deepEqual(
      decodeListChannels(reply).channels.map((c) => [c.pubkey, c.channelPoint]),
      [
        [PUBKEY, CHANNEL_POINT],
        [PUBKEY_03, `${TXID}:3`],
      ],
    );
    assert.equal(decodeListChannels(reply).skipped, 5);
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

describe('lndSeconds', () => {
  it('reads an int64 count of seconds printed as a string or as a number', () => {
    assert.equal(lndSeconds('0'), 0);
    assert.equal(lndSeconds('86400'), 86400);
    assert.equal(lndSeconds('0042'), 42);
    assert.equal(lndSeconds(86400), 86400);
    assert.equal(lndSeconds(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  });

  it('refuses anything else', () => {
    for (const value of [
      undefined,
      null,
      '',
      '-1',
      '+1',
      '1.0',
      '1e3',
      'x',
      -1,
      0.5,
      NaN,
      Infinity,
    ]) {
      assert.equal(lndSeconds(value), undefined, String(value));
    }
    assert.equal(lndSeconds(String(Number.MAX_SAFE_INTEGER + 1)), undefined);
  });
});
