import type { Logger } from 'pino';
import type { Scheduler, Timer } from '../clock.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import type { FlapRecord } from '../store/peer-monitor.js';
import { storeErrorMessage } from './errors.js';
import type { FlapRecordStore } from './flap-record-store.js';
import type { FlushStats } from './flush-stats.js';
import { withTimeout } from './timeout.js';

export const DEFAULT_RETRY_DELAY_MS = 5_000;
export const DEFAULT_STOP_TIMEOUT_MS = 20_000;

/** What the flusher needs of a node's ChannelEventStore. */
export interface FlushableStore {
  readonly node: string;
  flapRecordsToFlush(): Map<string, FlapRecord>;
}

/** The node stores (NodeStores). */
export interface FlushableStores<S extends FlushableStore = FlushableStore> {
  values(): Iterable<S>;
}

export interface FlapFlusherOptions<S extends FlushableStore = FlushableStore> {
  readonly stores: FlushableStores<S>;
  /**
   * Reads again the records of the store's peers whose read failed, merging
   * those it can (RecordGate.retryRecordReads); resolves with how many are
   * still unmerged.
   */
  readonly retryRecordReads: (store: S) => Promise<number>;
  readonly records: Pick<FlapRecordStore, 'write'>;
  readonly stats: FlushStats;
  readonly logger: Logger;
  /** The flush timer, the stop's bound, the flushes' times. */
  readonly clock: Scheduler;
  /** --flap.flush-interval, ms. */
  readonly intervalMs: number;
  /** First retry after a failed flush; doubles up to the interval. */
  readonly retryDelayMs?: number;
  /** Bound on stop(): the in-flight flush and the final one. */
  readonly stopTimeoutMs?: number;
  /**
   * The records to write for a store; its live records by default. With
   * history, those of its last committed snapshot: a restart that replays
   * the events since then must not find their flaps already counted.
   */
  readonly recordsOf?: (store: S) => Map<string, FlapRecord>;
}

/** What one flush did. */
export interface FlushOutcome {
  /** Every record written and every record read merged. */
  readonly ok: boolean;
  readonly nodes: number;
  /** Records written. */
  readonly records: number;
  /** Nodes whose write (or read retry) failed. */
  readonly failedNodes: readonly string[];
  /** Peers whose persisted record still could not be read (so not written). */
  readonly unmerged: number;
  readonly durationMs: number;
}

/**
 * Writes every node's flap records on a timer and once more at stop: lnd's
 * recordFlapCount. Before writing a node it retries the record reads that
 * failed, so that a peer first seen while the store was down gets its
 * persisted count merged, not overwritten. Every flush writes every record,
 * so a failed one loses nothing: the next rewrites it, and while flushes fail
 * the next comes sooner (retryDelayMs doubling up to the interval). Flushes
 * never overlap; a slow one delays the next.
 */
export class FlapFlusher<S extends FlushableStore = FlushableStore> {
  private timer: Timer | undefined;
  private running: Promise<FlushOutcome> | undefined;
  private queued: Promise<FlushOutcome> | undefined;
  private failures = 0;
  private started = false;
  private stopping: Promise<FlushOutcome | undefined> | undefined;
  private readonly retryDelayMs: number;
  private readonly stopTimeoutMs: number;
  private readonly logLimiter: RateLimitedLog;

  constructor(private readonly options: FlapFlusherOptions<S>) {
    this.retryDelayMs = Math.min(
      options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      options.intervalMs,
    );
    this.stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.logLimiter = new RateLimitedLog(options.clock);
  }

  /** Consecutive failed flushes. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Starts the timer: the first flush comes after one interval. */
  start(): void {
    if (this.started || this.stopping !== undefined) return;
    this.started = true;
    this.schedule(this.options.intervalMs);
  }

