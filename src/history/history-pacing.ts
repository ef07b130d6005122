import { performance as perfHooks } from 'node:perf_hooks';
import type { HistoryKv } from './history-kv.js';

/** A synchronous step of a snapshot yields to the event loop once it has run this long. */
export const STEP_MS = 10;

/** Approximate payload per setMany call: Keyv serializes a call's values in one go. */
const WRITE_BATCH_CHARS = 256 * 1024;
const WRITE_BATCH_KEYS = 200;

/**
 * Share of the time a paced snapshot's own steps take when the event loop is
 * saturated (the rest is ingestion's). Its writes also take the store's own
 * CPU (SQLite's on libuv's pool, Redis's in its server) from the cores
 * ingestion shares: measured, ingestion keeps about 90% of its pace with
 * this share.
 */
export const PACED_SHARE = 0.03;

/** Longest break of a paced snapshot between two steps. */
const MAX_PAUSE_MS = 1_000;

/**
 * Times the steps of a snapshot and, when pacing, follows each with a break
 * long enough that the steps take about `share` of the time while the event
 * loop is busy. The break scales with how busy the loop was during the last
 * one: an idle process writes its snapshot at once, a saturated one gets
 * (1 - share) of the time.
 */
export class Pacer {
  private startedAt = 0;
  /** Share of the last break the event loop spent on other work; 1 before any. */
  private busy = 1;

  constructor(
    private readonly share: number | undefined,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly utilization: () => () => number = loopUtilization,
  ) {}

  begin(): void {
    // The machine's clock, not the scheduler's: a break is sized by the time the step really took.
    this.startedAt = performance.now();
  }

  elapsed(): number {
    return performance.now() - this.startedAt;
  }

  /** Ends the step, then lets the event loop run (for a while, when pacing). */
  async pause(): Promise<void> {
    const ms = this.elapsed();
    if (this.share === undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      return;
    }
    const since = this.utilization();
    await this.sleep(Math.max(1, Math.min(ms * (1 / this.share - 1) * this.busy, MAX_PAUSE_MS)));
    const busy = since();
    this.busy = Number.isFinite(busy) ? Math.min(1, Math.max(0, busy)) : 1;
  }
}

/** Event-loop utilization from now until the returned function is called. */
function loopUtilization(): () => number {
  const start = perfHooks.eventLoopUtilization();
  return () => perfHooks.eventLoopUtilization(start).utilization;
}

/**
 * Collects a snapshot's writes into setMany batches of about WRITE_BATCH_CHARS:
 * Keyv serializes a batch in one go, so its size bounds that stall.
 */
export class BatchWriter {
  bytes = 0;
  readonly keys: string[] = [];
  private batch: { key: string; value: unknown }[] = [];
  private chars = 0;

  constructor(
    private readonly kv: HistoryKv,
    private readonly pacer: Pacer,
    private readonly written: (key: string) => void,
  ) {}

  get full(): boolean {
    return this.chars >= WRITE_BATCH_CHARS || this.batch.length >= WRITE_BATCH_KEYS;
  }

  add(key: string, value: unknown, chars: number): void {
    this.batch.push({ key, value });
    this.chars += chars;
    this.bytes += chars;
    this.keys.push(key);
  }

  /** Writes what is collected; each batch is a paced step of its own. */
  async flush(): Promise<void> {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    this.chars = 0;
    for (const { key } of batch) this.written(key);
    this.pacer.begin();
    await this.kv.setMany(batch);
    await this.pacer.pause();
  }
}
