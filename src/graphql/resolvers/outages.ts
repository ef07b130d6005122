import { pageSize } from '../arguments.js';
import { withClientErrors } from '../errors.js';
import { periodResult, type OnlinePeriodResult, type OutagesRef } from '../models.js';
import { medianOfSorted } from '../quartiles.js';

interface PeriodsArgs {
  readonly first?: number | null;
}

/** The page sizes of `Outages.periods`, as those of the listings. */
export interface PeriodPageSizes {
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
}

/**
 * Outages: figures of a peer's offline periods. `periods` needs no charge by
 * its real size: the cost limit counts it as its `first` items already, and
 * it never lists more.
 */
export function outagesResolvers(sizes: PeriodPageSizes) {
  return {
    count: (outages: OutagesRef): number => outages.count,
    totalSeconds: (outages: OutagesRef): number => {
      let total = 0;
      for (const period of outages.periods) total += period.end - period.start;
      return total / 1000;
    },
    longestSeconds: (outages: OutagesRef): number => (outages.durations.at(-1) ?? 0) / 1000,
    medianSeconds: (outages: OutagesRef): number | null => {
      const median = medianOfSorted(outages.durations);
      return median === undefined ? null : median / 1000;
    },
    periods: (outages: OutagesRef, args: PeriodsArgs): OnlinePeriodResult[] =>
      withClientErrors(() => {
        const first = pageSize(args.first, sizes.defaultPageSize, sizes.maxPageSize);
        return outages.periods.slice(0, first).map(periodResult);
      }),
  };
}