  /**
   * Flushes now, or right after the flush in flight (a flush already waiting
   * for it is shared). Never rejects.
   */
  flushNow(): Promise<FlushOutcome> {
    if (this.running === undefined) return this.begin();
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.begin();
    });
    return this.queued;
  }

  /** Resolves when no flush is in flight or waiting. */
  async idle(): Promise<void> {
    while (this.running !== undefined || this.queued !== undefined) {
      await (this.queued ?? this.running);
    }
  }

  /**
   * Stops the timer, waits for the flush in flight, then flushes once more;
   * bounded by stopTimeoutMs. Resolves with the final flush's outcome
   * (undefined when it did not finish in time); never rejects.
   */
  stop(): Promise<FlushOutcome | undefined> {
    this.stopping ??= this.finish();
    return this.stopping;
  }

  private async finish(): Promise<FlushOutcome | undefined> {
    this.timer?.cancel();
    this.timer = undefined;
    try {
      const outcome = await withTimeout(
        this.options.clock,
        this.flushNow(),
        this.stopTimeoutMs,
        'the final flap flush',
      );
      this.options.logger.info(
        { records: outcome.records, ok: outcome.ok },
        'final flap record flush done',
      );
      return outcome;
    } catch (err) {
      this.options.logger.error(
        { err: storeErrorMessage(err) },
        'final flap record flush unfinished',
      );
      return undefined;
    }
  }

  private begin(): Promise<FlushOutcome> {
    const run = this.flushOnce().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async flushOnce(): Promise<FlushOutcome> {
    const { clock, records, stats } = this.options;
    const startedAt = clock.now();
    const stores = [...this.options.stores.values()];
    const failedNodes: string[] = [];
    let written = 0;
    let unmerged = 0;
    let firstError: unknown;
    for (const store of stores) {
      try {
        // Merging first: a record written before its read succeeds would overwrite the persisted count.
        unmerged += await this.options.retryRecordReads(store);
        const toFlush = this.options.recordsOf?.(store) ?? store.flapRecordsToFlush();
        if (toFlush.size > 0) await records.write(store.node, toFlush);
        written += toFlush.size;
      } catch (err) {
        failedNodes.push(store.node);
        firstError ??= err;
      }
    }
    const ok = failedNodes.length === 0 && unmerged === 0;
    const outcome: FlushOutcome = {
      ok,
      nodes: stores.length,
      records: written,
      failedNodes,
      unmerged,
      durationMs: clock.now() - startedAt,
    };
    if (ok) {
      stats.success += 1;
      stats.lastSuccessAt = clock.now();
      this.logSuccess(outcome);
      this.failures = 0;
    } else {
      stats.error += 1;
      this.failures += 1;
    }
    const next = ok ? this.options.intervalMs : this.retryDelay();
    if (!ok) this.logFailure(outcome, firstError, next);
    if (this.started && this.stopping === undefined) this.schedule(next);
    return outcome;
  }

  private retryDelay(): number {
    const delay = this.retryDelayMs * 2 ** Math.min(this.failures - 1, 30);
    return Math.min(delay, this.options.intervalMs);
  }

  private schedule(delayMs: number): void {
    this.timer?.cancel();
    this.timer = this.options.clock
      .after(delayMs, () => {
        this.timer = undefined;
        void this.flushNow();
      })
      // The timer alone must not keep the process alive.
      .unref();
  }

  private logSuccess(outcome: FlushOutcome): void {
    const fields = { records: outcome.records, nodes: outcome.nodes, ms: outcome.durationMs };
    if (this.failures > 0) {
      this.options.logger.info(
        { ...fields, failedFlushes: this.failures },
        'flap records flushed again',
      );
    } else {
      this.options.logger.debug(fields, 'flap records flushed');
    }
  }

  private logFailure(outcome: FlushOutcome, err: unknown, retryInMs: number): void {
    this.logLimiter.log('flush-failed', (suppressed) => {
      this.options.logger.warn(
        {
          failedNodes: outcome.failedNodes,
          unmergedPeers: outcome.unmerged,
          records: outcome.records,
          err: err === undefined ? undefined : storeErrorMessage(err),
          retryInMs,
          suppressed,
        },
        outcome.failedNodes.length > 0
          ? 'flap record flush failed; records are kept and written again'
          : 'flap records of some peers cannot be read yet; they are not written until merged',
      );
    });
  }
}
