import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { natsServerVersion } from './processes.js';
import { nothingLost, type LoadResult, type PollerResult, type ProcessResult } from './run.js';
import { mib, ms, perSecond, rate, type Summary } from './stats.js';

/** What the figures were measured on. */
export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memory: string;
  readonly node: string;
  readonly natsServer: string;
  readonly kernel: string;
  /** 1-minute load average when the run started: other work on the machine skews the figures. */
  readonly loadAverage: number;
  readonly exporterVersion: string;
}

export function describeMachine(exporterBin: string): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpuModel;
  } catch {
    // Not Linux: os.cpus() said it.
  }
  let exporterVersion = 'unknown';
  try {
    exporterVersion = execFileSync(process.execPath, [exporterBin, '--version'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    // Reported as unknown.
  }
  return {
    cpuModel,
    cores: cpus().length,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    natsServer: natsServerVersion() ?? 'external',
    kernel: release(),
    loadAverage: loadavg()[0] ?? 0,
    exporterVersion,
  };
}

function latencyRow(name: string, p: PollerResult, note: string): string {
  const codes = [...p.codes].map(([code, n]) => `${code}: ${n}`).join(', ');
  return `| ${name} | ${p.latency.count} | ${ms(p.latency.p50)} | ${ms(p.latency.p90)} | ${ms(p.latency.p99)} | ${ms(p.latency.max)} | ${p.failures}${codes === '' ? '' : ` (${codes})`} | ${note} |`;
}

function scrapeRow(s: Summary, failures: number, bytes: number): string {
  return `| \`/metrics\` scrape | ${s.count} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} | ${ms(s.max)} | ${failures} | ${(bytes / 2 ** 20).toFixed(1)} MiB exposition at most |`;
}

function processRow(name: string, p: ProcessResult | undefined): string {
  if (p === undefined) return `| ${name} | n/a | n/a | n/a | n/a |`;
  const cores = p.cores === undefined ? 'n/a' : p.cores.toFixed(2);
  return `| ${name} | ${cores} | ${mib(p.firstRss)} | ${mib(p.maxRss)} | ${mib(p.lastRss)} |`;
}

/** The results file: machine, settings, figures and verdict. */
export function renderReport(result: LoadResult, machine: Machine): string {
  const o = result.options;
  const p = result.publisher;
  const publishMs = p.endedAt - p.startedAt;
  const lost = !nothingLost(result);
  const handledAfter = result.handledAllAfterMs;
  const appliedRate =
    handledAfter === undefined
      ? NaN
      : perSecond(result.final.applied, Math.max(handledAfter, publishMs));
  const drainMs = handledAfter === undefined ? undefined : Math.max(0, handledAfter - publishMs);
  const lines = [
    '# Load test results',
    '',
    'Written by `scripts/load-test.ts` (`npm run build && npm run load`); rerun it to replace this file.',
    "A steady publisher of simulated lnd events (the demo's `DemoSimulation`: opens, closes, link and",
    'peer events of many nodes, peers and channels, lnd JSON with payload timestamps) feeds the built',
    "exporter through NATS while GraphQL and `/metrics` are polled; then the exporter's own counters",
    'are checked against what was published.',
    '',
    `## Verdict: ${lost ? '**messages lost or rejected**' : 'nothing lost'}`,
    '',
    `Published ${p.published.toLocaleString('en-US')} messages` +
      (p.failed > 0 ? ` (${p.failed} publishes failed)` : '') +
      `; the exporter applied ${result.final.applied.toLocaleString('en-US')} ` +
      `(\`chanfitness_events_total\`) and rejected ${result.final.rejected} ` +
      '(`chanfitness_events_rejected_total`).' +
      (p.exhausted
        ? ' The simulation reached the present before the duration ended (use a longer --history).'
        : ''),
    `Exporter exit code after SIGTERM: ${result.exporter.exitCode ?? 'killed'}.`,
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${machine.cpuModel}, ${machine.cores} cores |`,
    `| Memory | ${machine.memory} |`,
    `| OS kernel | ${machine.kernel} |`,
    `| Node.js | ${machine.node} |`,
    `| NATS server | ${machine.natsServer} |`,
    `| Exporter | ${machine.exporterVersion} (dist/main.js) |`,
    `| Date | ${result.startedAt.toISOString()} |`,
    `| Load average (1 min) at start | ${machine.loadAverage.toFixed(2)} |`,
    '',
    'Everything runs on this one machine over loopback: the exporter, nats-server, the publisher',
    'process and the pollers share its cores.',
    '',
    '## Settings',
    '',
    '| | |',
    '|---|---|',
    `| Publish rate asked | ${rate(o.rate)} for ${o.durationMs / 1000} s |`,
    `| Delivery | ${o.mode === 'core' ? 'core NATS subscriptions' : 'JetStream stream, durable pull consumer'} |`,
    `| Simulation | ${o.nodes} nodes × ${o.peers} peers × ${o.channels} channels, seed ${o.seed}, clock starting ${o.historyMs / 3_600_000} h back |`,
    `| GraphQL one-channel query | ${o.channelQueryRate}/s |`,
    `| GraphQL 100-channel page | ${o.pageQueryRate}/s (nodes in turn) |`,
    `| \`/metrics\` scrape | every ${o.scrapeIntervalMs / 1000} s |`,
    `| Exporter | \`--flap.flush-interval=${o.flushInterval}\`, SQLite store, \`--log.level=warn\` |`,
    '',
    '## Throughput',
    '',
    '| | |',
    '|---|---|',
    `| Publish rate achieved | ${rate(perSecond(p.published, publishMs))} (${p.published.toLocaleString('en-US')} in ${(publishMs / 1000).toFixed(1)} s) |`,
    `| Applied rate (all published, start to last applied) | ${rate(appliedRate)} |`,
    `| Largest backlog seen at a scrape (published − handled) | ${result.maxBacklog.toLocaleString('en-US')} messages |`,
    `| Backlog cleared after publishing stopped | ${drainMs === undefined ? 'never (within the drain timeout)' : `${(drainMs / 1000).toFixed(1)} s`} |`,
    `| Channels tracked at the end | ${result.final.channels.toLocaleString('en-US')} channels of ${result.final.peers.toLocaleString('en-US')} monitored peers |`,
    '',
    '## Latency while publishing',
    '',
    'Each query type is one client on a keep-alive connection, at a fixed rate (a call that',
    'overruns its slot delays the next); times are from request start to the last byte.',
    '',
    '| | requests | p50 | p90 | p99 | max | failures | notes |',
    '|---|---|---|---|---|---|---|---|',
    latencyRow('GraphQL `channel`', result.channelQuery, 'one channel with its peer'),
    latencyRow('GraphQL `channels(first: 100)`', result.pageQuery, 'default order (uptime ratio)'),
    scrapeRow(result.scrapes, result.scrapeFailures, result.maxScrapeBytes),
    '',
    'GraphQL failures are answers with an error, timed like the others: `NODE_NOT_FOUND` for a page',
    'of a node whose first event has not arrived yet (at the start), `CHANNEL_NOT_FOUND` for a channel',
    'closed between the page that listed it and the query (the simulation closes channels).',
    '',
    '## Processes (while publishing)',
    '',
    '| process | CPU (cores) | RSS at start | RSS max | RSS at end |',
    '|---|---|---|---|---|',
    processRow('exporter', result.exporter),
    processRow('publisher', result.publisherProcess),
    processRow('nats-server', result.natsServer),
    '',
  ];
  return lines.join('\n');
}
