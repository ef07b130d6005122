/**
 * The load test's publisher, a process of its own (forked by scripts/load-test.ts) so
 * that its work neither delays the latency measurements nor hides in their CPU figures:
 * publishes DemoSimulation's lnd messages at a steady rate, core NATS or JetStream.
 */
import { connect, type NatsConnection } from 'nats';
import { errorMessage } from '../../src/errors.js';
import type { DemoMessage } from '../demo/node-simulation.js';
import { DemoSimulation } from '../demo/simulation.js';
import type { FromPublisher, ToPublisher } from './publisher-protocol.js';

type Config = Extract<ToPublisher, { kind: 'config' }>;

/** JetStream publishes awaiting their acknowledgement, at most. */
const JETSTREAM_WINDOW = 4_000;
/** Publishing catches up after a stall by at most this share of a second's messages per tick. */
const MAX_BURST_SHARE = 0.05;
const TICK_MS = 2;

function send(message: FromPublisher): void {
  process.send?.(message);
}

async function run(config: Config, started: Promise<void>): Promise<void> {
  const nc: NatsConnection = await connect({
    servers: config.natsUrl,
    name: 'chanfitness-load-publisher',
  });
  const simulation = new DemoSimulation({
    nodes: config.nodes,
    seed: config.seed,
    start: Date.now() - config.historyMs,
    peers: config.peers,
    channels: config.channels,
  });
  const messages = simulation.messagesUntil(Date.now());
  const subjects = new Map<string, string>();
  const subjectOf = (m: DemoMessage): string => {
    const key = `${m.node}.${m.subject}`;
    let subject = subjects.get(key);
    if (subject === undefined) {
      subject = `${config.prefix}.${key}`;
      subjects.set(key, subject);
    }
    return subject;
  };
  const js = nc.jetstream();
  send({ kind: 'ready' });
  await started;

  let published = 0;
  let sent = 0;
  let failed = 0;
  let inFlight = 0;
  let exhausted = false;
  let lastEventTime = 0;
  const maxBurst = Math.max(1, Math.ceil(config.rate * MAX_BURST_SHARE));
  const startedAt = Date.now();
  const progress = setInterval(() => {
    send({ kind: 'progress', published, at: Date.now() });
  }, 500);

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = Date.now() - startedAt;
      const due = Math.floor((config.rate * Math.min(elapsed, config.durationMs)) / 1000);
      let n = Math.min(due - sent, maxBurst);
      while (n > 0) {
        if (config.mode === 'jetstream' && inFlight >= JETSTREAM_WINDOW) break;
        const next = messages.next();
        if (next.done === true) {
          exhausted = true;
          break;
        }
        const message = next.value;
        lastEventTime = message.time;
        sent += 1;
        n -= 1;
        if (config.mode === 'core') {
          nc.publish(subjectOf(message), message.payload);
          published += 1;
        } else {
          inFlight += 1;
          js.publish(subjectOf(message), message.payload).then(
            () => {
              inFlight -= 1;
              published += 1;
            },
            () => {
              inFlight -= 1;
              failed += 1;
            },
          );
        }
      }
      if (exhausted || elapsed >= config.durationMs) {
        resolve();
        return;
      }
      setTimeout(tick, TICK_MS);
    };
    tick();
  });
  const endedAt = Date.now();
  clearInterval(progress);
  await nc.flush();
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  const counts = simulation.nodes.reduce(
    (sum, node) => ({
      opened: sum.opened + node.counts.opened,
      closed: sum.closed + node.counts.closed,
    }),
    { opened: 0, closed: 0 },
  );
  send({
    kind: 'done',
    published,
    failed,
    startedAt,
    endedAt,
    exhausted,
    lastEventTime,
    channelsOpened: counts.opened,
    channelsClosed: counts.closed,
  });
  await nc.drain();
}

let startPublishing: () => void = () => undefined;
const started = new Promise<void>((resolve) => {
  startPublishing = resolve;
});
process.on('message', (message: ToPublisher) => {
  if (message.kind === 'start') {
    startPublishing();
    return;
  }
  run(message, started).then(
    () => {
      process.disconnect();
    },
    (err: unknown) => {
      send({ kind: 'error', message: errorMessage(err) });
      process.disconnect();
      process.exitCode = 1;
    },
  );
});
