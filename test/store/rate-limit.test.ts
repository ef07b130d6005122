import assert from 'node:assert/strict';
import {
  cooldownFlapCount,
  FLAP_COOLDOWN_PERIOD_MS,
  RATE_LIMIT_SCALE,
  RATE_LIMITS_MS,
  rateLimitMs,
} from '../../src/store/rate-limit.js';
import { HOUR, MINUTE, SECOND, TEST_NOW } from '../support/test-clock.js';

describe('rate limit tiers', () => {
  it('are lnd tiers: 1 s, 5 s, 30 s, 1 min, 30 min, 1 h', () => {
    assert.deepEqual(RATE_LIMITS_MS, [SECOND, 5 * SECOND, 30 * SECOND, MINUTE, 30 * MINUTE, HOUR]);
    assert.equal(RATE_LIMIT_SCALE, 200);
  });

  const cases: [string, number, number][] = [
    ['zero flaps', 0, SECOND],
    ['last flap of the first tier', 199, SECOND],
    ['middle tier', RATE_LIMIT_SCALE * 3 + 1, MINUTE],
    ['last tier', RATE_LIMIT_SCALE * 5, HOUR],
    ['beyond the last tier', RATE_LIMIT_SCALE * 50, HOUR],
  ];
  for (const [name, count, expected] of cases) {
    it(`${name} (${count} flaps) -> ${expected} ms`, () => {
      assert.equal(rateLimitMs(count), expected);
    });
  }
});

describe('flap count cooldown', () => {
  const cases: [string, number, number, number][] = [
    ['just flapped', 0, 1, 1],
    ['half a cooldown period', FLAP_COOLDOWN_PERIOD_MS / 2, 1, 1],
    ['just under a period', FLAP_COOLDOWN_PERIOD_MS - 1, 10, 10],
    ['one period, 1 flap', FLAP_COOLDOWN_PERIOD_MS, 1, 0],
    ['one period, 10 flaps', FLAP_COOLDOWN_PERIOD_MS, 10, 9],
    ['three periods, 10 flaps', 3 * FLAP_COOLDOWN_PERIOD_MS, 10, 8],
    // 1000 * 0.95^1.5 = 925.9...: fractional periods count once a full one has passed.
    ['one and a half periods, 1000 flaps', 1.5 * FLAP_COOLDOWN_PERIOD_MS, 1000, 925],
  ];
  for (const [name, elapsed, count, expected] of cases) {
    it(`${name}: ${count} -> ${expected}`, () => {
      assert.equal(cooldownFlapCount(TEST_NOW + elapsed, count, TEST_NOW), expected);
    });
  }
});
