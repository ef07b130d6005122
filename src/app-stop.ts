import type { Scheduler } from './clock.js';
import type { Logger } from './log/logger.js';
import { settleWithin } from './promises.js';

/**
 * stop() as a whole takes at most `total`, inside the 10 s an orchestrator
 * allows (main exits anyway at 9 s); each step takes at most its own share and
 * what is left of the total, whatever is down or hangs. The steps that keep
 * data (applying what was received, the final flush) come first.
 */
export const STOP_BUDGET_MS = {
  total: 8_000,
  drainReads: 2_000,
  finalSnapshot: 3_000,
  finalFlush: 4_000,
  closeStore: 1_000,
  closeNats: 1_500,
  consuming: 100,
  http: 2_000,
} as const;

/** A time budget on the scheduler's time: each step gets its share, cut to what is left. */
export class StopBudget {
  private readonly startedAt: number;

  constructor(
    private readonly clock: Scheduler,
    private readonly totalMs: number,
  ) {
    this.startedAt = clock.now();
  }

  /** Time since the budget started, ms. */
  elapsed(): number {
    return this.clock.now() - this.startedAt;
  }

  /** A step's share, cut to what is left of the total (0 once it is spent). */
  share(ms: number): number {
    return Math.max(0, Math.min(ms, this.totalMs - this.elapsed()));
  }

  /** Waits for the step, at most its share; its failure or lateness stops nothing. */
  async step(work: Promise<unknown>, shareMs: number): Promise<void> {
    await settleWithin(this.clock, work, this.share(shareMs));
  }
}

/** What the stop sequence stops, in its order. */
export interface StopParts {
  /** No more events are taken: the ingest, the observation ticker, core subscriptions. */
  readonly stopConsuming: () => void;
  /** The JetStream delivery, once there is one: stopped, its handed messages applied and acknowledged. */
  readonly jetstream: () => { stop(timeoutMs: number): Promise<void> } | undefined;
  /** Record reads in flight, and the events they hold. */
  readonly gate: { idle(): Promise<void> };
  /** The history's final snapshot (history on). */
  readonly keeper: { stop(): Promise<unknown> } | undefined;
  /** The final flush of flap records. */
  readonly flusher: { stop(): Promise<unknown> };
  readonly records: { close(): Promise<void> };
  /** Drains NATS within the time given. */
  readonly nats: { close(timeoutMs: number): Promise<void> };
  /** The consuming set-up, still running when NATS never came. */
  readonly consuming: Promise<void>;
  /** GraphQL subscriptions end (their clients get a complete event) instead of holding the close. */
  readonly events: { close(): void };
  readonly http: { close(): Promise<void> };
}

/**
 * The orderly stop: stops consuming, applies what is in flight, writes the
 * last snapshot and flushes flap counts, closes the store, NATS and HTTP;
 * within STOP_BUDGET_MS of the scheduler's time, whatever hangs.
 */
export async function stopSequence(
  parts: StopParts,
  clock: Scheduler,
  logger: Logger,
): Promise<void> {
  const budget = new StopBudget(clock, STOP_BUDGET_MS.total);
  logger.info('stopping: no more events are consumed');
  parts.stopConsuming();
  const jetstream = parts.jetstream();
  if (jetstream !== undefined) {
    const limit = budget.share(STOP_BUDGET_MS.drainReads);
    await budget.step(jetstream.stop(limit), limit);
  }
  await budget.step(parts.gate.idle(), STOP_BUDGET_MS.drainReads);
  if (parts.keeper !== undefined) {
    await budget.step(parts.keeper.stop(), STOP_BUDGET_MS.finalSnapshot);
  }
  await budget.step(parts.flusher.stop(), STOP_BUDGET_MS.finalFlush);
  await budget.step(parts.records.close(), STOP_BUDGET_MS.closeStore);
  await parts.nats.close(budget.share(STOP_BUDGET_MS.closeNats));
  await budget.step(parts.consuming, STOP_BUDGET_MS.consuming);
  parts.events.close();
  await budget.step(parts.http.close(), STOP_BUDGET_MS.http);
  logger.info({ ms: Math.round(budget.elapsed()) }, 'stopped');
}
