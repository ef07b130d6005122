import { Command, InvalidArgumentError, Option } from 'commander';
import parseDuration from 'parse-duration';
import type { DemoSettings } from './nats-demo.js';

/** A NATS subject token: no dots, wildcards or whitespace. */
const TOKEN = /^[^.*>\s]+$/;
/** Marks "no --node given": the nodes are then named after the run (see demoSettings). */
const DEFAULT_NODES: string[] = [];

/**
 * A name for this run of the demo: its replayed hours of history, published
 * again under the node names of an earlier run, would add to those nodes'
 * flap counts in an exporter that saw the earlier run. Base 36 of the start
 * time in milliseconds: distinct for any two runs.
 */
export function runName(now: number = Date.now()): string {
  return Math.floor(now).toString(36);
}

/** The demo's command line: every setting a flag, most also an environment variable. */
export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'Publish a simulated lnd node (or several) to NATS in lnd JSON, for chanfitness-exporter to consume.',
    )
    .addOption(
      new Option('--nats.url <url>', 'NATS server URL')
        .env('NATS_URL')
        .default('nats://127.0.0.1:4222'),
    )
    .addOption(
      new Option(
        '--nats.subject-prefix <prefix>',
        'subject prefix: <prefix>.<node>.channel_events …',
      )
        .env('NATS_SUBJECT_PREFIX')
        .default('lnd')
        .argParser(subjectPrefix),
    )
    .addOption(new Option('--nats.user <user>', 'NATS user').env('NATS_USER'))
    .addOption(new Option('--nats.password <password>', 'NATS password').env('NATS_PASSWORD'))
    .addOption(new Option('--nats.token <token>', 'NATS token').env('NATS_TOKEN'))
    .addOption(new Option('--nats.creds <file>', 'NATS credentials file').env('NATS_CREDS'))
    .addOption(
      new Option(
        '--node <name...>',
        'name(s) of the simulated node(s), each a subject token (default: demo-<run>, new for every run; a name an exporter already saw gets its replayed history added to its counts)',
      )
        .default(DEFAULT_NODES, 'demo-<run>')
        .argParser(collectNode)
        .conflicts('nodes'),
    )
    .addOption(
      new Option(
        '--nodes <count>',
        'simulate <count> nodes named demo-<run>-1 … demo-<run>-<count>',
      )
        .env('DEMO_NODES')
        .argParser(integer(1, 100)),
    )
    .addOption(
      new Option('--peers <count>', 'peers per node')
        .env('DEMO_PEERS')
        .default(40)
        .argParser(integer(1, 1000)),
    )
    .addOption(
      new Option('--channels <count>', 'open channels each node keeps')
        .env('DEMO_CHANNELS')
        .default(120)
        // A list_channels reply must fit NATS's default 1 MB max_payload (~0.9 kB a channel).
        .argParser(integer(0, 1000)),
    )
    .addOption(
      new Option(
        '--speed <factor>',
        'simulated time per real time while catching up with now (360: six hours a minute)',
      )
        .env('DEMO_SPEED')
        .default(360)
        .argParser(speed),
    )
    .addOption(
      new Option('--history <duration>', 'how far in the past the simulated clock starts')
        .env('DEMO_HISTORY')
        .default(6 * 3_600_000, '6h')
        .argParser(duration),
    )
    .addOption(
      new Option('--duration <duration>', 'stop after this long (default: until Ctrl-C)')
        .env('DEMO_DURATION')
        .argParser(duration),
    )
    .addOption(
      new Option('--seed <n>', 'random seed: the same seed simulates the same nodes')
        .env('DEMO_SEED')
        .default(1)
        .argParser(integer(0, 0xffffffff)),
    );
}

/** The settings a parsed demoCommand() holds; `run` names the nodes when none are given. */
export function demoSettings(command: Command, run: string = runName()): DemoSettings {
  const o = command.opts<{
    'nats.url': string;
    'nats.subjectPrefix': string;
    'nats.user'?: string;
    'nats.password'?: string;
    'nats.token'?: string;
    'nats.creds'?: string;
    node: string[];
    nodes?: number;
    peers: number;
    channels: number;
    speed: number;
    history: number;
    duration?: number;
    seed: number;
  }>();
  const nodes =
    o.nodes !== undefined
      ? Array.from({ length: o.nodes }, (_, i) => `demo-${run}-${i + 1}`)
      : o.node.length === 0
        ? [`demo-${run}`]
        : o.node;
  return {
    natsUrl: o['nats.url'],
    subjectPrefix: o['nats.subjectPrefix'],
    natsUser: o['nats.user'],
    natsPassword: o['nats.password'],
    natsToken: o['nats.token'],
    natsCreds: o['nats.creds'],
    nodes: [...new Set(nodes)],
    peers: o.peers,
    channels: o.channels,
    speed: o.speed,
    historyMs: o.history,
    durationMs: o.duration,
    seed: o.seed,
  };
}

function collectNode(value: string, previous: string[]): string[] {
  if (!TOKEN.test(value)) {
    throw new InvalidArgumentError('a node name is one subject token (no ".", "*", ">", spaces).');
  }
  // The default is replaced, not extended, by the first --node.
  return previous === DEFAULT_NODES ? [value] : [...previous, value];
}

function subjectPrefix(value: string): string {
  if (!value.split('.').every((token) => TOKEN.test(token))) {
    throw new InvalidArgumentError('expected dot-separated subject tokens without wildcards.');
  }
  return value;
}

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

function speed(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) {
    throw new InvalidArgumentError('expected a number of at least 1 (1: real time).');
  }
  return n;
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === null || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError('expected a duration such as 90s, 30m, 6h or 2d.');
  }
  return ms;
}
