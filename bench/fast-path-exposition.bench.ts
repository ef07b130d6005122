/**
 * Fast path 4, the exposition writer (src/metrics/exposition.ts,
 * channel-collector.ts, chunked-text-writer.ts, encoded-lines.ts), weighed
 * against prom-client labelled gauges of the same series: a Gauge per family
 * with its label names, set per channel and peer in collect(), the text from
 * registry.metrics() (bench/scrape-server.ts, variant `prom-client`), behind
 * the same HTTP route, with the same small families and default metrics and
 * the same per-channel figures (our ChannelCollector's snapshot): only the
 * writing differs. At 10k and 100k channels (a week of history, the default
 * windows 1d, 7d, 30d): scrape time plain and gzipped, peak memory, memory
 * kept between scrapes, and the longest event-loop stall during a scrape.
 *
 * Both servers of a size run at once (each in its own process, idle while
 * the other is scraped), scraped alternately, each scrape after a GC and on
 * a quiet machine; medians.
 */
import { DEFAULT_HISTORY_DAYS } from './scrape-fixture.js';
import { QuietLog } from './quiet.js';
import {
  loopDuring,
  measureScrapes,
  scrape,
  seriesOf,
  startScrapeServer,
  type Measured,
  type ScrapeServer,
} from './scrape-client.js';
import { report, type BenchRow } from './result.js';

const SIZES = (process.env.BENCH_EXPOSITION_SIZES ?? '10000,100000').split(',').map(Number);
const RUNS: Record<number, number> = { 10_000: 5, 100_000: 3 };
const GZIP_RUNS: Record<number, number> = { 10_000: 3, 100_000: 2 };
const KEEP_RATIO = 1.1;
const MB = 1024 * 1024;
const VARIANTS = ['ours', 'prom-client'] as const;
type Variant = (typeof VARIANTS)[number];

