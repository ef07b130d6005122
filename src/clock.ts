/**
 * The time source, injected everywhere as lnd injects its clock.Clock, so that
 * tests set the time instead of sleeping. Times are milliseconds since the Unix
 * epoch; fractions carry sub-millisecond precision from event timestamps.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
