import assert from 'node:assert/strict';

import { parseDurationMs } from '../../src/config/durations.js';
import { InvalidValueError } from '../../src/config/settings-error.js';

const ANY = { minMs: Number.MIN_VALUE, minText: '0' };

describe('parseDurationMs', () => {
  for (const [text, ms] of [
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['10us', 0.01],
    ['5 minutes', 300_000],
    ['1m', 60_000],
  ] as const) {
    it(`reads "${text}" as ${ms} ms`, () => {
      assert.equal(parseDurationMs(text, ANY), ms);
    });
  }

  for (const [text, reason] of [
    ['90', /has no unit/],
    ['1.5', /has no unit/],
    ['1h30', /is not a duration/],
    ['abc', /is not a duration \(e\.g\. 90s, 1h\)/],
    ['', /is not a duration/],
    ['-5s', /is not a duration/],
    ['0s', /is not a positive duration/],
    ['0h0m', /is not a positive duration/],
    ['5x', /unknown unit "x"/],
    ['1M', /unknown unit "M"/],
    ['1H', /unknown unit "H"/],
    ['1e3s', /unknown unit "e"/],
    ['1h and 5m', /unknown unit "h and"|is not a duration/],
  ] as const) {
    it(`refuses "${text}"`, () => {
      assert.throws(
        () => parseDurationMs(text, ANY),
        (err) => err instanceof InvalidValueError && reason.test(err.message),
      );
    });
  }

  it('enforces the bounds', () => {
    const bounds = { minMs: 1000, minText: '1s', maxMs: 86_400_000, maxText: '1d' };
    assert.equal(parseDurationMs('1s', bounds), 1000);
    assert.equal(parseDurationMs('24h', bounds), 86_400_000);
    assert.throws(() => parseDurationMs('999ms', bounds), /"999ms" is shorter than the minimum 1s/);
    assert.throws(() => parseDurationMs('25h', bounds), /"25h" is longer than the maximum 1d/);
  });
});
