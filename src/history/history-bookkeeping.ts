import type { FlapRecord } from '../store/peer-monitor.js';
import { historyKeys, type Manifest } from './history-format.js';
import type { DecodedPeer } from './history-peer-encoding.js';

/** Peers of a node are spread over this many buckets; a snapshot rewrites the changed ones. */
export const BUCKETS = 256;

/** What the keeper knows a node's committed state to be. */
export interface NodeHistory {
  /** Generation of the committed manifest; 0 before one. */
  gen: number;
  /** The next generation to write: above every one tried, committed or not. */
  nextGen: number;
  readonly buckets: Map<number, number>;
  readonly members: Map<number, Set<string>>;
  /** Committed sealed segments of each peer's log. */
  readonly segments: Map<string, SegmentRange>;
  bootstrapGen: number | undefined;
  bootstrapVersion: number;
  /** Generation of the committed observation key (the node's gaps); undefined before one. */
  obsGen: number | undefined;
  /** The store's observation version that key holds; -1: write it at the next snapshot. */
  obsVersion: number;
  /** Flap records as of the committed state: what the flap flusher writes. */
  readonly flapRecords: Map<string, FlapRecord>;
  /** Keys written by attempts that did not commit, deleted after the next commit. */
  readonly orphans: Set<string>;
}

/** A peer's committed sealed segments [first, end) of a log epoch. */
export interface SegmentRange {
  readonly epoch: number;
  readonly first: number;
  readonly end: number;
}

/** What a snapshot of a node wrote, once its manifest is committed. */
export interface CommittedWrite {
  /** The generation of the manifest. */
  readonly gen: number;
  /** The manifest's buckets: bucket number -> generation. */
  readonly buckets: Readonly<Record<string, number>>;
  /** The buckets written under this generation. */
  readonly dirtyBuckets: ReadonlySet<number>;
  readonly bootstrapChanged: boolean;
  readonly bootstrapGen: number | undefined;
  readonly bootstrapVersion: number;
  readonly obsGen: number | undefined;
  readonly obsVersion: number;
  /** Sealed segments of the peers written, as the manifest now names them. */
  readonly segments: ReadonlyMap<string, SegmentRange>;
  readonly flapRecords: ReadonlyMap<string, FlapRecord>;
  /** Every key the snapshot wrote. */
  readonly written: readonly string[];
}

/**
 * The keeper's bookkeeping: what it knows the persisted history to be (each
 * node's committed state, the nodes the node index names, the JetStream
 * point restored), and so which keys a snapshot must write and which it may
 * delete.
 */
export class NodeHistories {
  private readonly nodes = new Map<string, NodeHistory>();
  /** Nodes the persisted node index names. */
  readonly indexed = new Set<string>();
  /** The JetStream point restored: what is written never goes below it (nothing consumed yet). */
  restoredThrough = 0;

  constructor(readonly bucketCount: number) {}

  /** The flap records of the node as of its committed state (for the flap flusher). */
  committedFlapRecords(node: string): Map<string, FlapRecord> {
    return new Map(this.nodes.get(node)?.flapRecords);
  }

  /** The node's bookkeeping; empty (nothing committed) the first time. */
  of(node: string): NodeHistory {
    let history = this.nodes.get(node);
    if (history === undefined) {
      history = {
        gen: 0,
        nextGen: 1,
        buckets: new Map(),
        members: new Map(),
        segments: new Map(),
        bootstrapGen: undefined,
        bootstrapVersion: 0,
        obsGen: undefined,
        obsVersion: 0,
        flapRecords: new Map(),
        orphans: new Set(),
      };
      this.nodes.set(node, history);
    }
    return history;
  }

  /** The peers of the node known to be in a bucket. */
  members(history: NodeHistory, bucket: number): Set<string> {
    let members = history.members.get(bucket);
    if (members === undefined) {
      members = new Set();
      history.members.set(bucket, members);
    }
    return members;
  }

