import { PersistenceError } from './errors.js';

/**
 * Settles like `work`, or rejects with STORE_TIMEOUT after `ms`: a backend
 * that hangs then behaves like one that fails. `work` goes on; its late
 * outcome is ignored (and its rejection handled).
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new PersistenceError('STORE_TIMEOUT', `${what} did not finish within ${ms} ms`));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
