/**
 * What every benchmark prints as its last line of standard output (one JSON
 * object), for bench/run.ts to collect into bench/RESULTS.md.
 */
export interface BenchRow {
  /** What was measured, e.g. "ingest, core NATS: events applied per second". */
  readonly metric: string;
  /** The figure of our code, with its unit. */
  readonly value: number;
  readonly unit: string;
  /** The same figure of the baseline measured in the same run, when there is one. */
  readonly baseline?: number;
  /** What the baseline is, e.g. "bare parse-only subscriber". */
  readonly baselineName?: string;
  /** value / baseline (or the inverse, as `target` says). */
  readonly ratio?: number;
  /** The target in words, e.g. ">= 0.7 of baseline", "< 300 MB". */
  readonly target?: string;
  /** Whether the target is met; undefined when the row only reports. */
  readonly pass?: boolean;
}

export interface BenchResult {
  readonly name: string;
  readonly rows: readonly BenchRow[];
  /** Free-form remarks: conditions, caveats, why a target is missed. */
  readonly notes?: readonly string[];
}

/** Prints the result as the final line, for the runner. */
export function report(result: BenchResult): void {
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}
