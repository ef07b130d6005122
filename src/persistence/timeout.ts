import type { Scheduler } from '../clock.js';
import { PersistenceError } from './errors.js';

/**
 * Settles like `work`, or rejects with STORE_TIMEOUT after `ms` of the
 * scheduler's time: a backend that hangs then behaves like one that fails.
 * `work` goes on; its late outcome is ignored (and its rejection handled).
 */
export function withTimeout<T>(
  clock: Scheduler,
  work: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.after(ms, () => {
      reject(new PersistenceError('STORE_TIMEOUT', `${what} did not finish within ${ms} ms`));
    });
    work.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (err: unknown) => {
        timer.cancel();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
