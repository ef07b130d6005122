import assert from 'node:assert/strict';
import { decodeChannelEvent } from '../../src/lnd/decode-channel-event.js';
import { MAX_EVENT_BYTES } from '../../src/lnd/json-payload.js';
import {
  assertRejects,
  CHANNEL_POINT,
  json,
  lndChannelPointMessage,
  PUBKEY,
  PUBKEY_UPPER,
  TXID,
} from './fixtures.js';
import { lndChannel, lndCloseSummary } from '../support/lnd-json.js';

const OPEN = { type: 'OPEN_CHANNEL', open_channel: lndChannel(PUBKEY, CHANNEL_POINT) };
const CLOSE = { type: 'CLOSED_CHANNEL', closed_channel: lndCloseSummary(PUBKEY, CHANNEL_POINT) };
const NOON = Date.UTC(2024, 4, 1, 12);

/** Every other type, with its oneof field and an lnd-shaped payload. */
const OTHER_TYPES: [string, string, object][] = [
  ['ACTIVE_CHANNEL', 'active_channel', lndChannelPointMessage],
  ['INACTIVE_CHANNEL', 'inactive_channel', lndChannelPointMessage],
  ['FULLY_RESOLVED_CHANNEL', 'fully_resolved_channel', lndChannelPointMessage],
  ['CHANNEL_FUNDING_TIMEOUT', 'channel_funding_timeout', { funding_txid_str: TXID }],
  ['PENDING_OPEN_CHANNEL', 'pending_open_channel', { txid: 'wP/uEQ==', output_index: 0 }],
  ['CHANNEL_UPDATE', 'channel_update', {}],
];

