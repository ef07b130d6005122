import assert from 'node:assert/strict';
import { delay } from './eventually.js';

/** How fast /healthz must answer while something heavy runs beside it. */
export const HEALTH_LIMIT_MS = 500;

/** GETs /healthz over and over while an attack runs; stop() gives the latencies. */
export class HealthWatch {
  private stopped = false;
  private readonly latencies: number[] = [];
  private readonly failures: string[] = [];
  private readonly loop: Promise<void>;

  constructor(private readonly url: string) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = performance.now();
      try {
        const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
        await response.text();
        if (response.status !== 200) this.failures.push(`status ${response.status}`);
      } catch (err) {
        this.failures.push(String(err));
      }
      this.latencies.push(performance.now() - started);
      await delay(20);
    }
  }

  /** Stops, and asserts that every probe answered 200 within the limit, and that there were some. */
  async stop(atLeast: number): Promise<void> {
    this.stopped = true;
    await this.loop;
    assert.deepEqual(this.failures, []);
    assert.ok(this.latencies.length >= atLeast, `only ${this.latencies.length} probes`);
    const slowest = Math.max(...this.latencies);
    assert.ok(
      slowest < HEALTH_LIMIT_MS,
      `/healthz took ${slowest.toFixed(0)} ms (limit ${HEALTH_LIMIT_MS})`,
    );
  }
}
