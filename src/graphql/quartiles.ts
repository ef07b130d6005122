/**
 * Quartiles and lower outliers as lightninglabs/faraday's `dataset` package
 * computes them for its close recommendations, so that the same ratios give
 * the same recommendations here.
 */

/** Fewest values the quartiles are computed for (see quartilesOf). */
export const MIN_QUARTILE_VALUES = 4;

export interface Quartiles {
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  /** q3 - q1. */
  readonly iqr: number;
}

/** The median of ascending values from `start` to `end` (exclusive), faraday's getMedian. */
function medianOf(sorted: Float64Array, start: number, end: number): number {
  const count = end - start;
  const middle = start + Math.floor(count / 2);
  // Even: the mean of the two middle values; odd: the middle value.
  return count % 2 === 0
    ? ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
    : (sorted[middle] as number);
}

/**
 * The median of ascending values (the mean of the two middle ones for an even
 * count), undefined for none.
 */
export function medianOfSorted(sorted: Float64Array): number | undefined {
  return sorted.length === 0 ? undefined : medianOf(sorted, 0, sorted.length);
}

/**
 * faraday's "exclusive" quartiles of ascending values: Q1 is the median of
 * the lower half and Q3 of the upper half, the halves leaving out the median
 * value when the count is odd. Undefined for fewer than MIN_QUARTILE_VALUES:
 * faraday computes them from 3 values, but then Q1 is the smallest value and
 * nothing can be below it, so 3 values never give a recommendation either.
 */
export function quartilesOf(sorted: Float64Array): Quartiles | undefined {
  const count = sorted.length;
  if (count < MIN_QUARTILE_VALUES) return undefined;
  const half = Math.floor(count / 2);
  const q1 = medianOf(sorted, 0, half);
  const q3 = medianOf(sorted, count - half, count);
  return { q1, median: medianOf(sorted, 0, count), q3, iqr: q3 - q1 };
}

/**
 * The value below which a value is a lower outlier: Q1 - multiplier x IQR,
 * computed in faraday's order of operations (quartile distance first) so
 * that a value on the bound is judged as faraday judges it.
 */
export function lowerOutlierBound(quartiles: Quartiles, multiplier: number): number {
  return quartiles.q1 - quartiles.iqr * multiplier;
}
