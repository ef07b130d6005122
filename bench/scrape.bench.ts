/**
 * Issue 6, benchmark 3 — scrape: GET /metrics for 1k, 10k and 100k channels
 * (5 per peer, a week of realistic connectivity history), our exposition over
 * the real HTTP server against a hand-written exposition builder of the same
 * series (array of lines, join, one res.end): time and peak memory, plain and
 * gzipped; and the event loop of the server during a 100k scrape. Then the
 * cost of the window family: our exposition with the default windows (1d, 7d,
 * 30d) against the same without that family, on a month of history so that
 * the windows cut most channels' lifetimes.
 *
 * Each variant and size runs in a server process of its own
 * (bench/scrape-server.ts) with the same deterministic stores; this process is
 * the client (so its buffers are not counted) and measures the server's peak
 * RSS through /proc: before each scrape the server collects its garbage, the
 * peak is reset (clear_refs 5), and the scrape's cost is VmHWM minus the RSS
 * before it.
 */
import { QuietLog } from './quiet.js';
import { report, type BenchRow } from './result.js';
import {
  loopDuring,
  measureScrapes,
  scrape,
  seriesOf,
  startScrapeServer,
  type Measured,
  type ScrapeServer,
} from './scrape-client.js';
import { DEFAULT_HISTORY_DAYS } from './scrape-fixture.js';
import type { ScrapeVariant } from './scrape-server.js';

const SIZES = (process.env.BENCH_SCRAPE_SIZES ?? '1000,10000,100000').split(',').map(Number);
/**
 * Scrapes per variant and size (medians). A 100k scrape takes 0.4 to 0.9 s
 * depending on where the collector's work falls: 7 runs so that one or two
 * of either kind do not decide a ratio.
 */
const RUNS: Record<number, number> = { 1_000: 9, 10_000: 7, 100_000: 7 };
const GZIP_RUNS: Record<number, number> = { 1_000: 5, 10_000: 3, 100_000: 3 };
const TIME_TARGET = 1.5;
const MEMORY_TARGET = 1.5;
const STALL_TARGET_MS = 50;
const MB = 1024 * 1024;
/** History of the window comparison: channels up to a month old, so that 7d and 30d cut too. */
const WINDOW_HISTORY_DAYS = 35;
const WINDOW_FAMILY = 'chanfitness_channel_window_uptime_ratio';
const WINDOWS = 3;
/** The size from which the window family's time target applies. */
const WINDOW_TARGET_SIZE = 100_000;
/** Scrape time with gaps on every node, against none, at WINDOW_TARGET_SIZE. */
const GAP_TIME_TARGET = 1.1;
/** Every measured scrape waits for a quiet machine: other work on 2 cores decides a ratio. */
const quiet = new QuietLog();

interface SizeResult {
  readonly plain: Measured;
  readonly gzip: Measured;
  readonly loop: { plain: number; gzip: number; plainGap: number; gzipGap: number } | undefined;
  readonly ready: ScrapeServer['ready'];
}

async function runVariant(
  variant: ScrapeVariant,
  size: number,
  days = DEFAULT_HISTORY_DAYS,
  gaps = 0,
): Promise<SizeResult & { text: string }> {
  const server = await startScrapeServer(variant, size, days, gaps);
  try {
    // Warm-up (and the text, for the comparison of the two variants).
    const first = await scrape(server.url, false, true);
    await scrape(server.url, true);
    const plain = await measureScrapes(server, false, RUNS[size] ?? 5, quiet);
    const gzip = await measureScrapes(server, true, GZIP_RUNS[size] ?? 3, quiet);
    let loop: SizeResult['loop'];
    if (size >= 100_000) {
      const during = (gz: boolean): Promise<{ delay: number; gap: number }> =>
        loopDuring(server, gz, quiet);
      // The builder blocks for the whole scrape either way: its plain scrape says it.
      const p = await during(false);
      const g = variant === 'builder' ? p : await during(true);
      loop = { plain: p.delay, gzip: g.delay, plainGap: p.gap, gzipGap: g.gap };
    }
    process.stdout.write(
      `${size} channels, ${days} days${gaps > 0 ? `, ${gaps} gaps per node` : ''}, ${variant}: plain ${plain.ms.toFixed(1)} ms +${(plain.peakBytes / MB).toFixed(1)} MB (${(plain.bytes / MB).toFixed(1)} MB), ` +
        `gzip ${gzip.ms.toFixed(1)} ms +${(gzip.peakBytes / MB).toFixed(1)} MB (${(gzip.bytes / MB).toFixed(2)} MB)` +
        (loop === undefined
          ? ''
          : `, event loop max delay ${loop.plain.toFixed(1)} ms (gzip ${loop.gzip.toFixed(1)} ms), max setImmediate gap ${loop.plainGap.toFixed(1)} ms (gzip ${loop.gzipGap.toFixed(1)} ms)`) +
        ` [stores built in ${server.ready.buildSeconds.toFixed(1)} s]\n`,
    );
    return { plain, gzip, loop, ready: server.ready, text: first.text ?? '' };
  } finally {
    await server.stop();
  }
}

