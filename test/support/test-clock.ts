import { sleepOn, type Scheduler, type SleepOptions, type Timer } from '../../src/clock.js';

interface Scheduled {
  /** When it runs next. */
  due: number;
  /** Order of scheduling: timers due at the same time run in it, as Node runs them. */
  order: number;
  readonly fn: () => void;
  /** The interval of an `every`; undefined for an `after`. */
  readonly every: number | undefined;
}

/** Node's delays: below 1 ms (or not a number, or beyond 2^31-1 ms) is 1 ms. */
function nodeDelay(ms: number): number {
  return ms >= 1 && ms <= 2 ** 31 - 1 ? ms : 1;
}

/** One turn of the event loop, a few times over: what a fired timer started settles. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The tests' scheduler, as lnd's clock.NewTestClock: the time is what the test
 * sets, and timers run only when the time reaches them, in order, each at its
 * own due time (an interval as many times as it falls due). Nothing waits for
 * real time.
 *
 * - `set` / `advance` move the time synchronously, running the due timers;
 * - `tickAsync` moves it like advance, but lets the event loop run before each
 *   timer (what the previous one started, a flush, a request, settles first)
 *   and at the end, as sinon's tickAsync;
 * - `runUntil` fires the next timer, whenever it is due, until a promise settles.
 */
export class TestClock implements Scheduler {
  private readonly timers = new Set<Scheduled>();
  private order = 0;

  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): Timer {
    return this.add(nodeDelay(ms), fn, undefined);
  }

  every(ms: number, fn: () => void): Timer {
    const interval = nodeDelay(ms);
    return this.add(interval, fn, interval);
  }

  sleep(ms: number, options?: SleepOptions): Promise<void> {
    return sleepOn(this, ms, options);
  }

  /** Timers scheduled and not run yet (an interval counts until cancelled). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** When the next timer is due; undefined when none is scheduled. */
  nextDue(): number | undefined {
    return this.next()?.due;
  }

  /** Sets the time; moving it forward runs the timers due by then, in order. Moving it back runs none. */
  set(time: number): void {
    for (let timer = this.next(); timer !== undefined && timer.due <= time; timer = this.next()) {
      this.fire(timer);
    }
    this.time = time;
  }

  /** Moves the time forward by `ms`, running the timers due by then; returns the new time. */
  advance(ms: number): number {
    this.set(this.time + ms);
    return this.time;
  }

  /**
   * Moves the time forward by `ms` as advance does, letting the event loop run
   * before each due timer and at the end; returns the new time.
   */
  async tickAsync(ms: number): Promise<number> {
    const target = this.time + ms;
    for (;;) {
      await settle();
      const timer = this.next();
      if (timer === undefined || timer.due > target) break;
      this.fire(timer);
    }
    this.time = Math.max(this.time, target);
    return this.time;
  }

  /**
   * Resolves like `promise`, firing the next timer (moving the time to it)
   * whenever the event loop has settled and the promise is still pending:
   * what waits on timers (a paced write, a stop within its budget) runs
   * through without the test sleeping. While no timer is scheduled, the
   * event loop just turns (real I/O goes on).
   */
  async runUntil<T>(promise: Promise<T>): Promise<T> {
    const state = { settled: false };
    const observed = promise.finally(() => {
      state.settled = true;
    });
    observed.catch(() => undefined);
    for (;;) {
      await settle();
      if (state.settled) return observed;
      const timer = this.next();
      if (timer !== undefined) this.fire(timer);
    }
  }

  private add(delay: number, fn: () => void, every: number | undefined): Timer {
    const scheduled: Scheduled = { due: this.time + delay, order: this.order++, fn, every };
    this.timers.add(scheduled);
    const timer: Timer = {
      cancel: () => {
        this.timers.delete(scheduled);
      },
      unref: () => timer,
    };
    return timer;
  }

  private next(): Scheduled | undefined {
    let first: Scheduled | undefined;
    for (const timer of this.timers) {
      if (first === undefined || timer.due < first.due) first = timer;
      else if (timer.due === first.due && timer.order < first.order) first = timer;
    }
    return first;
  }

  private fire(timer: Scheduled): void {
    this.time = Math.max(this.time, timer.due);
    if (timer.every === undefined) this.timers.delete(timer);
    else {
      timer.due += timer.every;
      timer.order = this.order++;
    }
    timer.fn();
  }
}

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** lnd's testNow: 2020-06-18T07:25:34Z. */
export const TEST_NOW = 1592465134 * SECOND;