  /** FNV-1a of the pubkey: stable across processes and versions. */
  bucketOf(pubkey: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < pubkey.length; i++) {
      h ^= pubkey.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h % this.bucketCount;
  }

  /**
   * Takes a restored node's manifest and peers as its committed state;
   * returns the JetStream sequence each peer's state includes, where stored.
   */
  adopt(
    node: string,
    manifest: Manifest,
    peers: readonly DecodedPeer[],
    bootstrapVersion: number,
  ): Map<string, number> {
    const history = this.of(node);
    history.gen = manifest.gen;
    history.nextGen = manifest.gen + 1;
    history.bootstrapGen = manifest.bootstrap;
    history.bootstrapVersion = bootstrapVersion;
    history.obsGen = manifest.obs;
    history.obsVersion = -1;
    for (const [bucket, gen] of Object.entries(manifest.buckets)) {
      history.buckets.set(Number(bucket), gen);
    }
    const peerSkips = new Map<string, number>();
    for (const p of peers) {
      const pubkey = p.image.pubkey;
      this.members(history, this.bucketOf(pubkey)).add(pubkey);
      if (p.segments !== undefined) history.segments.set(pubkey, p.segments);
      const m = p.image.monitor;
      if (m?.lastFlap !== undefined && m.recordMerged) {
        history.flapRecords.set(pubkey, { count: m.flapCount, lastFlap: m.lastFlap });
      }
      if (p.through !== undefined) peerSkips.set(pubkey, p.through);
    }
    // A crash during the next write may have left these; nothing names them.
    for (let b = 0; b < this.bucketCount; b++) {
      history.orphans.add(historyKeys.bucket(node, b, manifest.gen + 1));
    }
    return peerSkips;
  }

  /**
   * Records a node's committed snapshot; returns the keys the previous
   * manifest named and this one does not, and those of attempts that did not
   * commit: nothing names them any more.
   */
  commit(node: string, history: NodeHistory, write: CommittedWrite): string[] {
    const { gen, buckets, dirtyBuckets, bootstrapChanged, bootstrapGen, bootstrapVersion } = write;
    const { obsGen, obsVersion, segments, flapRecords, written } = write;
    const obsolete: string[] = [];
    for (const bucket of dirtyBuckets) {
      const old = history.buckets.get(bucket);
      if (old !== undefined && old !== gen) obsolete.push(historyKeys.bucket(node, bucket, old));
      history.buckets.set(bucket, gen);
    }
    if (
      bootstrapChanged &&
      history.bootstrapGen !== undefined &&
      bootstrapGen !== history.bootstrapGen
    ) {
      obsolete.push(historyKeys.bootstrap(node, history.bootstrapGen));
    }
    history.bootstrapGen = bootstrapGen;
    history.bootstrapVersion = bootstrapVersion;
    if (history.obsGen !== undefined && obsGen !== history.obsGen) {
      obsolete.push(historyKeys.observation(node, history.obsGen));
    }
    history.obsGen = obsGen;
    history.obsVersion = obsVersion;
    for (const [pubkey, range] of segments) {
      const prev = history.segments.get(pubkey);
      if (prev !== undefined) {
        const keepFrom = prev.epoch === range.epoch ? range.first : prev.end;
        for (let j = prev.first; j < Math.min(keepFrom, prev.end); j++) {
          obsolete.push(historyKeys.segment(node, pubkey, prev.epoch, j));
        }
      }
      history.segments.set(pubkey, range);
    }
    for (const [pubkey, record] of flapRecords) history.flapRecords.set(pubkey, record);
    history.gen = gen;
    for (const key of written) history.orphans.delete(key);
    const named = new Set(
      Object.entries(buckets).map(([b, g]) => historyKeys.bucket(node, Number(b), g)),
    );
    for (const key of history.orphans) if (!named.has(key)) obsolete.push(key);
    history.orphans.clear();
    return obsolete;
  }
}
