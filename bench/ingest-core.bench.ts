/**
 * Issue 6, benchmark 1 — ingest over core NATS: lnd JSON events applied to the
 * store per second, end to end from a publisher process, against a bare
 * subscriber that only parses the same messages from the same publisher, in
 * the same run; and messages per CPU-second of the consuming side.
 *
 * The consumers run in this process, one after the other (baseline and ours
 * alternating, best of the rounds), each on a connection of its own and fresh
 * subjects; the publisher is a separate process (bench/ingest-publisher.ts),
 * so its CPU is not counted. Our side is the real thing, wired as src/app.ts
 * wires it: NatsClient, subscribeEvents, EventIngest with NATS bootstrap
 * requests, a ChannelEventStore per node reading flap records from SQLite,
 * counted by IngestStats.
 */
import { connect } from 'nats';
import { benchLogger, NATS_URL, startPublisher } from './ingest-harness.js';
import {
  CHUNK,
  ourSubscriber,
  runOne,
  TRAFFIC,
  watchIncidents,
  WINDOW,
  type Consumer,
  type RoundResult,
} from './ingest-rounds.js';
import { report, type BenchRow } from './result.js';

const MESSAGES = Number(process.env.BENCH_INGEST_MESSAGES ?? 500_000);
const ROUNDS = 3;

/** The baseline: subscribes to the same two subjects and does JSON.parse, nothing else. */
async function bareSubscriber(prefix: string): Promise<Consumer> {
  const nc = await connect({ servers: NATS_URL, name: 'chanfitness-bench-bare' });
  const incidents = { count: 0 };
  watchIncidents(nc, incidents);
  const decoder = new TextDecoder();
  let parsed = 0;
  for (const subject of ['channel_events', 'peer_events']) {
    nc.subscribe(`${prefix}.*.${subject}`, {
      callback: (err, msg) => {
        if (err !== null) return;
        if (JSON.parse(decoder.decode(msg.data)) !== null) parsed += 1;
      },
    });
  }
  await nc.flush();
  return {
    processed: () => parsed,
    applied: () => parsed,
    incidents,
    close: () => nc.drain(),
  };
}

async function main(): Promise<void> {
  const logger = benchLogger();
  const publisher = startPublisher();
  try {
    publisher.send({ kind: 'generate', ...TRAFFIC, count: MESSAGES });
    const generated = await publisher.next('generated');
    const total = generated.count;
    process.stdout.write(
      `generated ${total} messages (${(generated.bytes / total).toFixed(0)} B average, ` +
        `${generated.simulatedHours.toFixed(1)} h simulated) in ${generated.seconds.toFixed(1)} s\n`,
    );

    const bare: RoundResult[] = [];
    const ours: RoundResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, results, setUp] of [
        ['bare', bare, bareSubscriber],
        ['ours', ours, (prefix: string) => ourSubscriber(prefix, logger)],
      ] as const) {
        const r = await runOne(publisher, total, setUp);
        results.push(r);
        process.stdout.write(
          `round ${round + 1} ${name}: ${r.processed}/${total} in ${r.seconds.toFixed(2)} s = ` +
            `${Math.round(r.processed / r.seconds)} msg/s, ${Math.round(r.processed / r.cpuSeconds)} msg/CPU-s` +
            `${r.stalled ? ' (STALLED)' : ''}${r.incidents > 0 ? `, ${r.incidents} NATS incidents` : ''}\n`,
        );
      }
    }

    const best = (results: RoundResult[]): RoundResult =>
      results.reduce((a, b) => (b.processed / b.seconds > a.processed / a.seconds ? b : a));
    const b = best(bare);
    const o = best(ours);
    const oursRate = o.applied / o.seconds;
    const bareRate = b.applied / b.seconds;
    const oursCpu = o.processed / o.cpuSeconds;
    const bareCpu = b.processed / b.cpuSeconds;
    const lost = (results: RoundResult[]): number =>
      Math.max(...results.map((r) => total - r.processed));
    const rows: BenchRow[] = [
      {
        metric: `ingest, core NATS: events applied per second (${total.toLocaleString('en-US')} messages)`,
        value: oursRate,
        unit: 'msg/s',
        baseline: bareRate,
        baselineName: 'bare parse-only subscriber',
        ratio: oursRate / bareRate,
        target: '>= 0.7 of baseline',
        pass: oursRate / bareRate >= 0.7,
      },
      {
        metric: 'ingest, core NATS: messages per CPU-second of the consumer',
        value: oursCpu,
        unit: 'msg/CPU-s',
        baseline: bareCpu,
        baselineName: 'bare parse-only subscriber',
        ratio: oursCpu / bareCpu,
      },
      {
        metric: 'ingest, core NATS: messages lost (slow consumer), worst round',
        value: lost(ours),
        unit: 'msg',
        baseline: lost(bare),
        baselineName: 'bare parse-only subscriber',
        target: '0',
        pass: lost(ours) === 0,
      },
    ];
    const types = Object.entries(generated.types)
      .sort((x, y) => y[1] - x[1])
      .map(([type, n]) => `${type} ${n}`)
      .join(', ');
    report({
      name: 'Ingest, core NATS',
      rows,
      notes: [
        `${total.toLocaleString('en-US')} lnd messages from scripts/demo's DemoSimulation (${TRAFFIC.nodes} nodes, ${TRAFFIC.peersPerNode} peers and ${TRAFFIC.channelsPerNode} channels each, ${generated.simulatedHours.toFixed(1)} h of simulated time, ${(generated.bytes / total).toFixed(0)} B average, half wrapped in {"result": …}, payload timestamps): ${types}.`,
        `Publisher: a separate process, publishing as fast as NATS takes it in chunks of ${CHUNK.toLocaleString('en-US')} (each flushed), at most ${WINDOW.toLocaleString('en-US')} messages ahead of what the consumer has processed, so that neither subscriber can become a slow consumer; drops are still counted (messages never processed).`,
        `Consumers run in the benchmark process one at a time, on their own connection and fresh subjects, baseline and ours alternating, best of ${ROUNDS} rounds each; the rate is messages over the time from the publish signal to the last one processed. Ours: NatsClient, subscribeEvents, EventIngest (bootstrap requests answered by the publisher), ChannelEventStore per node with flap records in SQLite, counted by IngestStats. In-process rather than a child: IngestStats is read directly (a scrape per poll would cost more than it measures), and both consumers share the same process conditions.`,
        `CPU per message: process.cpuUsage (user + system, every thread) of the consuming process over the same interval. Bare: ${Math.round(bareRate).toLocaleString('en-US')} msg/s; ours ${Math.round(oursRate).toLocaleString('en-US')} msg/s.`,
      ],
    });
  } finally {
    await publisher.stop();
  }
}

await main();
