/**
 * Per-call timing for microbenchmarks: batches sized to take a few
 * milliseconds each, the median batch reported, results folded into a sink so
 * that the optimizer cannot drop the calls.
 */

let sink = 0;

/** Keeps results alive; read it once at the end so that nothing is optimized away. */
export function consume(value: number): void {
  sink += value;
}

export function sinkValue(): number {
  return sink;
}

/**
 * Nanoseconds per call of fn(i), the median over `batches` batches of about
 * `batchMs` each (the batch size is calibrated first).
 */
export function nsPerCall(fn: (i: number) => number, batchMs = 10, batches = 15): number {
  // Calibrate: double the batch until it takes batchMs.
  let iterations = 16;
  for (;;) {
    const t = time(fn, iterations);
    if (t >= batchMs * 1e6 || iterations >= 1 << 26) break;
    iterations *= t < (batchMs * 1e6) / 8 ? 8 : 2;
  }
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) samples.push(time(fn, iterations) / iterations);
  samples.sort((x, y) => x - y);
  return samples[samples.length >> 1] ?? Number.NaN;
}

function time(fn: (i: number) => number, iterations: number): number {
  let acc = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) acc += fn(i);
  const elapsed = Number(process.hrtime.bigint() - started);
  consume(acc);
  return elapsed;
}

export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
}
