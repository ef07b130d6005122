/**
 * The publisher process of the ingest benchmarks (forked by them, never run by
 * the bench runner: its name does not end in .bench.ts).
 *
 * It pre-generates realistic lnd messages with the demo's DemoSimulation
 * (several nodes, many peers and channels, payload timestamps: mostly peer
 * events and channel link events, some opens and closes), then publishes them
 * on request as fast as NATS takes them, in chunks, each chunk flushed. A
 * window keeps it at most `window` messages ahead of what the consumer reports
 * done, so that a subscriber that is slower than the publisher is never cut
 * off as a slow consumer by the server: both subscribers of a comparison are
 * fed the same way. It also answers the bootstrap requests of the benchmark's
 * prefix with the simulation's (empty) start-up state.
 */
import { connect, type NatsConnection, type Subscription } from 'nats';
import { DemoSimulation } from '../scripts/demo/simulation.js';

/** What the benchmark asks of the publisher (over the fork IPC channel). */
export type PublisherRequest =
  | {
      readonly kind: 'generate';
      readonly nodes: number;
      readonly peersPerNode: number;
      readonly channelsPerNode: number;
      readonly count: number;
      readonly seed: number;
    }
  /** Serve the bootstrap requests of this prefix (until the next serve). */
  | { readonly kind: 'serve'; readonly prefix: string }
  | {
      readonly kind: 'publish';
      readonly prefix: string;
      /** Messages per chunk; each chunk is flushed (a round trip to the server). */
      readonly chunk: number;
      /** At most this many messages ahead of the consumer's progress; 0: no window. */
      readonly window: number;
    }
  /** Messages the consumer has finished with (applied, rejected or parsed). */
  | { readonly kind: 'progress'; readonly done: number }
  | { readonly kind: 'exit' };

export type PublisherReply =
  | {
      readonly kind: 'generated';
      readonly count: number;
      readonly bytes: number;
      readonly types: Record<string, number>;
      readonly simulatedHours: number;
      readonly seconds: number;
    }
  | { readonly kind: 'serving' }
  | { readonly kind: 'published'; readonly count: number; readonly seconds: number };

const SUBJECTS = ['channel_events', 'peer_events'] as const;

interface Batch {
  readonly nodes: readonly string[];
  /** Every payload, back to back. */
  readonly data: Buffer;
  /** Start of message i in data; offsets[count] is the end. */
  readonly offsets: Uint32Array;
  /** Message i goes to `<prefix>.<nodes[route >> 1]>.<SUBJECTS[route & 1]>`. */
  readonly routes: Uint16Array;
}

function generate(request: Extract<PublisherRequest, { kind: 'generate' }>): {
  batch: Batch;
  reply: PublisherReply;
} {
  const started = performance.now();
  const nodes = Array.from({ length: request.nodes }, (_, i) => `node${i + 1}`);
  // Far enough back that no payload timestamp is ahead of the exporter's clock.
  const start = Date.now() - 7 * 86_400_000;
  const simulation = new DemoSimulation({
    nodes,
    seed: request.seed,
    start,
    peers: request.peersPerNode,
    channels: request.channelsPerNode,
  });
  const payloads: Buffer[] = [];
  const routes = new Uint16Array(request.count);
  const types: Record<string, number> = {};
  let last = start;
  for (const message of simulation.messagesUntil(Date.now() - 3_600_000)) {
    const i = payloads.length;
    payloads.push(Buffer.from(message.payload, 'utf8'));
    routes[i] = (nodes.indexOf(message.node) << 1) | (message.subject === 'peer_events' ? 1 : 0);
    types[message.type] = (types[message.type] ?? 0) + 1;
    last = message.time;
    if (payloads.length === request.count) break;
  }
  const offsets = new Uint32Array(payloads.length + 1);
  let at = 0;
  payloads.forEach((payload, i) => {
    offsets[i] = at;
    at += payload.length;
  });
  offsets[payloads.length] = at;
  const batch: Batch = { nodes, data: Buffer.concat(payloads, at), offsets, routes };
  return {
    batch,
    reply: {
      kind: 'generated',
      count: payloads.length,
      bytes: at,
      types,
      simulatedHours: (last - start) / 3_600_000,
      seconds: (performance.now() - started) / 1000,
    },
  };
}

async function main(): Promise<void> {
  const send = (reply: PublisherReply): void => {
    process.send?.(reply);
  };
  const nc: NatsConnection = await connect({
    servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    name: 'chanfitness-bench-publisher',
  });
  let batch: Batch | undefined;
  let responders: Subscription[] = [];
  let done = 0;
  let progressed: (() => void) | undefined;

  const publish = async (
    request: Extract<PublisherRequest, { kind: 'publish' }>,
  ): Promise<void> => {
    if (batch === undefined) throw new Error('publish before generate');
    const { data, offsets, routes, nodes } = batch;
    const subjects = nodes.flatMap((node) =>
      SUBJECTS.map((subject) => `${request.prefix}.${node}.${subject}`),
    );
    const count = routes.length;
    done = 0;
    const started = performance.now();
    for (let from = 0; from < count; from += request.chunk) {
      while (request.window > 0 && from - done > request.window - request.chunk) {
        await new Promise<void>((resolve) => {
          progressed = resolve;
        });
      }
      const to = Math.min(count, from + request.chunk);
      for (let i = from; i < to; i++) {
        nc.publish(subjects[routes[i] ?? 0] ?? '', data.subarray(offsets[i], offsets[i + 1]));
      }
      await nc.flush();
    }
    send({ kind: 'published', count, seconds: (performance.now() - started) / 1000 });
  };

  process.on('message', (request: PublisherRequest) => {
    switch (request.kind) {
      case 'generate': {
        const generated = generate(request);
        batch = generated.batch;
        send(generated.reply);
        return;
      }
      case 'serve': {
        for (const sub of responders) sub.unsubscribe();
        // The simulated nodes start with no channel and no connected peer.
        responders = [
          nc.subscribe(`${request.prefix}.*.rpc.list_peers`, {
            callback: (_err, msg) => msg.respond(Buffer.from('{"peers":[]}')),
          }),
          nc.subscribe(`${request.prefix}.*.rpc.list_channels`, {
            callback: (_err, msg) => msg.respond(Buffer.from('{"channels":[]}')),
          }),
        ];
        void nc.flush().then(() => {
          send({ kind: 'serving' });
        });
        return;
      }
      case 'publish':
        void publish(request);
        return;
      case 'progress':
        done = request.done;
        progressed?.();
        progressed = undefined;
        return;
      case 'exit':
        void nc.drain().finally(() => process.exit(0));
        return;
    }
  });
  // The parent going away must not leave the publisher behind.
  process.on('disconnect', () => process.exit(0));
}

void main();
