import type { HistoryCorruptError, HistoryFormatError } from './history-codec.js';

/**
 * Why persisted history was not restored: the code of the error that said so,
 * and the `reason` label of chanfitness_history_rejected_total.
 */
export type HistoryRejectReason = (HistoryFormatError | HistoryCorruptError)['code'];

/**
 * What the history keeper did, read by the metrics collector at scrape time.
 * Times are milliseconds since the Unix epoch, durations milliseconds.
 */
export class HistoryStats {
  /** History is on (--history); when false the collector exports nothing of it. */
  enabled = false;
  writeSuccess = 0;
  writeError = 0;
  /** Bytes written by the last successful snapshot write (keys and values). */
  lastWriteBytes: number | undefined;
  /** Duration of the last successful snapshot write. */
  lastWriteDurationMs: number | undefined;
  /** End of the last successful snapshot write; undefined before one. */
  lastSuccessAt: number | undefined;
  /** Longest synchronous step of the last write (capture or encoding of a chunk). */
  lastWriteLongestStepMs: number | undefined;
  /** How long restoring took at start; undefined until it has succeeded. */
  restoreDurationMs: number | undefined;
  /** True once persisted state is restored (or found absent); snapshots are written only then. */
  restored = false;
  /** Failed restore attempts (the store was down); retried until one succeeds. */
  restoreFailures = 0;
  /** Persisted nodes ignored at restore, by reason. */
  readonly rejected: Record<HistoryRejectReason, number> = { format: 0, corrupt: 0 };
  /** Counts the events kept while the restore is awaited (core NATS); set by the keeper. */
  pendingCounter: (() => number) | undefined;
  /** Nodes whose kept events went past --history.pending-limit (the later ones are lost). */
  pendingOverflow = 0;

  /** Events applied while the restore waits, to be joined to it. */
  get pendingEvents(): number {
    return this.pendingCounter?.() ?? 0;
  }
  /** Committed events dropped by retention compaction. */
  compactedEvents = 0;
}
