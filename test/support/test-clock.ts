import type { Clock } from '../../src/clock.js';

/** A clock the test sets, as lnd's clock.NewTestClock. */
export class TestClock implements Clock {
  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  set(time: number): void {
    this.time = time;
  }

  advance(ms: number): number {
    this.time += ms;
    return this.time;
  }
}

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** lnd's testNow: 2020-06-18T07:25:34Z. */
export const TEST_NOW = 1592465134 * SECOND;
