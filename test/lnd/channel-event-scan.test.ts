import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CHANNEL_EVENT_FIELD } from '../../src/lnd/channel-event-fields.js';
import { scanChannelEvent } from '../../src/lnd/channel-event-scan.js';
import { decodeChannelEvent, decodeChannelEventJson } from '../../src/lnd/decode-channel-event.js';
import { CHANNEL_EVENT_TYPES } from '../../src/lnd/messages.js';
import { outcome } from './fixtures.js';

const TIMESTAMP = '2024-05-01T12:00:00.123456Z';
const CHANNEL_POINT_JSON =
  '{"funding_txid_bytes":"qlq3TPehrEyAB1fd52/HaiJWecWhXlEkgu9aexGOjO0=","output_index":1}';

describe('scanChannelEvent (the fast path of decodeChannelEvent)', () => {
  const printed: [string, string][] = [
    [
      'ACTIVE_CHANNEL',
      `{"active_channel":${CHANNEL_POINT_JSON},"type":"ACTIVE_CHANNEL","timestamp":"${TIMESTAMP}"}`,
    ],
    [
      'wrapped INACTIVE_CHANNEL',
      `{"result":{"inactive_channel":${CHANNEL_POINT_JSON},"type":"INACTIVE_CHANNEL","timestamp":"${TIMESTAMP}"}}`,
    ],
    [
      'PENDING_OPEN_CHANNEL',
      `{"pending_open_channel":{"txid":"T4lyhTF86ouC5JSxbnnRPirjZGO844nTAuUlr9Q12XQ=","output_index":0},"type":"PENDING_OPEN_CHANNEL","timestamp":"${TIMESTAMP}"}`,
    ],
    [
      'CHANNEL_UPDATE',
      `{"channel_update":{},"type":"CHANNEL_UPDATE","timestamp":"2024-05-01T12:00:00Z"}`,
    ],
  ];
  for (const [what, text] of printed) {
    it(`answers for lnd's ${what}, as the general path does`, () => {
      const fast = scanChannelEvent(text);
      assert.ok(fast !== undefined, 'the fast path answers');
      assert.deepEqual(fast, decodeChannelEventJson(text));
    });
  }

  const declined: [string, string][] = [
    [
      'an open',
      `{"open_channel":{"remote_pubkey":"02"},"type":"OPEN_CHANNEL","timestamp":"${TIMESTAMP}"}`,
    ],
    [
      'a field of another type',
      `{"active_channel":{},"type":"INACTIVE_CHANNEL","timestamp":"${TIMESTAMP}"}`,
    ],
    [
      'a nested payload',
      `{"active_channel":{"a":{}},"type":"ACTIVE_CHANNEL","timestamp":"${TIMESTAMP}"}`,
    ],
    [
      'a leading zero',
      `{"active_channel":{"a":01},"type":"ACTIVE_CHANNEL","timestamp":"${TIMESTAMP}"}`,
    ],
    [
      'an escape',
      `{"active_channel":{"a":"\\n"},"type":"ACTIVE_CHANNEL","timestamp":"${TIMESTAMP}"}`,
    ],
    ['no timestamp', `{"active_channel":{},"type":"ACTIVE_CHANNEL"}`],
    ['a bad timestamp', `{"active_channel":{},"type":"ACTIVE_CHANNEL","timestamp":"yesterday"}`],
    ['text after it', `{"active_channel":{},"type":"ACTIVE_CHANNEL","timestamp":"${TIMESTAMP}"}}`],
  ];
  for (const [what, text] of declined) {
    it(`leaves ${what} to the general path, which decides as before`, () => {
      assert.equal(scanChannelEvent(text), undefined);
      assert.deepEqual(outcome(decodeChannelEvent, text), outcome(decodeChannelEventJson, text));
    });
  }

  /** A type and its field, mostly matching (as lnd sends them). */
  const typeAndField = fc
    .tuple(
      fc.constantFrom(...CHANNEL_EVENT_TYPES, 'NOT_A_TYPE'),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            ...CHANNEL_EVENT_TYPES.map((t) => CHANNEL_EVENT_FIELD[t]),
            'other',
          ),
        },
      ),
    )
    .map(([type, field]) => {
      const own = (CHANNEL_EVENT_FIELD as Record<string, string>)[type];
      return [type, field ?? own ?? 'other'] as const;
    });
  const scalar = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9+/=]{0,44}$/).map((s) => `"${s}"`) },
    { weight: 2, arbitrary: fc.integer().map(String) },
    { weight: 1, arbitrary: fc.string().map((s) => JSON.stringify(s)) },
    {
      weight: 1,
      arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '01',
        '-',
        '1.',
        '1e',
        '-0',
        '1E+2',
        '0.5e-3',
        'true',
        'null',
        '"a\\"b"',
        '"\t"',
      ),
    },
  );
  const payload = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(fc.tuple(fc.constantFrom('txid', 'output_index', 'a"b', ''), scalar), {
          maxLength: 3,
        })
        .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(CHANNEL_POINT_JSON, '{', '{"a":1,}', '{"a" :1}', '{}}'),
    },
  );
  const timestamp = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(TIMESTAMP, '2024-05-01T12:00:00+02:00') },
    { weight: 1, arbitrary: fc.string() },
  );

  it("agrees with the general path on text in and around lnd's layout", () => {
    fc.assert(
      fc.property(
        typeAndField,
        payload,
        timestamp,
        fc.boolean(),
        fc.constantFrom('', '', '', '', '', '}', ' ', 'x'),
        fc.oneof(
          { weight: 5, arbitrary: fc.constant(false) },
          { weight: 1, arbitrary: fc.constant(true) },
        ),
        ([type, field], body, ts, wrap, tail, cut) => {
          const inner = `{"${field}":${body},"type":"${type}","timestamp":"${ts}"}`;
          const whole = wrap ? `{"result":${inner}}` : inner;
          const text = (cut ? whole.slice(0, -1) : whole) + tail;
          const general = outcome(decodeChannelEventJson, text);
          const fast = scanChannelEvent(text);
          if (fast !== undefined) assert.deepEqual({ value: fast }, general);
          assert.deepEqual(outcome(decodeChannelEvent, text), general);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
