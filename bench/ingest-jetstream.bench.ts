/**
 * Issue 6, benchmark 2 — ingest from JetStream: our JetStreamDelivery (a
 * durable pull consumer, acknowledging in stream order once applied, one
 * acknowledgement per batch of deliveries with ack policy `all`) against a
 * bare durable pull consumer that parses and acknowledges each message of the
 * same stream (explicit acks, the usual way), with the same limits and consume
 * options, in the same run. A second bare consumer, acknowledging as ours does
 * (ack policy `all`, the last message of each batch), is a reference: what of
 * the ratio the acknowledgement scheme makes.
 *
 * A stream is pre-filled once by the publisher process with realistic lnd
 * messages; each round, each side drains the whole of it through a durable
 * consumer of its own (baseline and ours alternating, best of the rounds).
 * Ours is wired as src/app.ts wires it: JetStreamDelivery, EventIngest with
 * NATS bootstrap requests, a ChannelEventStore per node with flap records in
 * SQLite, counted by IngestStats.
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import type { JetStreamSettings } from '../src/config/settings.js';
import type { Logger } from '../src/log/logger.js';
import { streamSubjects } from '../src/nats/jetstream-consumer.js';
import { JetStreamDelivery } from '../src/nats/jetstream-delivery.js';
import {
  appliedCount,
  benchLogger,
  measure,
  NATS_URL,
  ourPipeline,
  randomToken,
  startPublisher,
  type Measured,
} from './ingest-harness.js';
import { report, type BenchRow } from './result.js';

const MESSAGES = Number(process.env.BENCH_JETSTREAM_MESSAGES ?? 200_000);
const NODES = 4;
const PEERS_PER_NODE = 1_000;
const CHANNELS_PER_NODE = 2_500;
/** The exporter's default --nats.max-in-flight. */
const MAX_IN_FLIGHT = 10_000;
const ACK_WAIT_MS = 30_000;
const ROUNDS = 3;

interface Consumer {
  readonly processed: () => number;
  readonly applied: () => number;
  close(): Promise<void>;
}

/** A consumer with JetStreamDelivery's limits, acknowledging explicitly or all up to a message. */
async function addConsumer(
  nc: NatsConnection,
  stream: string,
  durable: string,
  ackPolicy: AckPolicy,
): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: ackPolicy,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ACK_WAIT_MS),
    max_ack_pending: MAX_IN_FLIGHT,
  });
}

/**
 * The baseline: a durable pull consumer that parses each message and
 * acknowledges it (explicit acks); with `ackAll`, the reference: ack policy
 * `all`, and one acknowledgement, of the last message, per batch of deliveries
 * (the data of one socket read), as JetStreamDelivery acknowledges.
 */
function bareConsumer(
  nc: NatsConnection,
  stream: string,
  ackAll = false,
): Consumer & { readonly start: () => void } {
  const durable = randomToken('bare');
  const decoder = new TextDecoder();
  let parsed = 0;
  let messages: ConsumerMessages | undefined;
  let last: JsMsg | undefined;
  const ackLast = (): void => {
    last?.ack();
    last = undefined;
  };
  return {
    start: () => {
      void (async () => {
        await addConsumer(nc, stream, durable, ackAll ? AckPolicy.All : AckPolicy.Explicit);
        const consumer = await nc.jetstream().consumers.get(stream, durable);
        messages = await consumer.consume({
          max_messages: Math.min(MAX_IN_FLIGHT, 1_000),
          callback: ackAll
            ? (msg) => {
                if (JSON.parse(decoder.decode(msg.data)) !== null) parsed += 1;
                if (last === undefined) queueMicrotask(ackLast);
                last = msg;
              }
            : (msg) => {
                if (JSON.parse(decoder.decode(msg.data)) !== null) parsed += 1;
                msg.ack();
              },
        });
      })();
    },
    processed: () => parsed,
    applied: () => parsed,
    close: async () => {
      messages?.stop();
      await (await nc.jetstreamManager()).consumers.delete(stream, durable);
    },
  };
}

/** Ours: JetStreamDelivery feeding the app's ingest and stores. */
async function ourConsumer(
  nc: NatsConnection,
  stream: string,
  prefix: string,
  logger: Logger,
): Promise<Consumer & { readonly start: () => void }> {
  const durable = randomToken('ours');
  const pipeline = await ourPipeline(nc, prefix, logger);
  const settings: JetStreamSettings = {
    stream,
    durable,
    createStream: false,
    streamMaxAgeMs: 3_600_000,
    maxInFlight: MAX_IN_FLIGHT,
  };
  const delivery = new JetStreamDelivery(nc, pipeline.ingest, {
    settings,
    prefix,
    logger,
    ackWaitMs: ACK_WAIT_MS,
  });
  return {
    start: () => {
      void delivery.start();
    },
    processed: pipeline.processed,
    applied: () => appliedCount(pipeline.stats),
    close: async () => {
      await delivery.stop();
      await pipeline.close();
      await (await nc.jetstreamManager()).consumers.delete(stream, durable);
    },
  };
}

