import assert from 'node:assert/strict';
import { decodePeerEvent } from '../../src/lnd/decode-peer-event.js';
import { assertRejects, json, PUBKEY, PUBKEY_03, PUBKEY_UPPER } from './fixtures.js';

describe('decodePeerEvent', () => {
  it('decodes PEER_ONLINE and PEER_OFFLINE', () => {
    assert.deepEqual(decodePeerEvent(json({ pub_key: PUBKEY, type: 'PEER_ONLINE' })), {
      type: 'PEER_ONLINE',
      pubkey: PUBKEY,
      timestamp: undefined,
    });
    assert.deepEqual(decodePeerEvent(json({ pub_key: PUBKEY_03, type: 'PEER_OFFLINE' })), {
      type: 'PEER_OFFLINE',
      pubkey: PUBKEY_03,
      timestamp: undefined,
    });
  });

  it('decodes the REST stream wrapper and bytes', () => {
    const text = json({ result: { pub_key: PUBKEY, type: 'PEER_OFFLINE' } });
    assert.equal(decodePeerEvent(text).type, 'PEER_OFFLINE');
    assert.equal(decodePeerEvent(new TextEncoder().encode(text)).type, 'PEER_OFFLINE');
  });

  it('reads a missing or null type as PEER_ONLINE, the proto3 default', () => {
    assert.equal(decodePeerEvent(json({ pub_key: PUBKEY })).type, 'PEER_ONLINE');
    assert.equal(decodePeerEvent(json({ result: { pub_key: PUBKEY } })).type, 'PEER_ONLINE');
    assert.equal(decodePeerEvent(json({ pub_key: PUBKEY, type: null })).type, 'PEER_ONLINE');
  });

  it('normalizes an upper-case pubkey', () => {
    assert.equal(decodePeerEvent(json({ pub_key: PUBKEY_UPPER })).pubkey, PUBKEY);
  });

  it('reads the timestamp, inner or beside result', () => {
    const noon = Date.UTC(2024, 4, 1, 12);
    const inner = { pub_key: PUBKEY, type: 'PEER_OFFLINE', timestamp: '2024-05-01T12:00:00.000Z' };
    assert.equal(decodePeerEvent(json(inner)).timestamp, noon);
    assert.equal(decodePeerEvent(json({ result: inner })).timestamp, noon);
    assert.equal(
      decodePeerEvent(json({ result: { pub_key: PUBKEY }, timestamp: '2024-05-01T13:00:00+01:00' }))
        .timestamp,
      noon,
    );
  });

  it('rejects a bad pubkey as invalid_pubkey', () => {
    for (const pub_key of [`04${PUBKEY.slice(2)}`, PUBKEY.slice(1), 42, true, {}]) {
      assertRejects(
        () => decodePeerEvent(json({ pub_key, type: 'PEER_ONLINE' })),
        'invalid_pubkey',
      );
    }
  });

  it('rejects a missing pubkey as invalid_shape', () => {
    assertRejects(() => decodePeerEvent(json({ type: 'PEER_ONLINE' })), 'invalid_shape');
    assertRejects(() => decodePeerEvent(json({ pubkey: PUBKEY })), 'invalid_shape');
  });

  it('rejects a type lnd does not have as unknown_type', () => {
    for (const type of ['PEER_FLAPPING', 'peer_online', 'ONLINE', 'toString']) {
      assertRejects(() => decodePeerEvent(json({ pub_key: PUBKEY, type })), 'unknown_type');
    }
  });

  it('rejects a type that is not a string as invalid_shape', () => {
    assertRejects(() => decodePeerEvent(json({ pub_key: PUBKEY, type: 1 })), 'invalid_shape');
  });

  it('rejects non-objects, bad JSON and bad timestamps', () => {
    assertRejects(() => decodePeerEvent(json([{ pub_key: PUBKEY }])), 'invalid_shape');
    assertRejects(() => decodePeerEvent(`{"pub_key":"${PUBKEY}"`), 'invalid_json');
    assertRejects(
      () => decodePeerEvent(json({ pub_key: PUBKEY, timestamp: '2024-05-01T12:00:00' })),
      'invalid_timestamp',
    );
    assertRejects(() => decodePeerEvent(' '.repeat(65_537)), 'too_large');
  });
});
