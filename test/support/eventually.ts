/**
 * Polling with a bound, for states reached by real I/O (a server, a child
 * process, a network round trip) that no clock drives: try, pause, try again,
 * and fail with what was awaited once the limit has passed. Never a fixed sleep.
 */

export interface PollOptions {
  /** How long to keep trying before failing (default 10 s). */
  readonly limitMs?: number;
  /** The pause between two tries (default 25 ms). */
  readonly everyMs?: number;
  /**
   * Whether a try that throws only means "not yet" (a server still starting or
   * down on purpose); its last error is named when the wait times out. Off by
   * default for eventually and poll (the error ends the wait), on for pollUntil.
   */
  readonly retryErrors?: boolean;
}

/** What is awaited, for the timeout message; a function is called only then. */
export type WaitingFor = string | (() => string);

const DEFAULT_LIMIT_MS = 10_000;
const DEFAULT_EVERY_MS = 25;

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeValue(value: unknown): string {
  if (value === undefined || typeof value === 'boolean') return '';
  try {
    // undefined for a function or a symbol, whatever the lib typing says
    const json = JSON.stringify(value) as string | undefined;
    return json ?? typeof value;
  } catch {
    return typeof value;
  }
}

/**
 * Polls `probe` until `accept` holds for its value, and returns that value.
 * A probe that throws counts as "not yet" unless `retryErrors` is false; the
 * timeout message names the last value or error seen.
 */
export async function pollUntil<T>(
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean,
  what: WaitingFor,
  limit: number | PollOptions = {},
): Promise<T> {
  const options = typeof limit === 'number' ? { limitMs: limit } : limit;
  const limitMs = options.limitMs ?? DEFAULT_LIMIT_MS;
  const everyMs = options.everyMs ?? DEFAULT_EVERY_MS;
  const retryErrors = options.retryErrors ?? true;
  const deadline = Date.now() + limitMs;
  for (;;) {
    let last: string;
    try {
      const value = await probe();
      if (accept(value)) return value;
      last = describeValue(value);
    } catch (err) {
      if (!retryErrors) throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const awaited = typeof what === 'string' ? what : what();
      throw new Error(
        `timed out after ${limitMs} ms waiting for ${awaited}${last === '' ? '' : `; last: ${last}`}`,
      );
    }
    await delay(everyMs);
  }
}

/** Polls `probe` until it returns a value (anything but undefined or false), and returns it. */
export function poll<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: WaitingFor,
  limit: number | PollOptions = {},
): Promise<T> {
  const options = typeof limit === 'number' ? { limitMs: limit } : limit;
  return pollUntil(probe, (value): value is T => value !== undefined && value !== false, what, {
    retryErrors: false,
    ...options,
  }) as Promise<T>;
}

/** Polls until `condition` holds. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: WaitingFor,
  limit: number | PollOptions = {},
): Promise<void> {
  await poll(async () => (await condition()) || undefined, what, limit);
}
