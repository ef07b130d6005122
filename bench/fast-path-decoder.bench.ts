/**
 * Fast path 3, the scanning decoders of peer and channel events, deleted from
 * src/lnd after this weighing and kept in bench/fast-path/substitutes/
 * (peer-event-scan.ts, channel-event-scan.ts and the decoders that used
 * them): the whole ingest over core NATS (the demo's traffic, as
 * bench/ingest-core.bench.ts publishes it) with the decoders as they are in
 * src/ (JSON.parse and the checks), against the same with the scanners
 * swapped in. Each variant runs in a process of its own
 * (bench/fast-path/ingest-runner.ts) with its own publisher; rounds
 * alternate, each on a quiet machine; the best round of each is kept.
 */
import { join } from 'node:path';
import type { RunnerReply, RunnerRequest } from './fast-path/ingest-runner.js';
import type { RoundResult } from './ingest-rounds.js';
import { QuietLog } from './quiet.js';
import { report, type BenchRow } from './result.js';
import { forkWorker, type WorkerProcess } from './worker-process.js';

const MESSAGES = Number(process.env.BENCH_INGEST_MESSAGES ?? 500_000);
const ROUNDS = Number(process.env.BENCH_DECODER_ROUNDS ?? 4);
const KEEP_RATIO = 1.1;
const SUBSTITUTES = {
  'src/lnd/decode-peer-event.ts': 'bench/fast-path/substitutes/scanning-decode-peer-event.ts',
  'src/lnd/decode-channel-event.ts': 'bench/fast-path/substitutes/scanning-decode-channel-event.ts',
};

type Runner = WorkerProcess<RunnerRequest, RunnerReply>;

function startRunner(name: string, substitutes: Record<string, string>): Runner {
  const execArgv = ['--import', 'tsx', '--expose-gc'];
  if (Object.keys(substitutes).length > 0) {
    execArgv.push('--import', join(import.meta.dirname, 'fast-path', 'substitute-register.js'));
  }
  return forkWorker<RunnerRequest, RunnerReply>(
    `${name} ingest runner`,
    join(import.meta.dirname, 'fast-path', 'ingest-runner.ts'),
    {
      args: [String(MESSAGES)],
      execArgv,
      env: { ...process.env, BENCH_SUBSTITUTES: JSON.stringify(substitutes) },
    },
  );
}

const started = performance.now();
const quiet = new QuietLog();
const variants = [
  { name: 'json', runner: startRunner('json', {}) },
  { name: 'scanner', runner: startRunner('scanner', SUBSTITUTES) },
].map((variant) => ({ ...variant, ready: variant.runner.next('ready') }));
const results = new Map<string, RoundResult[]>();
let total = 0;
try {
  // Each runner's 'ready' was awaited from its start: a reply nobody awaits is lost.
  for (const { name, ready: readied } of variants) {
    const ready = await readied;
    total = ready.total;
    if (ready.scanning !== (name === 'scanner')) {
      throw new Error(`${name}: the substitute did not take (scanning: ${ready.scanning})`);
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, runner } of variants) {
      await quiet.wait();
      const done = runner.next('round');
      runner.send({ kind: 'round' });
      const { result } = await done;
      results.set(name, [...(results.get(name) ?? []), result]);
      process.stderr.write(
        `round ${round + 1} ${name}: ${Math.round(result.processed / result.seconds)} msg/s, ` +
          `${Math.round(result.processed / result.cpuSeconds)} msg/CPU-s${result.stalled ? ' (STALLED)' : ''}\n`,
      );
    }
  }
} finally {
  for (const { runner } of variants) await runner.stop();
}

const best = (name: string, of: (r: RoundResult) => number): number =>
  Math.max(...(results.get(name) ?? []).map(of));
const rate = (r: RoundResult): number => r.applied / r.seconds;
const perCpu = (r: RoundResult): number => r.processed / r.cpuSeconds;
const lost = (name: string): number =>
  Math.max(...(results.get(name) ?? []).map((r) => total - r.processed));
const rateRatio = best('scanner', rate) / best('json', rate);
const cpuRatio = best('scanner', perCpu) / best('json', perCpu);
const baselineName = 'JSON.parse and the checks';
const rows: BenchRow[] = [
  {
    metric: `scanning decoders, ingest over core NATS (${total.toLocaleString('en-US')} messages): events applied per second, with the scanners`,
    value: best('scanner', rate),
    unit: 'msg/s',
    baseline: best('json', rate),
    baselineName,
    ratio: rateRatio,
  },
  {
    metric:
      'scanning decoders, ingest over core NATS: messages per CPU-second of the consumer, with the scanners',
    value: best('scanner', perCpu),
    unit: 'msg/CPU-s',
    baseline: best('json', perCpu),
    baselineName,
    ratio: cpuRatio,
    target: `>= ${KEEP_RATIO} (keep), else delete`,
    pass: cpuRatio >= KEEP_RATIO,
  },
  {
    metric:
      'scanning decoders, ingest over core NATS: messages lost, worst round, with the scanners',
    value: lost('scanner'),
    unit: 'msg',
    baseline: lost('json'),
    baselineName,
  },
];
const percent = (ratio: number): string => `${((ratio - 1) * 100).toFixed(1)}%`;
report({
  name: 'Fast path: the scanning decoders against JSON.parse',
  rows,
  notes: [
    `Verdict, scanning decoders (deleted from src/lnd; kept as bench/fast-path/substitutes/peer-event-scan.ts and channel-event-scan.ts to weigh them again): ${cpuRatio >= KEEP_RATIO ? 'they gain 10% or more on the whole path: bring them back' : 'they stay deleted'}: ${percent(cpuRatio)} messages per CPU-second and ${percent(rateRatio)} events per second on the whole ingest over core NATS (the rule: keep a fast path that gains 10% or more on the whole path).`,
    `Traffic: bench/ingest-core.bench.ts's (the demo's simulation, 4 nodes, about two thirds peer events, half of the messages wrapped in {"result": …}). Each variant in a process of its own (bench/fast-path/ingest-runner.ts: NatsClient, subscribeEvents, EventIngest, a store per node, flap records in SQLite) with a publisher process of its own; the scanners' process runs with src/lnd/decode-peer-event.ts and decode-channel-event.ts swapped for the substitutes (checked in the process). ${ROUNDS} rounds each, alternating, each after waiting for a quiet machine; the best of each. CPU: process.cpuUsage of the consuming process over the round.`,
    quiet.note(),
    `Run took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ],
});
