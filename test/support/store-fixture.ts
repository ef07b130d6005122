import type { Clock } from '../../src/clock.js';
import type { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { RecordGate, type NodeRecordGate } from '../../src/ingest/record-gate.js';
import {
  ChannelEventStore,
  type StoreObserver,
  type StoreRejection,
} from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import type { FlapRecord } from '../../src/store/peer-monitor.js';
import { TEST_NOW, TestClock } from './test-clock.js';

/** A peer pubkey from a small number: 02 followed by 32 bytes. */
export function pubkey(n: number): string {
  return '02' + n.toString(16).padStart(64, '0');
}

/** A channel point from a small number. */
export function channelPoint(n: number, index = 0): string {
  return `${n.toString(16).padStart(64, 'c')}:${index}`;
}

/**
 * A store per node as the service wires them: a new peer's connectivity is
 * the one the node's bootstrap listed.
 */
export function nodeStores(clock: Clock, bootstrapPeers: BootstrapPeers): NodeStores {
  return new NodeStores(
    (node) =>
      new ChannelEventStore({
        node,
        clock,
        bootstrapConnectivity: (pubkey) => bootstrapPeers.connectivity(node, pubkey),
      }),
  );
}

/** Persisted records served asynchronously, as the Keyv adapter does. */
export class RecordReader {
  readonly records = new Map<string, FlapRecord>();
  reads = 0;
  failing = false;

  read = (key: string): Promise<FlapRecord | undefined> => {
    this.reads += 1;
    if (this.failing) return Promise.reject(new Error('backend down'));
    return Promise.resolve(this.records.get(key));
  };

  /** read() as a RecordGate takes it (every node reads the same records). */
  readOf = (_node: string, key: string): Promise<FlapRecord | undefined> => this.read(key);
}

export interface Fixture {
  clock: TestClock;
  store: ChannelEventStore;
  /** What every event goes through, as EventIngest submits them: reads the records of new monitors. */
  gate: NodeRecordGate;
  gates: RecordGate;
  /** Resolves once every event submitted through the gate is applied. */
  idle(): Promise<void>;
  reader: RecordReader;
  rejections: { reason: StoreRejection; pubkey: string; channelPoint: string }[];
  reordered: { pubkey: string; eventTime: number; appliedTime: number }[];
  bootstrapOnline: Set<string>;
}

export function storeFixture(node = 'alice'): Fixture {
  const clock = new TestClock(TEST_NOW);
  const reader = new RecordReader();
  const rejections: Fixture['rejections'] = [];
  const reordered: Fixture['reordered'] = [];
  const bootstrapOnline = new Set<string>();
  const observer: StoreObserver = {
    rejected: (reason, pk, cp) => rejections.push({ reason, pubkey: pk, channelPoint: cp }),
    reordered: (pk, eventTime, appliedTime) =>
      reordered.push({ pubkey: pk, eventTime, appliedTime }),
  };
  const store = new ChannelEventStore({
    node,
    clock,
    bootstrapConnectivity: (pk) => (bootstrapOnline.has(pk) ? true : undefined),
    observer,
  });
  const gates = new RecordGate({ read: reader.readOf });
  const gate = gates.of(store);
  return {
    clock,
    store,
    gate,
    gates,
    idle: () => gates.idle(),
    reader,
    rejections,
    reordered,
    bootstrapOnline,
  };
}
