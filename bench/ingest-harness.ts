/**
 * What the two ingest benchmarks share: the publisher process, our real
 * ingest pipeline (wired as src/app.ts wires it) and a progress poller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemScheduler } from '../src/clock.js';
import type { NatsSettings } from '../src/config/settings.js';
import { parseStoreUrl } from '../src/config/store-url.js';
import { BootstrapPeers } from '../src/ingest/bootstrap-peers.js';
import { EventIngest } from '../src/ingest/event-ingest.js';
import { IngestStats } from '../src/ingest/ingest-stats.js';
import { RecordGate } from '../src/ingest/record-gate.js';
import { createLogger, type Logger } from '../src/log/logger.js';
import { bootstrapRequests } from '../src/nats/bootstrap-requests.js';
import { ConnectionState } from '../src/nats/connection-state.js';
import {
  openFlapRecordStore,
  type KeyvFlapRecordStore,
} from '../src/persistence/keyv-flap-record-store.js';
import { ChannelEventStore } from '../src/store/channel-event-store.js';
import { NodeStores } from '../src/store/node-stores.js';
import type { NatsConnection } from 'nats';
import type { PublisherReply, PublisherRequest } from './ingest-publisher.js';
import { forkWorker, type WorkerProcess } from './worker-process.js';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Warnings and errors only, on standard error (standard output carries the result). */
export function benchLogger(): Logger {
  return createLogger({ level: 'warn', format: 'json', destination: process.stderr });
}

/** The settings our NATS client is built from, as the app gets them by default. */
export function natsSettings(prefix: string): NatsSettings {
  return {
    servers: [NATS_URL],
    name: 'chanfitness-bench',
    subjectPrefix: prefix,
    nodes: [],
    maxNodes: 100,
    jetstream: undefined,
    bootstrapTimeoutMs: 5_000,
    auth: { kind: 'none' },
    tls: undefined,
  };
}

export type Publisher = WorkerProcess<PublisherRequest, PublisherReply>;

/** Forks bench/ingest-publisher.ts (a separate process: its CPU is not the consumer's). */
export function startPublisher(): Publisher {
  return forkWorker('publisher', join(import.meta.dirname, 'ingest-publisher.ts'), {
    env: { ...process.env, NATS_URL },
  });
}

/** Our pipeline on a connection: the stores, the ingest and the record store, as the app has them. */
export interface OurPipeline {
  readonly stores: NodeStores;
  readonly stats: IngestStats;
  readonly ingest: EventIngest;
  readonly records: KeyvFlapRecordStore;
  /** Messages applied or rejected so far. */
  readonly processed: () => number;
  close(): Promise<void>;
}

export async function ourPipeline(
  nc: NatsConnection,
  prefix: string,
  logger: Logger,
): Promise<OurPipeline> {
  const dir = mkdtempSync(join(tmpdir(), 'chanfitness-bench-'));
  const records = await openFlapRecordStore(
    parseStoreUrl(`sqlite://${join(dir, 'flaps.sqlite')}`),
    {
      logger,
    },
  );
  const bootstrapPeers = new BootstrapPeers();
  const stores = new NodeStores(
    (node) =>
      new ChannelEventStore({
        node,
        clock: systemScheduler,
        bootstrapConnectivity: (pubkey) => bootstrapPeers.connectivity(node, pubkey),
      }),
  );
  // As src/app.ts: the flap record of a peer's first open is read at the edge.
  const gate = new RecordGate({ read: (node, pubkey) => records.read(node, pubkey) });
  const stats = new IngestStats();
  const ingest = new EventIngest({
    stores,
    gate,
    bootstrapPeers,
    bootstrap: bootstrapRequests(nc, {
      prefix,
      timeoutMs: 5_000,
      logger,
      state: new ConnectionState(),
    }),
    clock: systemScheduler,
    stats,
    logger,
  });
  return {
    stores,
    stats,
    ingest,
    records,
    processed: () => processedCount(stats),
    close: async () => {
      await gate.idle();
      await records.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Applied plus rejected messages, from the counters the metrics are made of. */
export function processedCount(stats: IngestStats): number {
  let n = 0;
  for (const byKind of stats.applied.values()) {
    for (const byType of byKind.values()) for (const count of byType.values()) n += count;
  }
  for (const count of stats.rejected.values()) n += count;
  return n;
}

export function appliedCount(stats: IngestStats): number {
  let n = 0;
  for (const byKind of stats.applied.values()) {
    for (const byType of byKind.values()) for (const count of byType.values()) n += count;
  }
  return n;
}

export interface Measured {
  /** Messages the consumer finished with. */
  readonly processed: number;
  /** From the start signal until the last message was processed (or the stall). */
  readonly seconds: number;
  /** process.cpuUsage user + system over the same interval. */
  readonly cpuSeconds: number;
  readonly stalled: boolean;
}

/**
 * Polls the consumer's count every millisecond from `begin()` until it reaches
 * `total` (or stops moving for `stallMs`), reporting progress along the way.
 * Timing and CPU are taken around exactly that interval.
 */
export async function measure(
  total: number,
  processed: () => number,
  begin: () => void,
  onProgress: (done: number) => void = () => undefined,
  stallMs = 5_000,
): Promise<Measured> {
  global.gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  begin();
  return new Promise((resolve) => {
    let last = 0;
    let lastMove = t0;
    const timer = setInterval(() => {
      const now = performance.now();
      const done = processed();
      if (done !== last) {
        last = done;
        lastMove = now;
        onProgress(done);
      }
      const stalled = now - lastMove > stallMs;
      if (done >= total || stalled) {
        clearInterval(timer);
        const cpu = process.cpuUsage(cpu0);
        const end = stalled ? lastMove : now;
        resolve({
          processed: done,
          seconds: (end - t0) / 1000,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          stalled,
        });
      }
    }, 1);
  });
}

export function randomToken(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 10)}`;
}
