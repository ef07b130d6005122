import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PersistenceError } from '../../src/persistence/errors.js';
import {
  UndecodableValue,
  decodeFlapRecord,
  encodeFlapRecord,
  flapRecordKey,
  keyvDeserialize,
} from '../../src/persistence/flap-record-codec.js';

describe('flap record codec', () => {
  it('keys records by node and peer', () => {
    assert.equal(flapRecordKey('alice', '02ab'), 'flap:alice:02ab');
  });

  it('stores the last flap as RFC 3339 in UTC', () => {
    assert.deepEqual(encodeFlapRecord({ count: 3, lastFlap: Date.UTC(2024, 4, 1, 12) }), {
      count: 3,
      lastFlap: '2024-05-01T12:00:00.000Z',
    });
    assert.deepEqual(encodeFlapRecord({ count: 0, lastFlap: Date.UTC(2024, 4, 1) + 1.25 }), {
      count: 0,
      lastFlap: '2024-05-01T00:00:00.001250Z',
    });
  });

  it('round-trips any record (to the microsecond)', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: 0, max: 999 }),
        (count, ms, micros) => {
          const lastFlap = ms + micros / 1000;
          const stored = JSON.parse(
            JSON.stringify(encodeFlapRecord({ count, lastFlap })),
          ) as unknown;
          const decoded = decodeFlapRecord(stored);
          assert.equal(decoded.kind, 'record');
          assert.equal(decoded.record.count, count);
          assert.ok(Math.abs(decoded.record.lastFlap - lastFlap) < 1e-3);
        },
      ),
    );
  });

  it('refuses to encode what cannot be stored', () => {
    for (const record of [
      { count: -1, lastFlap: 0 },
      { count: 1.5, lastFlap: 0 },
      { count: 1, lastFlap: Number.NaN },
      { count: 1, lastFlap: 1e15 },
    ]) {
      assert.throws(
        () => encodeFlapRecord(record),
        (err: unknown) => err instanceof PersistenceError && err.code === 'INVALID_FLAP_RECORD',
      );
    }
  });

  it('reads an absent value as no record', () => {
    assert.deepEqual(decodeFlapRecord(undefined), { kind: 'absent' });
    assert.deepEqual(decodeFlapRecord(null), { kind: 'absent' });
  });

  it('reads offsets other than Z', () => {
    assert.deepEqual(decodeFlapRecord({ count: 7, lastFlap: '2024-05-01T14:00:00+02:00' }), {
      kind: 'record',
      record: { count: 7, lastFlap: Date.UTC(2024, 4, 1, 12) },
    });
  });

  it('takes bad stored values as invalid, never throwing', () => {
    const bad: [unknown, RegExp][] = [
      [new UndecodableValue('{"count": 1,'), /not JSON/],
      ['a string', /not an object/],
      [42, /not an object/],
      [[1, 2], /not an object/],
      [{ lastFlap: '2024-05-01T12:00:00Z' }, /count/],
      [{ count: '3', lastFlap: '2024-05-01T12:00:00Z' }, /count/],
      [{ count: -2, lastFlap: '2024-05-01T12:00:00Z' }, /count/],
      [{ count: 2.5, lastFlap: '2024-05-01T12:00:00Z' }, /count/],
      [{ count: 2 }, /lastFlap/],
      [{ count: 2, lastFlap: 1714564800000 }, /lastFlap/],
      [{ count: 2, lastFlap: 'yesterday' }, /lastFlap/],
      [{ count: 2, lastFlap: '2024-02-30T12:00:00Z' }, /lastFlap/],
      [{ count: 2, lastFlap: '2024-05-01 12:00:00' }, /lastFlap/],
    ];
    for (const [value, reason] of bad) {
      const decoded = decodeFlapRecord(value);
      assert.equal(decoded.kind, 'invalid', JSON.stringify(value));
      assert.match(decoded.reason, reason);
    }
  });

  it("deserializes Keyv's envelope, bare values and non-JSON without throwing", async () => {
    assert.deepEqual(keyvDeserialize('{"value":{"count":1,"lastFlap":"x"},"expires":null}'), {
      value: { count: 1, lastFlap: 'x' },
      expires: null,
    });
    assert.deepEqual(keyvDeserialize('{"count":1,"lastFlap":"x"}'), {
      value: { count: 1, lastFlap: 'x' },
    });
    const garbage = (await keyvDeserialize<unknown>('not json'))?.value;
    assert.ok(garbage instanceof UndecodableValue);
  });
});
