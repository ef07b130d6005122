/**
 * Waiting for the machine to be quiet before a measured run: other work on
 * it (a test run, a type check) takes a core of two and decides a ratio
 * more than the code under test does. Reads /proc/stat; where it is
 * missing, does not wait.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Busy and total jiffies of all CPUs so far. */
function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    // idle and iowait
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** The share of all CPUs busy over the next `ms`. */
export async function busyShare(ms: number): Promise<number> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  if (a === undefined || b === undefined || b.total === a.total) return 0;
  return (b.busy - a.busy) / (b.total - a.total);
}

export interface Quiet {
  /** The busy share of the last half second waited. */
  readonly busy: number;
  /** Whether it was quiet when the wait ended (false: gave up). */
  readonly quiet: boolean;
}

/**
 * Waits until the machine's CPUs are at most `threshold` busy over half a
 * second (the caller's own processes idle meanwhile), at most `maxMs`.
 */
export async function waitForQuiet(threshold = 0.15, maxMs = 30_000): Promise<Quiet> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const busy = await busyShare(500);
    if (busy <= threshold) return { busy, quiet: true };
    if (performance.now() >= deadline) return { busy, quiet: false };
  }
}

/** Counts the runs that started on a busy machine, for the notes. */
export class QuietLog {
  runs = 0;
  busyRuns = 0;

  async wait(): Promise<void> {
    const { quiet } = await waitForQuiet();
    this.runs += 1;
    if (!quiet) this.busyRuns += 1;
  }

  note(): string {
    return this.busyRuns === 0
      ? `Before each of the ${this.runs} measured runs the machine was idle (at most 15% of its CPUs busy over half a second).`
      : `${this.busyRuns} of the ${this.runs} measured runs started while other work kept the machine busy (over 15% of its CPUs after 30 s of waiting): their figures are the most disturbed.`;
  }
}