interface WindowPair {
  readonly without: SizeResult;
  readonly with: SizeResult & { text: string };
}

/** The exposition without and with the window family, on a month of history. */
async function runWindowPair(size: number): Promise<WindowPair> {
  const without = await runVariant('ours-no-windows', size, WINDOW_HISTORY_DAYS);
  const withWindows = await runVariant('ours', size, WINDOW_HISTORY_DAYS);
  const all = seriesOf(withWindows.text);
  const windows = all.filter((s) => s.startsWith(`${WINDOW_FAMILY}{`));
  const others = all.filter((s) => !s.startsWith(`${WINDOW_FAMILY}{`));
  const expected = seriesOf(without.text);
  if (windows.length !== WINDOWS * size) {
    throw new Error(`${size} channels: ${windows.length} window samples, not ${WINDOWS * size}`);
  }
  if (others.length !== expected.length || others.some((s, i) => s !== expected[i])) {
    throw new Error(`${size} channels: the series besides the windows differ`);
  }
  return { without, with: withWindows };
}

function windowRows(
  rows: BenchRow[],
  notes: string[],
  size: number,
  label: string,
  pair: WindowPair,
): void {
  const { without, with: withWindows } = pair;
  const timeRatio = withWindows.plain.ms / without.plain.ms;
  const baselineName = 'without the window family';
  rows.push(
    {
      metric: `scrape ${label} with the 1d, 7d and 30d windows: time`,
      value: withWindows.plain.ms,
      unit: 'ms',
      baseline: without.plain.ms,
      baselineName,
      ratio: timeRatio,
      // The target is set at the largest size; smaller scrapes take a few ms either way.
      ...(size >= WINDOW_TARGET_SIZE
        ? { target: `<= ${TIME_TARGET}x baseline`, pass: timeRatio <= TIME_TARGET }
        : {}),
    },
    {
      metric: `scrape ${label} with the windows: text`,
      value: withWindows.plain.bytes / MB,
      unit: 'MB',
      baseline: without.plain.bytes / MB,
      baselineName,
      ratio: withWindows.plain.bytes / without.plain.bytes,
    },
    {
      metric: `scrape ${label} with the windows: peak memory`,
      value: withWindows.plain.peakBytes / MB,
      unit: 'MB',
      baseline: without.plain.peakBytes / MB,
      baselineName,
    },
    {
      metric: `scrape ${label} with the windows, gzip: time`,
      value: withWindows.gzip.ms,
      unit: 'ms',
      baseline: without.gzip.ms,
      baselineName: `${baselineName} + gzip`,
      ratio: withWindows.gzip.ms / without.gzip.ms,
    },
  );
  if (withWindows.loop !== undefined && without.loop !== undefined) {
    const worst = Math.max(withWindows.loop.plain, withWindows.loop.gzip);
    rows.push({
      metric: `scrape ${label} with the windows: longest event-loop stall (plain, gzip)`,
      value: worst,
      unit: 'ms',
      baseline: Math.max(without.loop.plain, without.loop.gzip),
      baselineName,
      target: `< ${STALL_TARGET_MS} ms`,
      pass: worst < STALL_TARGET_MS,
    });
    notes.push(
      `Event loop during a ${label} scrape with the windows (${WINDOW_HISTORY_DAYS} days of history): max delay ${withWindows.loop.plain.toFixed(1)} ms plain, ${withWindows.loop.gzip.toFixed(1)} ms gzip; largest gap between setImmediate ticks ${withWindows.loop.plainGap.toFixed(1)} ms plain, ${withWindows.loop.gzipGap.toFixed(1)} ms gzip (without the family: ${without.loop.plain.toFixed(1)} and ${without.loop.gzip.toFixed(1)} ms).`,
    );
  }
  notes.push(
    `${label}, ${WINDOW_HISTORY_DAYS} days: ${withWindows.ready.events.toLocaleString('en-US')} connectivity changes; ${(withWindows.plain.bytes / MB).toFixed(1)} MB of text with the windows, ${(without.plain.bytes / MB).toFixed(1)} MB without.`,
  );
}

