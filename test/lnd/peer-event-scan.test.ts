import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodePeerEvent, decodePeerEventJson } from '../../src/lnd/decode-peer-event.js';
import { scanPeerEvent } from '../../src/lnd/peer-event-scan.js';
import { outcome, PUBKEY, PUBKEY_03, PUBKEY_UPPER } from './fixtures.js';

const TIMESTAMP = '2024-05-01T12:00:00.123456789Z';

describe('scanPeerEvent (the fast path of decodePeerEvent)', () => {
  const printed: [string, string][] = [
    ['bare', JSON.stringify({ pub_key: PUBKEY, type: 'PEER_OFFLINE', timestamp: TIMESTAMP })],
    [
      'wrapped',
      JSON.stringify({ result: { pub_key: PUBKEY_03, type: 'PEER_ONLINE', timestamp: TIMESTAMP } }),
    ],
    ['without type or timestamp', JSON.stringify({ pub_key: PUBKEY })],
    ['upper-case pubkey', JSON.stringify({ pub_key: PUBKEY_UPPER, type: 'PEER_ONLINE' })],
    [
      'timestamp beside result',
      JSON.stringify({ result: { pub_key: PUBKEY }, timestamp: '2024-05-01T12:00:00+02:00' }),
    ],
    [
      'pretty-printed',
      JSON.stringify({ result: { type: 'PEER_OFFLINE', pub_key: PUBKEY } }, null, 2),
    ],
  ];
  for (const [what, text] of printed) {
    it(`answers for lnd's ${what} form, as the general path does`, () => {
      const fast = scanPeerEvent(text);
      assert.ok(fast !== undefined, 'the fast path answers');
      assert.deepEqual(fast, decodePeerEventJson(text));
    });
  }

  const declined: [string, string][] = [
    ['a null type', `{"pub_key":"${PUBKEY}","type":null}`],
    ['a null timestamp', `{"pub_key":"${PUBKEY}","timestamp":null}`],
    ['an escaped value', `{"pub_key":"\\u0030${PUBKEY.slice(1)}"}`],
    ['an escaped key', `{"pub\\u005fkey":"${PUBKEY}"}`],
    ['a duplicate member', `{"pub_key":"${PUBKEY_03}","pub_key":"${PUBKEY}"}`],
    ['another member', `{"pub_key":"${PUBKEY}","address":"1.2.3.4:9735"}`],
    ['pub_key beside result', `{"pub_key":"${PUBKEY}","result":{"pub_key":"${PUBKEY_03}"}}`],
    ['a bad pubkey', `{"pub_key":"04${'ab'.repeat(32)}"}`],
    ['an unknown type', `{"pub_key":"${PUBKEY}","type":"PEER_ONLINE_"}`],
    ['a bad timestamp', `{"pub_key":"${PUBKEY}","timestamp":"2024-13-01T00:00:00Z"}`],
    ['text after the object', `{"pub_key":"${PUBKEY}"} x`],
    ['a trailing comma', `{"pub_key":"${PUBKEY}",}`],
    ['a control character', `{"pub_key":"${PUBKEY}","type":"PEER\tONLINE"}`],
  ];
  for (const [what, text] of declined) {
    it(`leaves ${what} to the general path, which decides as before`, () => {
      assert.equal(scanPeerEvent(text), undefined);
      assert.deepEqual(
        outcome(decodePeerEvent, text),
        outcome((t) => decodePeerEventJson(t), text),
      );
    });
  }

  it('gives the same canonical pubkey string for every message that names the peer', () => {
    const pubkey = `03${'cd'.repeat(32)}`;
    const first = scanPeerEvent(`{"pub_key":"${pubkey}","type":"PEER_ONLINE"}`);
    const again = scanPeerEvent(`{"result":{"pub_key":"${pubkey}"}}`);
    assert.ok(first !== undefined && again !== undefined);
    assert.equal(first.pubkey, pubkey);
    assert.equal(again.pubkey, first.pubkey);
  });

  /** Text of one member value: mostly valid, sometimes anything a message may hold. */
  const value = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 30, arbitrary: valid.map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string().map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.constantFrom('null', '"\\u0030"', '"a\\"b"', '1', '{}') },
    );
  const pubKey = value(
    fc.constantFrom(PUBKEY, PUBKEY_03, PUBKEY_UPPER, PUBKEY, `04${'ab'.repeat(32)}`),
  ).map((v) => ['pub_key', v] as const);
  const type = value(
    fc.constantFrom('PEER_ONLINE', 'PEER_OFFLINE', 'PEER_ONLINE', 'PEER_OFFLINE', 'peer_online'),
  ).map((v) => ['type', v] as const);
  const timestamp = value(
    fc.constantFrom(TIMESTAMP, '2024-05-01T12:00:00Z', TIMESTAMP, '2024-02-30T00:00:00Z'),
  ).map((v) => ['timestamp', v] as const);
  const odd = fc.oneof(
    fc.tuple(fc.constantFrom('address', 'pub\\u005fkey', 'type ', ''), value(fc.string())),
    pubKey,
    type,
  );
  const space = fc.constantFrom('', '', '', '', '', ' ', '\n  ', '\t', '\r\n');
  /** An object: the usual members in any order, now and then an odd (or repeated) one. */
  const object = fc
    .tuple(
      fc.tuple(fc.boolean(), fc.boolean(), fc.nat(2)).chain(([withType, withTimestamp, at]) => {
        const ms: fc.Arbitrary<readonly [string, string]>[] = [
          ...(withType ? [type] : []),
          ...(withTimestamp ? [timestamp] : []),
        ];
        ms.splice(Math.min(at, ms.length), 0, pubKey);
        return fc.tuple(...ms);
      }),
      fc.oneof(
        { weight: 6, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(odd, { maxLength: 2 }) },
      ),
      fc.array(space, { minLength: 7, maxLength: 7 }),
    )
    .map(([usual, odd, sp]) => {
      const ms = [...usual, ...odd];
      return `{${sp[0]}${ms
        .map(([k, v]) => `${sp[1]}"${k}"${sp[2]}:${sp[3]}${v}${sp[4]}`)
        .join(`,${sp[5]}`)}${sp[6]}}`;
    });
  const message = fc.oneof(
    object,
    fc
      .tuple(
        object,
        fc.option(value(fc.constantFrom(TIMESTAMP, '2024-05-01T12:00:00+02:00', 'x'))),
        fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: odd }),
        fc.boolean(),
      )
      .map(([body, ts, extra, first]) => {
        const members = [`"result":${body}`];
        if (ts !== null) members.push(`"timestamp":${ts}`);
        if (extra !== null) members.push(`"${extra[0]}":${extra[1]}`);
        if (first) members.reverse();
        return `{${members.join(',')}}`;
      }),
  );
  const trailer = fc.oneof(
    { weight: 8, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom(' ', '\n', 'x', ',', '}') },
  );

  it('agrees with the general path on arbitrary peer-event-like text', () => {
    fc.assert(
      fc.property(message, trailer, (text, tail) => {
        const full = text + tail;
        const general = outcome((t) => decodePeerEventJson(t), full);
        const fast = scanPeerEvent(full);
        if (fast !== undefined) assert.deepEqual({ value: fast }, general);
        assert.deepEqual(outcome(decodePeerEvent, full), general);
      }),
      { numRuns: 2_000 },
    );
  });

  it("agrees with the general path on lnd's own layout, whatever its pieces hold", () => {
    const piece = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(PUBKEY, PUBKEY_03, PUBKEY_UPPER) },
      { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 70 }) },
      { weight: 1, arbitrary: fc.constantFrom(`${PUBKEY.slice(0, 64)}"}`, `04${'ab'.repeat(32)}`) },
    );
    const type = fc.constantFrom('PEER_ONLINE', 'PEER_OFFLINE', 'PEER_ONLINE","x":"y', 'PEER');
    const timestamp = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(TIMESTAMP, '2024-05-01T12:00:00+02:00') },
      { weight: 1, arbitrary: fc.string() },
      {
        weight: 1,
        arbitrary: fc.constantFrom('2024-05-01T12:00:00Z"}', '2024-05-01T12:00:00Z","a":"', ''),
      },
    );
    fc.assert(
      fc.property(
        piece,
        type,
        timestamp,
        fc.boolean(),
        fc.constantFrom('', '', '}', ' ', '"', 'x'),
        fc.boolean(),
        (pk, t, ts, wrap, tail, cut) => {
          const body = `{"pub_key":"${pk}","type":"${t}","timestamp":"${ts}"}`;
          const whole = wrap ? `{"result":${body}}` : body;
          // Sometimes the last brace replaced by the tail.
          const text = (cut ? whole.slice(0, -1) : whole) + tail;
          const general = outcome((x) => decodePeerEventJson(x), text);
          const fast = scanPeerEvent(text);
          if (fast !== undefined) assert.deepEqual({ value: fast }, general);
          assert.deepEqual(outcome(decodePeerEvent, text), general);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
