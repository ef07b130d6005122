import assert from 'node:assert/strict';

import { parseMetricWindows, windowLabel } from '../../src/config/metric-windows.js';
import { definitionOf } from '../../src/config/setting-definitions.js';
import { InvalidValueError } from '../../src/config/settings-error.js';
import { DEFAULT_METRIC_WINDOWS } from '../../src/metrics/metric-windows.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseMetricWindows', () => {
  it('labels each window in canonical form, in the order given', () => {
    assert.deepEqual(parseMetricWindows('30d, 24h,12h , 90m,1m30s,2w,36h,1h0m5s'), [
      { label: '30d', durationMs: 30 * DAY },
      { label: '1d', durationMs: DAY },
      { label: '12h', durationMs: 12 * HOUR },
      { label: '1h30m', durationMs: 90 * MINUTE },
      { label: '1m30s', durationMs: 90_000 },
      { label: '14d', durationMs: 14 * DAY },
      { label: '1d12h', durationMs: 36 * HOUR },
      { label: '1h5s', durationMs: HOUR + 5000 },
    ]);
  });

  for (const [text, reason] of [
    ['', /empty item/],
    ['1d,', /empty item/],
    ['59s', /"59s" is shorter than the minimum 1m/],
    ['1d,1m500ms', /"1m500ms" is not a whole number of seconds/],
    ['1d,24h', /"24h" is the window 1d again/],
    ['7d,1w', /"1w" is the window 7d again/],
    ['7', /has no unit/],
    ['1D', /unknown unit "D"/],
  ] as const) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseMetricWindows(text),
        (err) => err instanceof InvalidValueError && reason.test(err.message),
      );
    });
  }

  it('gives the metrics the default of --metrics.windows: one list', () => {
    const text = definitionOf('metrics.windows').default;
    assert.equal(text, '1d,7d,30d');
    assert.deepEqual(parseMetricWindows(text), DEFAULT_METRIC_WINDOWS);
  });
});

describe('windowLabel', () => {
  it('writes every unit that is not zero, largest first', () => {
    assert.equal(windowLabel(MINUTE), '1m');
    assert.equal(windowLabel(DAY + HOUR + MINUTE + 1000), '1d1h1m1s');
    assert.equal(windowLabel(365 * DAY), '365d');
  });
});
