import { CodedError, errorMessage } from '../errors.js';

export type PersistenceErrorCode =
  /**
   * --store.url, checked by the settings (parseStoreUrl), is still refused by
   * the Redis client (a settings error: exit code 2).
   */
  | 'INVALID_STORE_URL'
  /** The store could not be opened at start-up (e.g. the SQLite file or its folder cannot be created). */
  | 'STORE_OPEN_FAILED'
  /** A store operation did not finish within --store.timeout. */
  | 'STORE_TIMEOUT'
  | 'STORE_READ_FAILED'
  | 'STORE_WRITE_FAILED'
  /** The record store was closed. */
  | 'STORE_CLOSED'
  /** A flap record that cannot be stored (negative or fractional count, time out of range). */
  | 'INVALID_FLAP_RECORD';

/** An error of the flap record persistence. */
export class PersistenceError extends CodedError<PersistenceErrorCode> {}

/**
 * The message of an error from a backend: that of errorMessage, or the causes
 * of an AggregateError without one (Node's failed dual-stack connections).
 */
export function storeErrorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    return (err.errors as unknown[]).map((cause) => errorMessage(cause)).join('; ');
  }
  return errorMessage(err);
}
