import { Keyv, type KeyvStoreAdapter } from 'keyv';
import type { Scheduler } from '../clock.js';
import type { StoreBackend } from '../config/settings.js';
import { keyvDeserialize, keyvSerialize } from './flap-record-codec.js';

/** What every backend is opened with. */
export interface KeyvBackendOptions {
  /** Keyv namespace: `chanfitness` (tests use a private one). */
  readonly namespace: string;
  /** Bound on connecting and on each operation, ms. */
  readonly timeoutMs: number;
  /** PostgreSQL table (default `keyv`, @keyv/postgres's own). */
  readonly postgresTable?: string;
  /** The timers of the bounds this side of the client library; the system scheduler by default. */
  readonly clock?: Scheduler;
}

/**
 * A Keyv instance over one adapter, with what the adapters do differently
 * hidden behind two hooks. Every failure of the backend reaches callers as a
 * rejection (Keyv and the adapters are configured to throw, not to answer
 * "no value"); the backend's own error events (a dropped connection, ...) are
 * emitted as Keyv 'error' events, which never throw.
 */
export interface KeyvBackend {
  readonly kind: StoreBackend;
  readonly keyv: Keyv<unknown>;
  /** Resolves when the backend can take a command; rejects when it cannot now. */
  ready(): Promise<void>;
  /** Repairs what a failure revealed (a missing table); true when the operation is worth one more try. */
  repair(err: unknown): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A Keyv that throws instead of answering "no value" on errors, and whose
 * deserializer never throws (see keyvDeserialize).
 */
export function newKeyv(
  adapter: KeyvStoreAdapter,
  namespace: string,
  useKeyPrefix: boolean,
): Keyv<unknown> {
  return new Keyv<unknown>(adapter, {
    namespace,
    useKeyPrefix,
    throwOnErrors: true,
    serialize: keyvSerialize,
    deserialize: keyvDeserialize,
  });
}
