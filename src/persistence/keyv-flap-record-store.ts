import type { Keyv } from 'keyv';
import { pino, type Logger } from 'pino';
import { systemScheduler, type Scheduler } from '../clock.js';
import type { StoreLocation } from '../config/settings.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import { redactUrl } from '../log/redact-url.js';
import type { FlapRecord } from '../store/peer-monitor.js';
import { BatchLoader } from './batch-loader.js';
import { PersistenceError, storeErrorMessage } from './errors.js';
import {
  decodeFlapRecord,
  encodeFlapRecord,
  flapRecordKey,
  type StoredFlapRecord,
} from './flap-record-codec.js';
import type { FlapRecordStore } from './flap-record-store.js';
import type { KeyvBackend } from './keyv-backend.js';
import { openKeyvBackend } from './open-keyv-backend.js';
import { withTimeout } from './timeout.js';

export const DEFAULT_STORE_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_BATCH_SIZE = 1_000;
export const STORE_NAMESPACE = 'chanfitness';
/**
 * How many turns of the event loop a read waits for others to share its batch.
 * A query costs far more than a key in it (a single-key SQLite read costs as
 * much CPU as a hundred keys of a batch): peers first seen one by one, as
 * channels open in a busy stream, are read together instead of one query
 * each. Counted in turns, not time: a busy loop (a turn per chunk of
 * messages) collects more, an idle one dispatches within microseconds, and
 * no timer is involved.
 */
export const DEFAULT_READ_BATCH_TURNS = 8;

export interface KeyvFlapRecordStoreOptions {
  /** Bound on each operation (--store.timeout), ms. */
  readonly timeoutMs?: number;
  /** Most keys per getMany/setMany. */
  readonly maxBatchSize?: number;
  readonly logger?: Logger;
  /** The operations' timeouts and the log's rate limit; the system scheduler by default. */
  readonly clock?: Scheduler;
  /** When collected reads go out; DEFAULT_READ_BATCH_TURNS turns after the first by default. */
  readonly schedule?: (dispatch: () => void) => void;
}

export interface OpenFlapRecordStoreOptions extends KeyvFlapRecordStoreOptions {
  /** Keyv namespace; `chanfitness` (tests use a private one). */
  readonly namespace?: string;
  /** PostgreSQL table; @keyv/postgres's `keyv` by default. */
  readonly postgresTable?: string;
  /** What a relative SQLite path is relative to; the working directory by default. */
  readonly cwd?: string;
}

/** Counters of the record store, for logs and metrics. */
export class FlapRecordStoreStats {
  /** getMany calls. */
  readBatches = 0;
  readFailures = 0;
  /** setMany calls. */
  writeBatches = 0;
  writeFailures = 0;
  /** Operations that did not finish within the timeout (also counted as failures). */
  timeouts = 0;
  /** Stored values that did not decode and were taken as absent. */
  invalidRecords = 0;
  /** Records skipped by a write because they cannot be stored. */
  unwritableRecords = 0;
  /** Error events of the backend (dropped connections, ...). */
  backendErrors = 0;
  /** False from a failed operation until one succeeds. */
  up = true;
  /** When the store went down (the first failure since the last success), ms. */
  downSince: number | undefined;
}

/** Runs a dispatch once the event loop has turned `turns` times. */
function afterTurns(turns: number): (dispatch: () => void) => void {
  return (dispatch) => {
    let left = turns;
    const turn = (): void => {
      left -= 1;
      if (left <= 0) dispatch();
      else setImmediate(turn);
    };
    setImmediate(turn);
  };
}

/**
 * Opens the flap record store at the location the settings parsed from
 * --store.url (the store settings themselves will do). Throws
 * STORE_OPEN_FAILED (a settings error) when a SQLite file cannot be opened;
 * Redis and PostgreSQL may be down: they are reached later.
 */
export async function openFlapRecordStore(
  location: StoreLocation,
  options: OpenFlapRecordStoreOptions = {},
): Promise<KeyvFlapRecordStore> {
  const backend = await openKeyvBackend(
    location,
    {
      namespace: options.namespace ?? STORE_NAMESPACE,
      timeoutMs: options.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS,
      postgresTable: options.postgresTable,
      clock: options.clock,
    },
    options.cwd,
  );
  options.logger?.info(
    { store: redactUrl(location.url), backend: location.backend },
    'flap record store opened',
  );
  return new KeyvFlapRecordStore(backend, options);
}

/**
 * Flap records in a Keyv store. Reads are coalesced into getMany batches
 * (a node's start-up bootstrap reads every peer at once), writes go out in
 * setMany batches, and every operation is bounded by the timeout.
 */