interface Result {
  plain: Measured[];
  gzip: Measured[];
  loop: { delay: number; gap: number }[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const started = performance.now();
const quiet = new QuietLog();
const rows: BenchRow[] = [];
const notes: string[] = [];
const gains: { size: number; what: string; ratio: number }[] = [];

for (const size of SIZES) {
  const servers = new Map<Variant, ScrapeServer>();
  const results = new Map<Variant, Result>(
    VARIANTS.map((v) => [v, { plain: [], gzip: [], loop: [] }]),
  );
  const texts = new Map<Variant, string>();
  try {
    for (const variant of VARIANTS) {
      servers.set(variant, await startScrapeServer(variant, size, DEFAULT_HISTORY_DAYS));
    }
    for (const [variant, server] of servers) {
      // Warm-up, and the text for the comparison of the series.
      texts.set(variant, (await scrape(server.url, false, true)).text ?? '');
      await scrape(server.url, true);
    }
    const a = seriesOf(texts.get('ours') ?? '');
    const b = seriesOf(texts.get('prom-client') ?? '');
    if (a.length !== b.length || a.some((s, i) => s !== b[i])) {
      throw new Error(`${size} channels: prom-client's series differ from ours`);
    }
    // Alternating, one scrape of each at a time.
    for (let run = 0; run < (RUNS[size] ?? 3); run++) {
      for (const [variant, server] of servers) {
        results.get(variant)?.plain.push(await measureScrapes(server, false, 1, quiet));
      }
    }
    for (let run = 0; run < (GZIP_RUNS[size] ?? 2); run++) {
      for (const [variant, server] of servers) {
        results.get(variant)?.gzip.push(await measureScrapes(server, true, 1, quiet));
      }
    }
    for (const gzip of [false, true]) {
      for (const [variant, server] of servers) {
        results.get(variant)?.loop.push(await loopDuring(server, gzip, quiet));
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }

  const label = `${size.toLocaleString('en-US')} channels`;
  const figures = (variant: Variant) => {
    const r = results.get(variant) as Result;
    return {
      ms: median(r.plain.map((m) => m.ms)),
      gzipMs: median(r.gzip.map((m) => m.ms)),
      peak: median(r.plain.map((m) => m.peakBytes)) / MB,
      gzipPeak: median(r.gzip.map((m) => m.peakBytes)) / MB,
      idle: median(r.plain.map((m) => m.idleBytes)) / MB,
      bytes: median(r.plain.map((m) => m.bytes)) / MB,
      stall: Math.max(...r.loop.map((l) => l.delay)),
      gap: Math.max(...r.loop.map((l) => l.gap)),
    };
  };
  const ours = figures('ours');
  const prom = figures('prom-client');
  process.stdout.write(
    `${label}: ours ${ours.ms.toFixed(0)} ms (gzip ${ours.gzipMs.toFixed(0)} ms), +${ours.peak.toFixed(1)} MB, idle ${ours.idle.toFixed(0)} MB, stall ${ours.stall.toFixed(1)} ms; ` +
      `prom-client ${prom.ms.toFixed(0)} ms (gzip ${prom.gzipMs.toFixed(0)} ms), +${prom.peak.toFixed(1)} MB, idle ${prom.idle.toFixed(0)} MB, stall ${prom.stall.toFixed(1)} ms\n`,
  );
  const baselineName = 'prom-client labelled gauges';
  const row = (
    what: string,
    unit: string,
    value: number,
    baseline: number,
    decides: boolean,
  ): void => {
    const ratio = baseline / value;
    if (decides) gains.push({ size, what, ratio });
    rows.push({
      metric: `exposition, ${label}: ${what}, ours`,
      value,
      unit,
      baseline,
      baselineName,
      ratio,
      ...(decides
        ? { target: `>= ${KEEP_RATIO} (keep), else delete`, pass: ratio >= KEEP_RATIO }
        : {}),
    });
  };
  row('scrape time', 'ms', ours.ms, prom.ms, true);
  row('scrape time, gzip', 'ms', ours.gzipMs, prom.gzipMs, false);
  row('peak memory of a scrape (RSS above the idle process)', 'MB', ours.peak, prom.peak, true);
  row('peak memory of a gzipped scrape', 'MB', ours.gzipPeak, prom.gzipPeak, false);
  row('RSS kept between scrapes (after a GC)', 'MB', ours.idle, prom.idle, false);
  row('longest event-loop stall during a scrape (plain, gzip)', 'ms', ours.stall, prom.stall, true);
  notes.push(
    `${label}: ${ours.bytes.toFixed(1)} MB of text (prom-client ${prom.bytes.toFixed(1)} MB; the same series, checked); largest gap between setImmediate ticks ${ours.gap.toFixed(1)} ms ours, ${prom.gap.toFixed(1)} ms prom-client.`,
  );
}

/** A gain as a percentage, or as a factor once it is large. */
const gainOf = (ratio: number): string =>
  ratio >= 2 ? `${ratio.toFixed(1)}x` : `${((ratio - 1) * 100).toFixed(0)}%`;
const kept = gains.filter((g) => g.ratio >= KEEP_RATIO);
const largest = Math.max(...SIZES);
const at = (what: string): string =>
  gains
    .filter((g) => g.what === what)
    .map((g) => `${gainOf(g.ratio)} at ${g.size.toLocaleString('en-US')}`)
    .join(', ');
notes.unshift(
  `Verdict, exposition writer (src/metrics/exposition.ts, channel-collector.ts, chunked-text-writer.ts, encoded-lines.ts): ${
    kept.some((g) => g.size === largest)
      ? `keep: gains on the whole scrape against prom-client`
      : kept.length > 0
        ? 'keep (gains at the smaller size only)'
        : 'delete: gains under 10% on the whole scrape'
  } — time ${at('scrape time')}; peak memory ${at('peak memory of a scrape (RSS above the idle process)')}; longest event-loop stall ${at('longest event-loop stall during a scrape (plain, gzip)')} (ratio = prom-client / ours: above 1, ours is faster, smaller, stalls less; the rule: keep when ours gains 10% or more on a whole scrape).`,
);
notes.push(
  "prom-client variant (bench/scrape-server.ts `prom-client`): in the registry of an Exposition of the same sources (its small families and default metrics, as ours renders them), a Gauge per channel and peer family (a Counter for chanfitness_peer_flaps_total) with the family's label names, reset and set series by series in its collect() (async: the channel families await one ChannelCollector snapshot per scrape, the same figures ours writes, computed in batches with yields); registry.metrics() (Nan spelled NaN, as ours), the text handed at once to the same /metrics route (src/http/metrics-route.ts, gzip level 1 streamed). Ours: the real Exposition with its default windows. The series of both (chanfitness_channel_* and _peer_*, names and labels) checked equal.",
  `Both servers of a size up at once, each in its own process with the same deterministic stores (bench/scrape-fixture.ts, ${DEFAULT_HISTORY_DAYS} days of history, 5 channels per peer); scraped alternately from this process (GET /metrics on a new connection, time to the last byte), each scrape after a GC with the peak RSS reset (clear_refs 5) and on a quiet machine; medians of ${Object.entries(
    RUNS,
  )
    .map(([n, r]) => `${r} (${Number(n).toLocaleString('en-US')})`)
    .join(
      ', ',
    )} plain scrapes and ${Object.values(GZIP_RUNS).join(' and ')} gzipped. Peak memory: VmHWM after the scrape minus VmRSS before. Event loop: monitorEventLoopDelay (1 ms resolution) over one plain and one gzipped scrape, the larger maximum.`,
  quiet.note(),
  `Run took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
);
report({ name: 'Fast path: exposition writer against prom-client gauges', rows, notes });