/** Gaps per node of the observed-time rows: an lnd restart about every day of the history. */
const GAPS_PER_NODE = WINDOW_HISTORY_DAYS;

/**
 * Observed time: the same stores and exposition (windows included) with
 * every node unobserved GAPS_PER_NODE times, against none: lifetimes,
 * uptimes and windows then count observed time only.
 */
async function gapRows(
  rows: BenchRow[],
  notes: string[],
  size: number,
  label: string,
  without: SizeResult & { text: string },
): Promise<void> {
  const withGaps = await runVariant('ours', size, WINDOW_HISTORY_DAYS, GAPS_PER_NODE);
  const a = seriesOf(withGaps.text);
  const b = seriesOf(without.text);
  if (a.length !== b.length || a.some((s, i) => s !== b[i])) {
    throw new Error(`${size} channels: the series with gaps differ from those without`);
  }
  const ratio = withGaps.plain.ms / without.plain.ms;
  rows.push(
    {
      metric: `scrape ${label} with ${GAPS_PER_NODE} gaps on every node: time`,
      value: withGaps.plain.ms,
      unit: 'ms',
      baseline: without.plain.ms,
      baselineName: 'no gap',
      ratio,
      ...(size >= WINDOW_TARGET_SIZE
        ? { target: `<= ${GAP_TIME_TARGET}x baseline`, pass: ratio <= GAP_TIME_TARGET }
        : {}),
    },
    {
      metric: `scrape ${label} with gaps: peak memory`,
      value: withGaps.plain.peakBytes / MB,
      unit: 'MB',
      baseline: without.plain.peakBytes / MB,
      baselineName: 'no gap',
      ratio: withGaps.plain.peakBytes / without.plain.peakBytes,
    },
  );
  notes.push(
    `${label} with gaps: every node's lnd down ${GAPS_PER_NODE} times over ${WINDOW_HISTORY_DAYS} days (10 min each, then the 2-minute settle), so that nearly every channel's lifetime and window spans gaps; the same series as without (values differ).`,
  );
}

