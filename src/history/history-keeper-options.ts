import type { Logger } from 'pino';
import type { Scheduler } from '../clock.js';
import type { BootstrapPeers } from '../ingest/bootstrap-peers.js';
import type { NodeStores } from '../store/node-stores.js';
import type { HistoryKv } from './history-kv.js';
import type { HistoryStats } from './history-stats.js';

/** Where JetStream delivery stands, for a snapshot to say which messages it includes. */
export interface JetStreamPosition {
  /** The stream and durable consumer the sequences are of. */
  readonly stream: string;
  readonly durable: string;
  /** Every stream sequence up to this one is applied. */
  appliedThrough(): number;
  /** The sequence of the last message applied for this peer of the node, if any. */
  peerSequence(node: string, pubkey: string): number | undefined;
}

export interface HistoryKeeperOptions {
  readonly stores: NodeStores;
  readonly kv: HistoryKv;
  readonly stats: HistoryStats;
  readonly logger: Logger;
  /** The snapshots' times, the snapshot timer and a paced snapshot's breaks. */
  readonly clock: Scheduler;
  readonly bootstrapPeers: BootstrapPeers;
  /** --history.snapshot-interval, ms. */
  readonly intervalMs: number;
  /** JetStream mode: where delivery stands. */
  readonly jetstream?: JetStreamPosition;
  readonly bucketCount?: number;
  /** Events held back from the stores (RecordGate): a rebase waits until the node's are applied. */
  readonly gate?: { idle(node: string): Promise<void> };
}
