import type { Clock } from '../clock.js';

/**
 * Lets at most `burst` lines per key through each interval, then reports how
 * many were held back, so that a flood of bad input cannot flood the log.
 */
export class RateLimitedLog {
  private readonly windows = new Map<
    string,
    { start: number; emitted: number; suppressed: number }
  >();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs = 60_000,
    private readonly burst = 5,
    /** Keys are bounded by the caller (reasons, nodes); this caps them anyway. */
    private readonly maxKeys = 1_000,
  ) {}

  /**
   * Calls `emit` with the number of lines suppressed since the last one that
   * went through, or does nothing when this key is over its budget.
   */
  log(key: string, emit: (suppressed: number) => void): void {
    const now = this.clock.now();
    let window = this.windows.get(key);
    if (window === undefined || now - window.start >= this.intervalMs) {
      const suppressed = window?.suppressed ?? 0;
      if (window === undefined && this.windows.size >= this.maxKeys) this.windows.clear();
      window = { start: now, emitted: 0, suppressed: 0 };
      this.windows.set(key, window);
      window.emitted = 1;
      emit(suppressed);
      return;
    }
    if (window.emitted < this.burst) {
      window.emitted += 1;
      emit(0);
      return;
    }
    window.suppressed += 1;
  }
}