describe('decodeChannelEvent', () => {
  describe('opens and closes', () => {
    it('decodes a bare OPEN_CHANNEL', () => {
      assert.deepEqual(decodeChannelEvent(json(OPEN)), {
        type: 'OPEN_CHANNEL',
        pubkey: PUBKEY,
        channelPoint: CHANNEL_POINT,
        timestamp: undefined,
      });
    });

    it('decodes a CLOSED_CHANNEL wrapped as lnd REST streams do', () => {
      assert.deepEqual(decodeChannelEvent(json({ result: CLOSE })), {
        type: 'CLOSED_CHANNEL',
        pubkey: PUBKEY,
        channelPoint: CHANNEL_POINT,
        timestamp: undefined,
      });
    });

    it('decodes UTF-8 bytes as it decodes strings', () => {
      const bytes = new TextEncoder().encode(json({ result: OPEN }));
      assert.deepEqual(decodeChannelEvent(bytes), decodeChannelEvent(json(OPEN)));
    });

    it('normalizes upper-case pubkey and txid hex to lower case', () => {
      const event = decodeChannelEvent(
        json({
          type: 'OPEN_CHANNEL',
          open_channel: { remote_pubkey: PUBKEY_UPPER, channel_point: `${TXID.toUpperCase()}:1` },
        }),
      );
      assert.ok(event.type === 'OPEN_CHANNEL');
      assert.equal(event.pubkey, PUBKEY);
      assert.equal(event.channelPoint, CHANNEL_POINT);
    });

    it('infers OPEN_CHANNEL and CLOSED_CHANNEL from the field present', () => {
      assert.equal(
        decodeChannelEvent(json({ open_channel: OPEN.open_channel })).type,
        'OPEN_CHANNEL',
      );
      assert.equal(
        decodeChannelEvent(json({ result: { closed_channel: CLOSE.closed_channel } })).type,
        'CLOSED_CHANNEL',
      );
    });

    it('treats null oneof fields and a null type as unset (proto3 JSON)', () => {
      const event = decodeChannelEvent(
        json({ type: null, closed_channel: null, open_channel: OPEN.open_channel }),
      );
      assert.equal(event.type, 'OPEN_CHANNEL');
    });

    it('rejects an open with a bad remote_pubkey as invalid_pubkey', () => {
      const bad = {
        type: 'OPEN_CHANNEL',
        open_channel: lndChannel(`04${PUBKEY.slice(2)}`, CHANNEL_POINT),
      };
      assertRejects(() => decodeChannelEvent(json(bad)), 'invalid_pubkey');
    });

    it('rejects a close whose remote_pubkey is a number as invalid_pubkey', () => {
      const bad = { closed_channel: { remote_pubkey: 2, channel_point: CHANNEL_POINT } };
      assertRejects(() => decodeChannelEvent(json(bad)), 'invalid_pubkey');
    });

    it('rejects a malformed channel point as invalid_channel_point', () => {
      const bad = { type: 'CLOSED_CHANNEL', closed_channel: lndCloseSummary(PUBKEY, `${TXID}:x`) };
      assertRejects(() => decodeChannelEvent(json(bad)), 'invalid_channel_point');
    });

    it('rejects an lnrpc.ChannelPoint object where the string is expected as invalid_channel_point', () => {
      const bad = {
        open_channel: { remote_pubkey: PUBKEY, channel_point: lndChannelPointMessage },
      };
      assertRejects(() => decodeChannelEvent(json(bad)), 'invalid_channel_point');
    });

    it('rejects an open without remote_pubkey or channel_point as invalid_shape', () => {
      assertRejects(
        () => decodeChannelEvent(json({ open_channel: { channel_point: CHANNEL_POINT } })),
        'invalid_shape',
      );
      assertRejects(
        () => decodeChannelEvent(json({ closed_channel: { remote_pubkey: PUBKEY } })),
        'invalid_shape',
      );
    });
  });

  describe('the other lnd types', () => {
    for (const [type, field, payload] of OTHER_TYPES) {
      it(`accepts ${type} with its ${field}, bare and wrapped`, () => {
        assert.deepEqual(decodeChannelEvent(json({ type, [field]: payload })), {
          type,
          timestamp: undefined,
        });
        assert.deepEqual(decodeChannelEvent(json({ result: { type, [field]: payload } })), {
          type,
          timestamp: undefined,
        });
      });

      it(`infers ${type} from ${field}`, () => {
        assert.equal(decodeChannelEvent(json({ [field]: payload })).type, type);
      });

      it(`rejects ${type} whose ${field} is not an object as invalid_shape`, () => {
        assertRejects(() => decodeChannelEvent(json({ type, [field]: 'x' })), 'invalid_shape');
        assertRejects(
          () => decodeChannelEvent(json({ type, [field]: [payload] })),
          'invalid_shape',
        );
      });
    }

    for (const [type, field] of OTHER_TYPES.filter(([t]) => t !== 'CHANNEL_UPDATE')) {
      it(`rejects ${type} without its ${field} as invalid_shape`, () => {
        assertRejects(() => decodeChannelEvent(json({ type })), 'invalid_shape');
      });
    }

    it('accepts CHANNEL_UPDATE without payload (lnd documents no field for it)', () => {
      assert.deepEqual(decodeChannelEvent(json({ type: 'CHANNEL_UPDATE' })), {
        type: 'CHANNEL_UPDATE',
        timestamp: undefined,
      });
    });
  });

  describe('type and oneof errors', () => {
    it('rejects a type lnd does not have as unknown_type', () => {
      assertRejects(
        () => decodeChannelEvent(json({ type: 'CHANNEL_EXPLODED', open_channel: {} })),
        'unknown_type',
      );
      assertRejects(() => decodeChannelEvent(json({ type: 'open_channel' })), 'unknown_type');
      assertRejects(() => decodeChannelEvent(json({ type: 'UNRECOGNIZED' })), 'unknown_type');
    });

    it('does not take Object.prototype names for types', () => {
      assertRejects(() => decodeChannelEvent(json({ type: 'constructor' })), 'unknown_type');
      assertRejects(() => decodeChannelEvent(json({ type: '__proto__' })), 'unknown_type');
    });

    it('rejects a numeric enum as invalid_shape (lnd prints enums as strings)', () => {
      assertRejects(
        () => decodeChannelEvent(json({ type: 0, open_channel: OPEN.open_channel })),
        'invalid_shape',
      );
    });

    it('rejects a message with neither type nor field as invalid_shape', () => {
      assertRejects(() => decodeChannelEvent('{}'), 'invalid_shape');
      assertRejects(() => decodeChannelEvent(json({ result: {} })), 'invalid_shape');
      assertRejects(
        () => decodeChannelEvent(json({ error: { code: 2, message: 'EOF' } })),
        'invalid_shape',
      );
    });

    it('rejects several oneof fields as invalid_shape, with or without type', () => {
      const both = { open_channel: OPEN.open_channel, closed_channel: CLOSE.closed_channel };
      assertRejects(() => decodeChannelEvent(json(both)), 'invalid_shape');
      assertRejects(
        () => decodeChannelEvent(json({ ...both, type: 'OPEN_CHANNEL' })),
        'invalid_shape',
      );
    });

    it("rejects a type whose field is another type's as invalid_shape", () => {
      assertRejects(
        () => decodeChannelEvent(json({ type: 'CLOSED_CHANNEL', open_channel: OPEN.open_channel })),
        'invalid_shape',
      );
    });
  });

  describe('envelope', () => {
    it('reads the timestamp beside type', () => {
      const event = decodeChannelEvent(json({ ...OPEN, timestamp: '2024-05-01T12:00:00Z' }));
      assert.equal(event.timestamp, NOON);
    });

    it('reads the timestamp inside result, and beside result', () => {
      const inside = decodeChannelEvent(
        json({ result: { ...CLOSE, timestamp: '2024-05-01T14:00:00+02:00' } }),
      );
      const beside = decodeChannelEvent(json({ result: CLOSE, timestamp: '2024-05-01T12:00:00Z' }));
      assert.equal(inside.timestamp, NOON);
      assert.equal(beside.timestamp, NOON);
    });

    it('prefers the inner timestamp of a wrapped message', () => {
      const event = decodeChannelEvent(
        json({
          result: { ...CLOSE, timestamp: '2024-05-01T12:00:00Z' },
          timestamp: '2030-01-01T00:00:00Z',
        }),
      );
      assert.equal(event.timestamp, NOON);
    });

    it('keeps sub-millisecond timestamp digits', () => {
      const event = decodeChannelEvent(
        json({ ...OPEN, timestamp: '2024-05-01T12:00:00.000250000Z' }),
      );
      assert.ok(event.timestamp !== undefined && Math.abs(event.timestamp - (NOON + 0.25)) < 1e-4);
    });

    it('treats a null timestamp as absent', () => {
      assert.equal(decodeChannelEvent(json({ ...OPEN, timestamp: null })).timestamp, undefined);
    });

    it('rejects a bad timestamp as invalid_timestamp', () => {
      assertRejects(
        () => decodeChannelEvent(json({ ...OPEN, timestamp: '2024-02-30T00:00:00Z' })),
        'invalid_timestamp',
      );
      assertRejects(
        () => decodeChannelEvent(json({ ...OPEN, timestamp: 1714564800 })),
        'invalid_timestamp',
      );
      assertRejects(
        () => decodeChannelEvent(json({ result: OPEN, timestamp: 'yesterday' })),
        'invalid_timestamp',
      );
    });

    it('rejects text that is not JSON as invalid_json', () => {
      assertRejects(() => decodeChannelEvent('{"type": "OPEN_CHANNEL",'), 'invalid_json');
      assertRejects(() => decodeChannelEvent(''), 'invalid_json');
      assertRejects(() => decodeChannelEvent(new Uint8Array()), 'invalid_json');
    });

    it('rejects bytes that are not UTF-8 as invalid_json', () => {
      const bytes = new TextEncoder().encode(json(OPEN));
      bytes[bytes.length - 3] = 0xff;
      assertRejects(() => decodeChannelEvent(bytes), 'invalid_json');
    });

    it('rejects JSON that is not an object as invalid_shape', () => {
      for (const text of [
        '[]',
        '[{"type":"OPEN_CHANNEL"}]',
        '42',
        'null',
        '"OPEN_CHANNEL"',
        'true',
      ]) {
        assertRejects(() => decodeChannelEvent(text), 'invalid_shape');
      }
      assertRejects(() => decodeChannelEvent(json({ result: [OPEN] })), 'invalid_shape');
      assertRejects(() => decodeChannelEvent(json({ result: null })), 'invalid_shape');
    });
  });

  describe('64 KiB limit', () => {
    /** An OPEN_CHANNEL of exactly `bytes` UTF-8 bytes, padded in its memo with `pad`. */
    function openOfBytes(bytes: number, pad = 'x'): string {
      const base = json({
        type: 'OPEN_CHANNEL',
        open_channel: lndChannel(PUBKEY, CHANNEL_POINT, { memo: '' }),
      });
      const padBytes = Buffer.byteLength(pad);
      const room = bytes - Buffer.byteLength(base);
      const text = json({
        type: 'OPEN_CHANNEL',
        open_channel: lndChannel(PUBKEY, CHANNEL_POINT, {
          memo: pad.repeat(Math.floor(room / padBytes)) + 'x'.repeat(room % padBytes),
        }),
      });
      assert.equal(Buffer.byteLength(text), bytes);
      return text;
    }

    it('accepts a message of exactly 65536 bytes, as text and as bytes', () => {
      const text = openOfBytes(MAX_EVENT_BYTES);
      assert.equal(decodeChannelEvent(text).type, 'OPEN_CHANNEL');
      assert.equal(decodeChannelEvent(Buffer.from(text)).type, 'OPEN_CHANNEL');
    });

    it('rejects 65537 bytes as too_large, as text and as bytes', () => {
      const text = openOfBytes(MAX_EVENT_BYTES + 1);
      assertRejects(() => decodeChannelEvent(text), 'too_large');
      assertRejects(() => decodeChannelEvent(Buffer.from(text)), 'too_large');
    });

    it('counts UTF-8 bytes, not characters', () => {
      const text = openOfBytes(MAX_EVENT_BYTES + 1, 'é');
      assert.ok(text.length <= MAX_EVENT_BYTES);
      assertRejects(() => decodeChannelEvent(text), 'too_large');
      assert.equal(decodeChannelEvent(openOfBytes(MAX_EVENT_BYTES, '€')).type, 'OPEN_CHANNEL');
    });

    it('rejects an oversized message as too_large before reading it as JSON', () => {
      assertRejects(() => decodeChannelEvent('{'.repeat(MAX_EVENT_BYTES + 1)), 'too_large');
    });
  });
});
