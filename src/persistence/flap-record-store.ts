import type { FlapRecord } from '../store/peer-monitor.js';

/**
 * Persisted per-peer flap records (lnd's channeldb flap counts), per node.
 * Every failure is a rejection: "no record" is only ever said of a record
 * that is not there (or does not decode).
 */
export interface FlapRecordStore {
  /** A peer's record; undefined when there is none (or it does not decode). */
  read(node: string, pubkey: string): Promise<FlapRecord | undefined>;
  /** The records found among these peers (absent ones are left out). */
  readMany(node: string, pubkeys: Iterable<string>): Promise<Map<string, FlapRecord>>;
  /** Writes (replaces) these peers' records. */
  write(node: string, records: ReadonlyMap<string, FlapRecord>): Promise<void>;
  close(): Promise<void>;
}