export class KeyvFlapRecordStore implements FlapRecordStore {
  readonly stats = new FlapRecordStoreStats();
  private readonly timeoutMs: number;
  private readonly maxBatchSize: number;
  private readonly logger: Logger;
  private readonly logLimiter: RateLimitedLog;
  private readonly clock: Scheduler;
  private readonly loader: BatchLoader<FlapRecord | undefined>;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly backend: KeyvBackend,
    options: KeyvFlapRecordStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.clock = options.clock ?? systemScheduler;
    this.logLimiter = new RateLimitedLog(this.clock);
    this.loader = new BatchLoader((keys) => this.readBatch(keys), {
      maxBatchSize: this.maxBatchSize,
      schedule: options.schedule ?? afterTurns(DEFAULT_READ_BATCH_TURNS),
    });
    // Keyv's error events never throw, but say why operations fail.
    backend.keyv.on('error', (err: unknown) => {
      this.stats.backendErrors += 1;
      this.logLimiter.log('backend', (suppressed) => {
        this.logger.warn(
          { backend: backend.kind, err: storeErrorMessage(err), suppressed },
          'flap record store error',
        );
      });
    });
  }

  read(node: string, pubkey: string): Promise<FlapRecord | undefined> {
    return this.loader.load(flapRecordKey(node, pubkey));
  }

  async readMany(node: string, pubkeys: Iterable<string>): Promise<Map<string, FlapRecord>> {
    const unique = [...new Set(pubkeys)];
    const records = await Promise.all(unique.map((pubkey) => this.read(node, pubkey)));
    const found = new Map<string, FlapRecord>();
    unique.forEach((pubkey, i) => {
      const record = records[i];
      if (record !== undefined) found.set(pubkey, record);
    });
    return found;
  }

  async write(node: string, records: ReadonlyMap<string, FlapRecord>): Promise<void> {
    const entries: { key: string; value: StoredFlapRecord }[] = [];
    for (const [pubkey, record] of records) {
      const key = flapRecordKey(node, pubkey);
      try {
        entries.push({ key, value: encodeFlapRecord(record) });
      } catch (err) {
        // Cannot happen with the store's records; if it did, it must not block the others.
        this.stats.unwritableRecords += 1;
        this.logLimiter.log('unwritable', (suppressed) => {
          this.logger.error(
            { key, err: storeErrorMessage(err), suppressed },
            'flap record cannot be stored; skipped',
          );
        });
      }
    }
    // In order, stopping at the first failure: the rest would wait out the timeout too.
    for (let i = 0; i < entries.length; i += this.maxBatchSize) {
      const batch = entries.slice(i, i + this.maxBatchSize);
      this.stats.writeBatches += 1;
      await this.run('write', `writing ${batch.length} flap records of ${node}`, async () => {
        // Keyv answers false per entry (or nothing, with an adapter's setMany) when not throwing.
        const results: unknown = await this.backend.keyv.setMany(batch);
        if (Array.isArray(results) && results.includes(false)) {
          throw new PersistenceError('STORE_WRITE_FAILED', 'the store did not take every record');
        }
      });
    }
  }

  /**
   * One bounded operation on the same Keyv store, for other kinds of state
   * kept beside the flap records (history): the same timeout, repair and
   * coded errors as the records' own operations.
   */
  operate<T>(
    kind: 'read' | 'write',
    what: string,
    op: (keyv: Keyv<unknown>) => Promise<T>,
  ): Promise<T> {
    if (kind === 'read') this.stats.readBatches += 1;
    else this.stats.writeBatches += 1;
    return this.run(kind, what, () => op(this.backend.keyv));
  }

  /** True from the moment it is opened until close() is called. */
  get isOpen(): boolean {
    return !this.closed;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async readBatch(keys: readonly string[]): Promise<(FlapRecord | undefined)[]> {
    this.stats.readBatches += 1;
    const values = await this.run('read', `reading ${keys.length} flap records`, () =>
      this.backend.keyv.getMany([...keys]),
    );
    return values.map((value, i) => this.decode(keys[i] ?? '', value));
  }

  private decode(key: string, value: unknown): FlapRecord | undefined {
    const decoded = decodeFlapRecord(value);
    if (decoded.kind === 'record') return decoded.record;
    if (decoded.kind === 'invalid') {
      this.stats.invalidRecords += 1;
      this.logLimiter.log('invalid', (suppressed) => {
        this.logger.warn(
          { key, reason: decoded.reason, suppressed },
          'stored flap record does not decode; taken as absent',
        );
      });
    }
    return undefined;
  }

  /** One bounded operation; failures become PersistenceErrors with a code. */
  private async run<T>(kind: 'read' | 'write', what: string, op: () => Promise<T>): Promise<T> {
    if (this.closed) {
      throw new PersistenceError('STORE_CLOSED', `${what}: the flap record store is closed`);
    }
    try {
      const result = await withTimeout(this.clock, this.attempt(op), this.timeoutMs, what);
      this.stats.up = true;
      this.stats.downSince = undefined;
      return result;
    } catch (err) {
      if (kind === 'read') this.stats.readFailures += 1;
      else this.stats.writeFailures += 1;
      // Not for operations cut by close(): a store closed on purpose is not down.
      if (this.isOpen) {
        this.stats.up = false;
        this.stats.downSince ??= this.clock.now();
      }
      if (err instanceof PersistenceError) {
        if (err.code === 'STORE_TIMEOUT') this.stats.timeouts += 1;
        throw err;
      }
      throw new PersistenceError(
        kind === 'read' ? 'STORE_READ_FAILED' : 'STORE_WRITE_FAILED',
        `${what} (${this.backend.kind}) failed: ${storeErrorMessage(err)}`,
        { cause: err },
      );
    }
  }

  private async attempt<T>(op: () => Promise<T>): Promise<T> {
    await this.backend.ready();
    try {
      return await op();
    } catch (err) {
      if (await this.backend.repair(err)) return op();
      throw err;
    }
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    try {
      await withTimeout(
        this.clock,
        this.backend.close(),
        this.timeoutMs,
        'closing the flap record store',
      );
    } catch (err) {
      this.logger.warn({ err: storeErrorMessage(err) }, 'flap record store did not close cleanly');
    }
  }
}
