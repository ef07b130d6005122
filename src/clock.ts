/**
 * Time, injected everywhere as lnd injects its clock.Clock and its tickers, so
 * that tests set the time and fire the timers instead of sleeping. Times are
 * milliseconds since the Unix epoch; fractions carry sub-millisecond precision
 * from event timestamps.
 */
export interface Clock {
  now(): number;
}

/** A callback scheduled by a Scheduler: once (`after`) or every interval (`every`). */
export interface Timer {
  /** Forgets the callback (every later run of an interval); safe after it ran, and twice. */
  cancel(): void;
  /** This timer alone does not keep the process running (Node's unref); returns the timer. */
  unref(): Timer;
}

export interface SleepOptions {
  /** Resolves at once when aborted (the sleep never rejects). */
  readonly signal?: AbortSignal;
  /** The sleep alone does not keep the process running. */
  readonly unref?: boolean;
}

/**
 * The clock and its timers: what a component that waits is given (lnd's
 * clock.Clock has Now and TickAfter; its ticker.Ticker is `every` here). Every
 * timer of src/ is taken from one; the system one (`systemScheduler`) is
 * chosen by the entry points, a TestClock by the tests.
 */
export interface Scheduler extends Clock {
  /** Runs `fn` once, `ms` from now. */
  after(ms: number, fn: () => void): Timer;
  /** Runs `fn` every `ms` from now on, until cancelled: a ticker. */
  every(ms: number, fn: () => void): Timer;
  /** Resolves `ms` from now, or when `options.signal` aborts; never rejects. */
  sleep(ms: number, options?: SleepOptions): Promise<void>;
}

/** A sleep on any scheduler's timers (the system's and the tests' share it). */
export function sleepOn(
  scheduler: Scheduler,
  ms: number,
  options: SleepOptions = {},
): Promise<void> {
  const { signal } = options;
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const done = (): void => {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = scheduler.after(ms, done);
    if (options.unref === true) timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}

function systemTimer(handle: NodeJS.Timeout, clear: (handle: NodeJS.Timeout) => void): Timer {
  const timer: Timer = {
    cancel: () => {
      clear(handle);
    },
    unref: () => {
      handle.unref();
      return timer;
    },
  };
  return timer;
}

/**
 * Node's clock and timers: the only place of src/ that calls Date.now(),
 * setTimeout and setInterval. A plain object, so that a benchmark can take its
 * timers with a clock of its own (`{ ...systemScheduler, now }`).
 */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  after: (ms, fn) => systemTimer(setTimeout(fn, ms), clearTimeout),
  every: (ms, fn) => systemTimer(setInterval(fn, ms), clearInterval),
  sleep: (ms, options) => sleepOn(systemScheduler, ms, options),
};
