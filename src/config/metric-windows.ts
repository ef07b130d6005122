import type { MetricWindow } from '../metrics/metric-windows.js';
import { parseDurationMs } from './durations.js';
import { InvalidValueError } from './settings-error.js';
import { splitList } from './scalar-values.js';

const SECOND_MS = 1000;
/** Label units, largest first: a window's label is its duration in these (`1d12h`, `90m` -> `1h30m`). */
const UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', SECOND_MS],
];

/**
 * --metrics.windows: comma-separated durations, each at least a minute and a
 * whole number of seconds, none the same as another (`1d` and `24h` are); in
 * the order given, each labelled in canonical form.
 */
export function parseMetricWindows(text: string): MetricWindow[] {
  const windows: MetricWindow[] = [];
  for (const item of splitList(text)) {
    const durationMs = parseDurationMs(item, { minMs: 60_000, minText: '1m' });
    if (durationMs % SECOND_MS !== 0) {
      throw new InvalidValueError(`"${item}" is not a whole number of seconds`);
    }
    const label = windowLabel(durationMs);
    const same = windows.find((w) => w.durationMs === durationMs);
    if (same !== undefined) {
      throw new InvalidValueError(`"${item}" is the window ${same.label} again`);
    }
    windows.push({ label, durationMs });
  }
  return windows;
}

/** A whole number of seconds as the `window` label shows it: `1d`, `7d`, `12h`, `1h30m`. */
export function windowLabel(durationMs: number): string {
  let rest = durationMs;
  let label = '';
  for (const [unit, ms] of UNITS) {
    const count = Math.floor(rest / ms);
    if (count === 0) continue;
    label += `${count}${unit}`;
    rest -= count * ms;
  }
  return label;
}
