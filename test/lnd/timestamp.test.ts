import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatTimestamp, parseTimestamp, rfc3339ToMs } from '../../src/lnd/timestamp.js';
import { assertRejects } from './fixtures.js';

const NOON = Date.UTC(2024, 4, 1, 12, 0, 0);
/** Event times are kept at microsecond resolution. */
const MICROSECOND = 0.001;

function assertNear(actual: number, expected: number): void {
  assert.ok(
    Math.abs(actual - expected) < MICROSECOND / 2,
    `${actual} is not within half a microsecond of ${expected}`,
  );
}

describe('parseTimestamp', () => {
  it('reads UTC with Z', () => {
    assert.equal(parseTimestamp('2024-05-01T12:00:00Z'), NOON);
  });

  it('accepts lower-case t and z', () => {
    assert.equal(parseTimestamp('2024-05-01t12:00:00z'), NOON);
  });

  it('applies positive and negative offsets', () => {
    assert.equal(parseTimestamp('2024-05-01T14:00:00+02:00'), NOON);
    assert.equal(parseTimestamp('2024-05-01T06:30:00-05:30'), NOON);
    assert.equal(parseTimestamp('2024-05-01T12:00:00-00:00'), NOON);
  });

  it('keeps nanosecond digits as a fraction of a millisecond, to the microsecond', () => {
    const t = parseTimestamp('2024-05-01T14:00:00.123456789+02:00');
    assertNear(t, NOON + 123.456789);
    assert.equal(Math.floor(t), NOON + 123);
  });

  it('orders timestamps one microsecond apart', () => {
    const a = parseTimestamp('2024-05-01T12:00:00.000001Z');
    const b = parseTimestamp('2024-05-01T12:00:00.000002Z');
    assert.ok(a > NOON && b > a);
  });

  it('reads short fractions as decimals', () => {
    assert.equal(parseTimestamp('2024-05-01T12:00:00.5Z'), NOON + 500);
    assert.equal(parseTimestamp('2024-05-01T12:00:00.05Z'), NOON + 50);
  });

  it('truncates digits beyond nanoseconds, as Go does', () => {
    assert.equal(
      parseTimestamp('2024-05-01T12:00:00.1234567899999Z'),
      parseTimestamp('2024-05-01T12:00:00.123456789Z'),
    );
  });

  it('accepts Feb 29 in leap years (2024, 2000) only', () => {
    assert.equal(parseTimestamp('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
    assert.equal(parseTimestamp('2000-02-29T00:00:00Z'), Date.UTC(2000, 1, 29));
    for (const year of ['2023', '1900', '2100']) {
      assertRejects(() => parseTimestamp(`${year}-02-29T00:00:00Z`), 'invalid_timestamp');
    }
  });

  it('reads the ends of the four-digit years', () => {
    const year1 = new Date(0);
    year1.setUTCFullYear(1, 0, 1);
    assert.equal(parseTimestamp('0001-01-01T00:00:00Z'), year1.getTime());
    assert.equal(
      parseTimestamp('9999-12-31T23:59:59.999Z'),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    );
    assert.equal(parseTimestamp('1970-01-01T00:00:00Z'), 0);
    assert.equal(parseTimestamp('1969-12-31T23:59:59Z'), -1000);
  });

  const bad: [string, unknown][] = [
    ['month 13', '2024-13-01T00:00:00Z'],
    ['month 00', '2024-00-01T00:00:00Z'],
    ['day 00', '2024-05-00T00:00:00Z'],
    ['Feb 30', '2024-02-30T00:00:00Z'],
    ['April 31', '2024-04-31T00:00:00Z'],
    ['day 32', '2024-01-32T00:00:00Z'],
    ['hour 24', '2024-05-01T24:00:00Z'],
    ['minute 60', '2024-05-01T12:60:00Z'],
    ['second 60 (leap second)', '2024-06-30T23:59:60Z'],
    ['no offset', '2024-05-01T12:00:00'],
    ['no offset after a fraction', '2024-05-01T12:00:00.123'],
    ['an offset without colon', '2024-05-01T12:00:00+0200'],
    ['an offset hour 24', '2024-05-01T12:00:00+24:00'],
    ['an offset minute 60', '2024-05-01T12:00:00+01:60'],
    ['a short offset', '2024-05-01T12:00:00+02'],
    ['a space separator', '2024-05-01 12:00:00Z'],
    ['no seconds', '2024-05-01T12:00Z'],
    ['single-digit month', '2024-5-01T12:00:00Z'],
    ['a date only', '2024-05-01'],
    ['a dot without digits', '2024-05-01T12:00:00.Z'],
    ['a comma fraction', '2024-05-01T12:00:00,5Z'],
    ['trailing text', '2024-05-01T12:00:00Zjunk'],
    ['leading space', ' 2024-05-01T12:00:00Z'],
    ['a five-digit year', '+02024-05-01T12:00:00Z'],
    ['a signed digit', '2024-+5-01T12:00:00Z'],
    ['a JavaScript date string', 'Wed May 01 2024 12:00:00 GMT+0000'],
    ['an empty string', ''],
    ['epoch seconds as a number', 1714564800],
    ['an object', { seconds: 1 }],
  ];
  for (const [what, value] of bad) {
    it(`rejects ${what} as invalid_timestamp`, () => {
      assertRejects(() => parseTimestamp(value), 'invalid_timestamp');
    });
  }

  it('agrees with Date for every millisecond-precision UTC time of years 0001-9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62135596800000, max: 253402300799999 }), (ms) => {
        assert.equal(rfc3339ToMs(new Date(ms).toISOString()), ms);
      }),
    );
  });
});

describe('formatTimestamp', () => {
  it('prints whole milliseconds as toISOString does', () => {
    assert.equal(formatTimestamp(NOON + 5), '2024-05-01T12:00:00.005Z');
  });

  it('prints microseconds when there is a sub-millisecond part', () => {
    assert.equal(formatTimestamp(NOON + 5.25), '2024-05-01T12:00:00.005250Z');
  });

  it('rounds a fraction that reaches the next millisecond into it', () => {
    assert.equal(formatTimestamp(NOON + 5.9999), '2024-05-01T12:00:00.006Z');
  });

  it('round-trips through parseTimestamp at microsecond resolution', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4102444800000 * 1000 }), (micros) => {
        const ms = micros / 1000;
        assertNear(parseTimestamp(formatTimestamp(ms)), ms);
      }),
    );
  });
});
