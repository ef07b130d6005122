import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import parseDuration from 'parse-duration';

export type DeliveryMode = 'core' | 'jetstream';

/** Everything a load run is told (flags of scripts/load-test.ts). */
export interface LoadOptions {
  /** Messages published per second, steadily. */
  readonly rate: number;
  /** How long the publisher publishes, ms. */
  readonly durationMs: number;
  /** Simulated lnd nodes, and peers and channels of each (DemoSimulation). */
  readonly nodes: number;
  readonly peers: number;
  readonly channels: number;
  /** How far in the past the simulated clock starts: the history the run replays. */
  readonly historyMs: number;
  readonly seed: number;
  readonly mode: DeliveryMode;
  /** An external NATS server; a private nats-server on a free loopback port when undefined. */
  readonly natsUrl: string | undefined;
  /** GraphQL one-channel queries per second. */
  readonly channelQueryRate: number;
  /** GraphQL 100-channel page queries per second. */
  readonly pageQueryRate: number;
  /** Interval between /metrics scrapes, ms. */
  readonly scrapeIntervalMs: number;
  /** The exporter's --flap.flush-interval. */
  readonly flushInterval: string;
  /** How long to wait after publishing for the exporter to apply the rest, ms. */
  readonly drainTimeoutMs: number;
  /** Results file (Markdown); undefined: not written. */
  readonly output: string | undefined;
  /** The built exporter. */
  readonly exporterBin: string;
}

export const ROOT = resolve(import.meta.dirname, '../..');

export function loadCommand(): Command {
  return new Command('load-test')
    .description(
      'Load test of the built exporter (dist/main.js): a steady publisher of simulated lnd ' +
        'events while GraphQL and /metrics are polled; checks nothing is lost and writes the figures.',
    )
    .addOption(
      new Option('--rate <msgs/s>', 'messages published per second')
        .default(20_000)
        .argParser(int(1, 1e7)),
    )
    .addOption(
      new Option('--duration <duration>', 'how long to publish')
        .default(60_000, '60s')
        .argParser(duration),
    )
    .addOption(new Option('--nodes <n>', 'simulated lnd nodes').default(10).argParser(int(1, 100)))
    .addOption(new Option('--peers <n>', 'peers per node').default(200).argParser(int(1, 1000)))
    .addOption(
      new Option('--channels <n>', 'channels per node').default(400).argParser(int(0, 1000)),
    )
    .addOption(
      new Option('--history <duration>', 'how far in the past the simulated clock starts')
        .default(7 * 24 * 3_600_000, '7d')
        .argParser(duration),
    )
    .addOption(new Option('--seed <n>', 'simulation seed').default(1).argParser(int(0, 0xffffffff)))
    .addOption(
      new Option('--mode <mode>', 'core NATS subscriptions or a JetStream stream')
        .choices(['core', 'jetstream'])
        .default('core'),
    )
    .addOption(
      new Option(
        '--nats.url <url>',
        'use this NATS server (default: a private nats-server on loopback)',
      ),
    )
    .addOption(
      new Option('--channel-query-rate <n>', 'GraphQL one-channel queries per second')
        .default(50)
        .argParser(int(0, 10_000)),
    )
    .addOption(
      new Option('--page-query-rate <n>', 'GraphQL 100-channel page queries per second')
        .default(10)
        .argParser(int(0, 10_000)),
    )
    .addOption(
      new Option('--scrape-interval <duration>', 'interval between /metrics scrapes')
        .default(1_000, '1s')
        .argParser(duration),
    )
    .addOption(
      new Option('--flush-interval <duration>', "the exporter's --flap.flush-interval").default(
        '10s',
      ),
    )
    .addOption(
      new Option(
        '--drain-timeout <duration>',
        'how long the exporter may take to apply the backlog',
      )
        .default(60_000, '60s')
        .argParser(duration),
    )
    .addOption(
      new Option('--output <file>', 'results file (Markdown)').default('bench/LOAD-RESULTS.md'),
    )
    .addOption(new Option('--no-output', 'do not write a results file'));
}

export function loadOptions(command: Command): LoadOptions {
  const o = command.opts<{
    rate: number;
    duration: number;
    nodes: number;
    peers: number;
    channels: number;
    history: number;
    seed: number;
    mode: DeliveryMode;
    'nats.url'?: string;
    channelQueryRate: number;
    pageQueryRate: number;
    scrapeInterval: number;
    flushInterval: string;
    drainTimeout: number;
    output: string | false;
  }>();
  return {
    rate: o.rate,
    durationMs: o.duration,
    nodes: o.nodes,
    peers: o.peers,
    channels: o.channels,
    historyMs: o.history,
    seed: o.seed,
    mode: o.mode,
    natsUrl: o['nats.url'],
    channelQueryRate: o.channelQueryRate,
    pageQueryRate: o.pageQueryRate,
    scrapeIntervalMs: o.scrapeInterval,
    flushInterval: o.flushInterval,
    drainTimeoutMs: o.drainTimeout,
    output: o.output === false ? undefined : resolve(ROOT, o.output),
    exporterBin: resolve(ROOT, 'dist/main.js'),
  };
}

function int(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === null || !Number.isFinite(ms) || ms <= 0) {
    throw new InvalidArgumentError('expected a duration such as 5s, 60s or 2m.');
  }
  return ms;
}