async function main(): Promise<void> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const size of SIZES) {
    const builder = await runVariant('builder', size);
    // Today's series: the builder writes no window family.
    const ours = await runVariant('ours-no-windows', size);
    const a = seriesOf(ours.text);
    const b = seriesOf(builder.text);
    if (a.length !== b.length || a.some((s, i) => s !== b[i])) {
      throw new Error(`${size} channels: the builder's series differ from ours`);
    }
    const label = `${size.toLocaleString('en-US')} channels`;
    const timeRatio = ours.plain.ms / builder.plain.ms;
    const memoryRatio = ours.plain.peakBytes / builder.plain.peakBytes;
    rows.push(
      {
        metric: `scrape ${label}: time`,
        value: ours.plain.ms,
        unit: 'ms',
        baseline: builder.plain.ms,
        baselineName: 'hand-written builder',
        ratio: timeRatio,
        target: `<= ${TIME_TARGET}x baseline`,
        pass: timeRatio <= TIME_TARGET,
      },
      {
        metric: `scrape ${label}: peak memory (RSS above the idle process)`,
        value: ours.plain.peakBytes / MB,
        unit: 'MB',
        baseline: builder.plain.peakBytes / MB,
        baselineName: 'hand-written builder',
        ratio: memoryRatio,
        target: `<= ${MEMORY_TARGET}x baseline`,
        pass: memoryRatio <= MEMORY_TARGET,
      },
      {
        metric: `scrape ${label}, gzip: time`,
        value: ours.gzip.ms,
        unit: 'ms',
        baseline: builder.gzip.ms,
        baselineName: 'hand-written builder + gzip',
        ratio: ours.gzip.ms / builder.gzip.ms,
      },
      {
        metric: `scrape ${label}, gzip: peak memory`,
        value: ours.gzip.peakBytes / MB,
        unit: 'MB',
        baseline: builder.gzip.peakBytes / MB,
        baselineName: 'hand-written builder + gzip',
        ratio: ours.gzip.peakBytes / builder.gzip.peakBytes,
      },
    );
    if (ours.loop !== undefined && builder.loop !== undefined) {
      const worst = Math.max(ours.loop.plain, ours.loop.gzip);
      rows.push(
        {
          metric: `scrape ${label}: longest event-loop stall (plain)`,
          value: ours.loop.plain,
          unit: 'ms',
          baseline: builder.loop.plain,
          baselineName: 'hand-written builder',
          target: `< ${STALL_TARGET_MS} ms`,
          pass: ours.loop.plain < STALL_TARGET_MS,
        },
        {
          metric: `scrape ${label}: longest event-loop stall (gzip)`,
          value: ours.loop.gzip,
          unit: 'ms',
          target: `< ${STALL_TARGET_MS} ms`,
          pass: worst < STALL_TARGET_MS,
        },
      );
      notes.push(
        `Event loop during a ${label} scrape: monitorEventLoopDelay (1 ms resolution) max ${ours.loop.plain.toFixed(1)} ms plain, ${ours.loop.gzip.toFixed(1)} ms gzip; largest gap between setImmediate ticks ${ours.loop.plainGap.toFixed(1)} ms plain, ${ours.loop.gzipGap.toFixed(1)} ms gzip (the builder: ${builder.loop.plain.toFixed(0)} ms and ${builder.loop.plainGap.toFixed(0)} ms, as it builds the whole text in one go).`,
      );
    }
    notes.push(
      `${label}: ${ours.ready.peers.toLocaleString('en-US')} peers on ${ours.ready.nodes} node(s), ${ours.ready.events.toLocaleString('en-US')} connectivity changes over a week; ${(ours.plain.bytes / MB).toFixed(1)} MB of text, ${(ours.gzip.bytes / MB).toFixed(2)} MB gzipped.`,
    );
    const pair = await runWindowPair(size);
    windowRows(rows, notes, size, label, pair);
    await gapRows(rows, notes, size, label, pair.with);
  }
  notes.push(
    'Each variant and size in a server process of its own with the same deterministic stores (bench/scrape-fixture.ts); the client is the benchmark process (GET /metrics on a new connection, time to the last byte, median of 7-9 scrapes (3-5 gzipped) after a warm-up). Peak memory: the server collects its garbage, its peak RSS is reset (/proc/<pid>/clear_refs 5), then VmHWM after the scrape minus VmRSS before (median).',
    'Baseline: bench/scrape-server.ts builds the same series by hand (channel info once per channel, every line pushed to an array, join, one res.end; gzip with zlib.gzip at level 1 as ours), with the small families and default metrics from an identical prom-client registry; the series of both are checked equal. These rows compare our exposition without the window family (Exposition option windows: []), the series the builder writes.',
    `Windows: our exposition with its default windows (chanfitness_channel_window_uptime_ratio for 1d, 7d and 30d: three more samples per channel) against the same exposition without that family, on stores with ${WINDOW_HISTORY_DAYS} days of history (channels opened at random times in it, so that most are older than 1d and 7d and some older than 30d; 3 x channels window samples checked, the other series checked equal). Targets at ${WINDOW_TARGET_SIZE.toLocaleString('en-US')} channels: time within ${TIME_TARGET}x, event-loop stall under ${STALL_TARGET_MS} ms. The family's lines are encoded straight to bytes (src/metrics/encoded-lines.ts), with a channel's labels encoded once for its three windows and each ratio shared by a peer's channels formatted once.`,
  );
  notes.push(quiet.note());
  report({ name: 'Scrape /metrics', rows, notes });
}

await main();
