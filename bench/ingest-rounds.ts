/**
 * One measured round of ingest over core NATS, as bench/ingest-core.bench.ts
 * and bench/fast-path-decoder.bench.ts run them: fresh subjects served by the
 * publisher, a consumer set up on them, the messages published under flow
 * control, the consumer's count polled to the end.
 */
import { Events, type NatsConnection } from 'nats';
import type { Logger } from '../src/log/logger.js';
import { connectionOptions } from '../src/nats/connection-options.js';
import { ConnectionState } from '../src/nats/connection-state.js';
import { subscribeEvents } from '../src/nats/event-subscription.js';
import { NatsClient } from '../src/nats/nats-client.js';
import {
  appliedCount,
  measure,
  natsSettings,
  ourPipeline,
  randomToken,
  type Measured,
  type Publisher,
} from './ingest-harness.js';

export const CHUNK = 5_000;
/** ~10 MB of messages in flight at most: far below the server's 64 MB slow-consumer limit. */
export const WINDOW = 50_000;

/** The demo's traffic the ingest benchmarks publish. */
export const TRAFFIC = { nodes: 4, peersPerNode: 1_000, channelsPerNode: 2_500, seed: 6 };

export interface Consumer {
  readonly processed: () => number;
  /** Messages applied (ours) or parsed (baseline). */
  readonly applied: () => number;
  /** Slow-consumer errors and disconnections the client saw. */
  readonly incidents: { count: number };
  close(): Promise<void>;
}

export function watchIncidents(nc: NatsConnection, incidents: { count: number }): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === Events.Error || status.type === Events.Disconnect) incidents.count += 1;
    }
  })();
}

/** Ours: the app's NATS client, subscriptions, ingest and stores. */
export async function ourSubscriber(prefix: string, logger: Logger): Promise<Consumer> {
  const client = new NatsClient(
    await connectionOptions(natsSettings(prefix)),
    new ConnectionState(),
    logger,
  );
  const nc = await client.start();
  const incidents = { count: 0 };
  watchIncidents(nc, incidents);
  const pipeline = await ourPipeline(nc, prefix, logger);
  const subscriptions = subscribeEvents(nc, prefix, pipeline.ingest, logger);
  await nc.flush();
  return {
    processed: pipeline.processed,
    applied: () => appliedCount(pipeline.stats),
    incidents,
    close: async () => {
      for (const subscription of subscriptions) subscription.unsubscribe();
      await pipeline.close();
      await client.close();
    },
  };
}

export interface RoundResult extends Measured {
  readonly applied: number;
  readonly incidents: number;
}

export async function runOne(
  publisher: Publisher,
  total: number,
  setUp: (prefix: string) => Promise<Consumer>,
): Promise<RoundResult> {
  const prefix = randomToken('bench');
  publisher.send({ kind: 'serve', prefix });
  await publisher.next('serving');
  const consumer = await setUp(prefix);
  const published = publisher.next('published');
  let reported = 0;
  const measured = await measure(
    total,
    consumer.processed,
    () => {
      publisher.send({ kind: 'publish', prefix, chunk: CHUNK, window: WINDOW });
    },
    (done) => {
      if (done - reported >= CHUNK / 2 || done >= total) {
        reported = done;
        publisher.send({ kind: 'progress', done });
      }
    },
  );
  if (measured.stalled) {
    // Let the publisher finish (it waits for progress that will not come).
    publisher.send({ kind: 'progress', done: total });
  }
  await published;
  const result = { ...measured, applied: consumer.applied(), incidents: consumer.incidents.count };
  await consumer.close();
  return result;
}