async function main(): Promise<void> {
  const logger = benchLogger();
  const publisher = startPublisher();
  const nc = await connect({ servers: NATS_URL, name: 'chanfitness-bench-jetstream' });
  const prefix = randomToken('benchjs');
  const stream = randomToken('BENCH_').toUpperCase();
  const jsm = await nc.jetstreamManager();
  try {
    await jsm.streams.add({
      name: stream,
      subjects: streamSubjects(prefix),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(3_600_000),
    });
    publisher.send({
      kind: 'generate',
      nodes: NODES,
      peersPerNode: PEERS_PER_NODE,
      channelsPerNode: CHANNELS_PER_NODE,
      count: MESSAGES,
      seed: 7,
    });
    const generated = await publisher.next('generated');
    const total = generated.count;
    // Bootstrap requests of our side are answered by the publisher.
    publisher.send({ kind: 'serve', prefix });
    await publisher.next('serving');
    const filling = publisher.next('published');
    publisher.send({ kind: 'publish', prefix, chunk: 5_000, window: 0 });
    const filled = await filling;
    const deadline = Date.now() + 60_000;
    while ((await jsm.streams.info(stream)).state.messages < total) {
      if (Date.now() > deadline) throw new Error('the stream did not take every message');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    process.stdout.write(
      `stream ${stream} filled with ${total} messages in ${filled.seconds.toFixed(1)} s\n`,
    );

    const bare: (Measured & { applied: number })[] = [];
    const ours: (Measured & { applied: number })[] = [];
    const bareAll: (Measured & { applied: number })[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, results] of [
        ['bare', bare],
        ['ours', ours],
        ['bare, ack all', bareAll],
      ] as const) {
        const consumer =
          name === 'ours'
            ? await ourConsumer(nc, stream, prefix, logger)
            : bareConsumer(nc, stream, name !== 'bare');
        const measured = await measure(total, consumer.processed, consumer.start);
        const r = { ...measured, applied: consumer.applied() };
        results.push(r);
        await consumer.close();
        process.stdout.write(
          `round ${round + 1} ${name}: ${r.processed}/${total} in ${r.seconds.toFixed(2)} s = ` +
            `${Math.round(r.processed / r.seconds)} msg/s, ${Math.round(r.processed / r.cpuSeconds)} msg/CPU-s` +
            `${r.stalled ? ' (STALLED)' : ''}\n`,
        );
      }
    }

    const best = <T extends Measured>(results: T[]): T =>
      results.reduce((a, b) => (b.processed / b.seconds > a.processed / a.seconds ? b : a));
    const b = best(bare);
    const o = best(ours);
    const a = best(bareAll);
    const oursRate = o.applied / o.seconds;
    const bareRate = b.applied / b.seconds;
    const bareAllRate = a.applied / a.seconds;
    const oursCpu = o.processed / o.cpuSeconds;
    const bareCpu = b.processed / b.cpuSeconds;
    const bareAllCpu = a.processed / a.cpuSeconds;
    const rows: BenchRow[] = [
      {
        metric: `ingest, JetStream: events applied and acknowledged per second (${total.toLocaleString('en-US')} messages)`,
        value: oursRate,
        unit: 'msg/s',
        baseline: bareRate,
        baselineName: 'bare durable consumer (parse + ack)',
        ratio: oursRate / bareRate,
        target: '>= 0.7 of baseline',
        pass: oursRate / bareRate >= 0.7,
      },
      {
        metric: 'ingest, JetStream: messages per CPU-second of the consumer',
        value: oursCpu,
        unit: 'msg/CPU-s',
        baseline: bareCpu,
        baselineName: 'bare durable consumer (parse + ack)',
        ratio: oursCpu / bareCpu,
      },
      {
        metric:
          'ingest, JetStream: reference, against a bare consumer acknowledging as ours does (ack policy all, once per batch)',
        value: oursRate,
        unit: 'msg/s',
        baseline: bareAllRate,
        baselineName: 'bare durable consumer (parse + ack all per batch)',
        ratio: oursRate / bareAllRate,
      },
      {
        metric: 'ingest, JetStream: reference, messages per CPU-second against the same',
        value: oursCpu,
        unit: 'msg/CPU-s',
        baseline: bareAllCpu,
        baselineName: 'bare durable consumer (parse + ack all per batch)',
        ratio: oursCpu / bareAllCpu,
      },
    ];
    report({
      name: 'Ingest, JetStream',
      rows,
      notes: [
        `One file-storage stream pre-filled with ${total.toLocaleString('en-US')} lnd messages of scripts/demo's DemoSimulation (${NODES} nodes, ${PEERS_PER_NODE} peers and ${CHANNELS_PER_NODE} channels each, payload timestamps); each side drains all of it through a new durable pull consumer: deliver all, ack_wait ${ACK_WAIT_MS / 1000} s, max_ack_pending ${MAX_IN_FLIGHT} and consume max_messages ${Math.min(MAX_IN_FLIGHT, 1_000)} for all (JetStreamDelivery's settings at the default --nats.max-in-flight); the baseline acknowledges each message (explicit acks), ours and the reference use ack policy all and acknowledge the last message of each batch of deliveries.`,
        `Ours: JetStreamDelivery (ack after apply, redeliveries skipped by stream sequence), EventIngest, ChannelEventStore per node with flap records in SQLite, counted by IngestStats; baseline: JSON.parse then ack; reference: JSON.parse, and an ack of the last message per batch. Consumers run in the benchmark process one at a time, baseline, ours and reference in turn, best of ${ROUNDS} rounds each; rate = messages over the time from the start of the consumer's set-up to the last message processed.`,
      ],
    });
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.drain();
    await publisher.stop();
  }
}

await main();
