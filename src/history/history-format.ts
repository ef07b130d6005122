import { CodedError } from '../errors.js';

/**
 * Keys, format and shapes of a store's history as persisted: JSON values in
 * Keyv. Every decoder checks what it reads and throws HistoryFormatError (an
 * older or newer format) or HistoryCorruptError (anything else it cannot
 * use): state that cannot be trusted is ignored, never half-applied.
 */

/** Bumped on any incompatible change of what follows. */
export const HISTORY_FORMAT = 1;

/** Committed events per sealed segment of a peer's log (written once, never rewritten). */
export const SEGMENT_EVENTS = 256;

/**
 * Persisted state of another format than HISTORY_FORMAT. The code is the
 * reason it is ignored for (HistoryRejectReason), as counted and logged.
 */
export class HistoryFormatError extends CodedError<'format'> {
  constructor(message: string) {
    super('format', message);
  }
}

/** Persisted state that does not decode; the code is its HistoryRejectReason. */
export class HistoryCorruptError extends CodedError<'corrupt'> {
  constructor(message: string) {
    super('corrupt', message);
  }
}

/** Keyv keys (Keyv adds the `chanfitness` namespace). */
export const historyKeys = {
  nodes: 'hist:nodes',
  jetstream: 'hist:jetstream',
  manifest: (node: string): string => `hist:${node}:m`,
  bucket: (node: string, bucket: number, gen: number): string => `hist:${node}:b:${bucket}:${gen}`,
  segment: (node: string, pubkey: string, epoch: number, index: number): string =>
    `hist:${node}:s:${pubkey}:${epoch}:${index}`,
  bootstrap: (node: string, gen: number): string => `hist:${node}:boot:${gen}`,
  observation: (node: string, gen: number): string => `hist:${node}:obs:${gen}`,
};

/** The index of the nodes with history: written before a node's first manifest. */
export interface NodeIndex {
  readonly v: number;
  readonly nodes: string[];
}

/** A node's manifest: which generation of each bucket holds its peers. Written last. */
export interface Manifest {
  readonly v: number;
  /** Generation of this write; buckets written by it carry it in their keys. */
  readonly gen: number;
  /** When this write was captured (ms): where an unobserved span of a crash starts. */
  readonly writtenAt: number;
  readonly bucketCount: number;
  readonly segmentEvents: number;
  /** Bucket number -> generation of its current key. */
  readonly buckets: Record<string, number>;
  /** Generation of the bootstrap list key; absent when none was read. */
  readonly bootstrap?: number;
  /** Generation of the observation key (the node's gaps); absent while it never had one. */
  readonly obs?: number;
  /** Time of the node's latest status; absent when it never sent one. */
  readonly ls?: number;
  /**
   * JetStream: every message of the stream up to this sequence is in this
   * state (or in a peer's own `through`, later); absent in core NATS mode.
   */
  readonly through?: number;
}

/** The JetStream resume point: every node's state includes every message up to `through`. */
export interface JetStreamMark {
  readonly v: number;
  readonly through: number;
  /** The stream and durable the sequence belongs to. */
  readonly stream: string;
  readonly durable: string;
}

/** A sealed segment: committed events [from, (index + 1) * SEGMENT_EVENTS) of a log epoch. */
export interface StoredSegment {
  readonly f: number;
  readonly d: string;
}

/** A peer in a bucket. */
export interface StoredPeer {
  readonly k: string;
  /** Connectivity: 1 online, 0 offline, null before any peer event. */
  readonly c: 0 | 1 | null;
  readonly t: number;
  /** JetStream sequence this peer's state includes every message of, when later than the manifest's. */
  readonly q?: number;
  readonly m?: StoredMonitor;
}

/** A peer's monitor in a bucket. */
export interface StoredMonitor {
  readonly f: number;
  readonly lf: number | null;
  readonly o: 0 | 1;
  readonly r: 0 | 1;
  readonly ca: number;
  /** The node's unobserved time up to createdAt, when not 0. */
  readonly ua?: number;
  /**
   * [channel point, opened at, online time at the opening or null], and the
   * node's unobserved time up to the opening when not 0.
   */
  readonly ch: ([string, number, number | null] | [string, number, number | null, number])[];
  readonly lg: StoredLog;
}

/** A monitor's log: its header, how many segments are sealed, and its tail. */
export interface StoredLog {
  readonly e: number;
  readonly o: number;
  readonly n: number;
  readonly b: number;
  readonly s: [number, 0 | 1] | null;
  /** Sealed segments [first, sg) hold the events from the offset up to sg * SEGMENT_EVENTS. */
  readonly sg: number;
  /** The events after the sealed segments, up to n. */
  readonly tl: string;
}

/** A bucket: the peers whose pubkey hashes to it. */
export interface StoredBucket {
  readonly v: number;
  readonly peers: StoredPeer[];
}

/** The segments of a log that are sealed (full) given its end. */
export function sealedSegments(end: number): number {
  return Math.floor(end / SEGMENT_EVENTS);
}

/** First segment holding a retained event. */
export function firstSegment(offset: number): number {
  return Math.floor(offset / SEGMENT_EVENTS);
}
