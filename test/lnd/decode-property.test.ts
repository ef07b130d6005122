import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeChannelEvent } from '../../src/lnd/decode-channel-event.js';
import { decodePeerEvent } from '../../src/lnd/decode-peer-event.js';
import { decodeListChannels, decodeListPeers } from '../../src/lnd/decode-rpc.js';
import { DecodeError } from '../../src/lnd/decode-error.js';
import { REJECT_REASONS } from '../../src/lnd/reject-reason.js';
import { CHANNEL_POINT, PUBKEY } from './fixtures.js';

const DECODERS = { decodeChannelEvent, decodePeerEvent, decodeListChannels, decodeListPeers };

/** Runs decode; anything thrown must be a DecodeError with a rejection reason. */
function decodesOrRejects(
  decode: (data: Uint8Array | string) => unknown,
  data: Uint8Array | string,
): void {
  try {
    decode(data);
  } catch (err) {
    assert.ok(err instanceof DecodeError, `threw ${String(err)}`);
    assert.ok(REJECT_REASONS.includes(err.code), err.code);
  }
}

/** JSON values that look like lnd's messages, so the deeper checks are reached too. */
const lndLike = fc.record(
  {
    type: fc.constantFrom(
      'OPEN_CHANNEL',
      'CLOSED_CHANNEL',
      'ACTIVE_CHANNEL',
      'PEER_ONLINE',
      'PEER_OFFLINE',
      'X',
    ),
    open_channel: fc.record(
      {
        remote_pubkey: fc.constantFrom(PUBKEY, 'x', 1),
        channel_point: fc.oneof(fc.constant(CHANNEL_POINT), fc.jsonValue()),
      },
      { requiredKeys: [] },
    ),
    closed_channel: fc.jsonValue(),
    active_channel: fc.jsonValue(),
    pub_key: fc.oneof(fc.constant(PUBKEY), fc.jsonValue()),
    timestamp: fc.oneof(fc.constant('2024-05-01T12:00:00Z'), fc.string(), fc.jsonValue()),
    channels: fc.array(fc.record({ remote_pubkey: fc.jsonValue(), channel_point: fc.jsonValue() })),
    peers: fc.oneof(fc.array(fc.record({ pub_key: fc.jsonValue() })), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

describe('decoders on arbitrary input', () => {
  for (const [name, decode] of Object.entries(DECODERS)) {
    it(`${name} throws nothing but DecodeError for random JSON values`, () => {
      fc.assert(
        fc.property(fc.jsonValue(), fc.boolean(), (value, wrap) => {
          decodesOrRejects(decode, JSON.stringify(wrap ? { result: value } : value));
        }),
      );
    });

    it(`${name} throws nothing but DecodeError for lnd-like objects`, () => {
      fc.assert(
        fc.property(lndLike, fc.boolean(), (value, wrap) => {
          decodesOrRejects(decode, JSON.stringify(wrap ? { result: value } : value));
        }),
      );
    });

    it(`${name} throws nothing but DecodeError for random strings and bytes`, () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string(), fc.string({ unit: 'binary' })),
          fc.uint8Array(),
          (text, bytes) => {
            decodesOrRejects(decode, text);
            decodesOrRejects(decode, bytes);
          },
        ),
      );
    });
  }
});
