import type { Scheduler } from './clock.js';

/** A promise settled from outside; its rejection counts as handled (whoever awaits it sees it). */
export function later<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
} {
  let resolve: (value: T) => void = () => undefined;
  let reject: (err: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** How a promise settled within a time limit. */
export type Settled =
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly err: unknown }
  | { readonly kind: 'timeout' };

/**
 * Waits for the promise, but no longer than the limit on the scheduler's
 * time; says how it settled. After a timeout the promise goes on, and its
 * outcome is ignored (its rejection handled).
 */
export async function settleWithin(
  clock: Scheduler,
  promise: Promise<unknown>,
  limitMs: number,
): Promise<Settled> {
  let timedOut: (settled: Settled) => void = () => undefined;
  const timeout = new Promise<Settled>((resolve) => {
    timedOut = resolve;
  });
  const timer = clock.after(limitMs, () => {
    timedOut({ kind: 'timeout' });
  });
  try {
    return await Promise.race([
      promise.then(
        (): Settled => ({ kind: 'done' }),
        (err: unknown): Settled => ({ kind: 'failed', err }),
      ),
      timeout,
    ]);
  } finally {
    timer.cancel();
  }
}
