import parseDuration from 'parse-duration';

import { InvalidValueError } from './settings-error.js';

export interface DurationBounds {
  /** Smallest accepted value, ms; `minText` is how the error shows it. */
  readonly minMs: number;
  readonly minText: string;
  readonly maxMs?: number;
  readonly maxText?: string;
}

const EXAMPLE = '(e.g. 90s, 1h)';
/** Numbers each followed by a unit, e.g. "1h30m", "1.5 h", "90s". */
const DURATION_SHAPE = /^\s*(?:\d+(?:\.\d+)?\s*[a-zµ]+\s*)+$/iu;
const TERM = /(\d+(?:\.\d+)?)\s*([a-zµ]+)/giu;
const BARE_NUMBER = /^\s*\d+(?:\.\d+)?\s*$/u;

/**
 * A positive duration in ms. Stricter than parse-duration, which reads a bare number
 * as ms, ignores unknown units and takes a trailing number as the next smaller unit.
 */
export function parseDurationMs(text: string, bounds: DurationBounds): number {
  if (BARE_NUMBER.test(text)) {
    throw new InvalidValueError(`"${text}" has no unit ${EXAMPLE}`);
  }
  if (!DURATION_SHAPE.test(text)) {
    throw new InvalidValueError(`"${text}" is not a duration ${EXAMPLE}`);
  }
  for (const [, , unit] of text.matchAll(TERM)) {
    // Upper case is refused: parse-duration would read "1M" as a minute.
    if (unit !== undefined && (unit !== unit.toLowerCase() || parseDuration(`1${unit}`) === null)) {
      throw new InvalidValueError(
        `"${text}" has an unknown unit "${unit}" (use ns, us, ms, s, m, h, d, w)`,
      );
    }
  }
  const ms = parseDuration(text);
  if (ms === null || !Number.isFinite(ms) || ms <= 0) {
    throw new InvalidValueError(`"${text}" is not a positive duration ${EXAMPLE}`);
  }
  if (ms < bounds.minMs) {
    throw new InvalidValueError(`"${text}" is shorter than the minimum ${bounds.minText}`);
  }
  if (bounds.maxMs !== undefined && ms > bounds.maxMs) {
    throw new InvalidValueError(
      `"${text}" is longer than the maximum ${bounds.maxText ?? `${bounds.maxMs}ms`}`,
    );
  }
  return ms;
}
