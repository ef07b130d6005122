import { monitorEventLoopDelay, performance as perfHooks } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { BootstrapPeers } from '../ingest/bootstrap-peers.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import type { ChannelEventStore, RestoredPeer } from '../store/channel-event-store.js';
import type { ObservationImage } from '../store/node-observation.js';
import type { NodeStores } from '../store/node-stores.js';
import { OnlineLog, type LogEvents } from '../store/online-log.js';
import type { FlapRecord } from '../store/peer-monitor.js';
import {
  decodeBootstrap,
  decodeBucket,
  decodeEventsInto,
  decodeJetStreamMark,
  decodeManifest,
  decodeNodeIndex,
  decodeObservation,
  decodePeer,
  decodeSegment,
  encodeEvents,
  encodeObservation,
  encodePeer,
  firstSegment,
  HISTORY_FORMAT,
  HistoryCorruptError,
  HistoryFormatError,
  historyKeys,
  sealedSegments,
  SEGMENT_EVENTS,
  type DecodedPeer,
  type Manifest,
  type StoredPeer,
} from './history-codec.js';
import type { HistoryKv } from './history-kv.js';
import type { HistoryStats } from './history-stats.js';

/** Peers of a node are spread over this many buckets; a snapshot rewrites the changed ones. */
export const BUCKETS = 256;

/** A synchronous step of a snapshot yields to the event loop once it has run this long. */
const STEP_MS = 10;

/** Approximate payload per setMany call: Keyv serializes a call's values in one go. */
const WRITE_BATCH_CHARS = 256 * 1024;
const WRITE_BATCH_KEYS = 200;

/**
 * Share of the time a paced snapshot's own steps take when the event loop is
 * saturated (the rest is ingestion's). Its writes also take the store's own
 * CPU (SQLite's on libuv's pool, Redis's in its server) from the cores
 * ingestion shares: measured, ingestion keeps about 90% of its pace with
 * this share.
 */
const PACED_SHARE = 0.03;

/** Longest break of a paced snapshot between two steps. */
const MAX_PAUSE_MS = 1_000;

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

/** What a restored JetStream consumer skips: messages its state already includes. */
export interface ReplaySkip {
  /** Every message of the node up to this sequence. */
  readonly floor: number;
  /** Per peer, up to a later sequence. */
  readonly peers: ReadonlyMap<string, number>;
}

/** What restore() found. */
export interface RestoreResult {
  readonly nodes: readonly string[];
  /** JetStream: consume from the message after this one; undefined without a mark. */
  readonly through: number | undefined;
  readonly skips: ReadonlyMap<string, ReplaySkip>;
  /** When each node's state was captured. */
  readonly writtenAt: ReadonlyMap<string, number>;
}

export interface HistoryKeeperOptions {
  readonly stores: NodeStores;
  readonly kv: HistoryKv;
  readonly stats: HistoryStats;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly bootstrapPeers: BootstrapPeers;
  /** --history.snapshot-interval, ms. */
  readonly intervalMs: number;
  /** JetStream mode: where delivery stands. */
  readonly jetstream?: JetStreamPosition;
  readonly bucketCount?: number;
  /** How a paced snapshot takes its breaks; a timer by default (tests record them). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the keeper knows a node's committed state to be. */
interface NodeHistory {
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

interface SegmentRange {
  readonly epoch: number;
  readonly first: number;
  readonly end: number;
}

/** Outcome of one snapshot. */
export interface SnapshotOutcome {
  readonly ok: boolean;
  readonly nodes: number;
  readonly peers: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly longestStepMs: number;
}

/**
 * Keeps every node's store in the Keyv store so that it survives restarts.
 *
 * Layout (Keyv keys, namespace `chanfitness`): per node a manifest
 * (`hist:<node>:m`) naming, for each of BUCKETS buckets of peers, the
 * generation of its current key (`hist:<node>:b:<bucket>:<gen>`); a bucket
 * holds its peers' state with the tail of their logs, while full segments of
 * SEGMENT_EVENTS log events are written once under keys of their own
 * (`hist:<node>:s:<pubkey>:<epoch>:<n>`). A snapshot writes the segments
 * sealed since the last one and the buckets of the peers that changed, under
 * a new generation, then the manifest last: a crash at any moment leaves the
 * previous manifest and every key it names untouched. Keys no manifest names
 * any more are deleted after the commit.
 *
 * Capturing is synchronous peer by peer (each peer's state is consistent)
 * and yields to the event loop every STEP_MS; in JetStream mode each peer's
 * state records the stream sequence it includes, so a restart replays exactly
 * what it misses. Flap records are written (by the flap flusher) as of the
 * committed state, so that a replay never counts a flap twice.
 */
export class HistoryKeeper {
  private readonly nodes = new Map<string, NodeHistory>();
  private readonly indexed = new Set<string>();
  /** The JetStream point restored: what is written never goes below it (nothing consumed yet). */
  private restoredThrough = 0;
  /**
   * Persisted values this process could not use, copied aside (key -> where)
   * before its first write replaces them: nothing it has not restored is lost.
   */
  private readonly preserve = new Map<string, string>();
  /** The node index could not be used: any node's manifest may be one this process did not read. */
  private indexRejected = false;
  private readonly bucketCount: number;
  private readonly logLimiter: RateLimitedLog;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SnapshotOutcome> | undefined;
  private stopped = false;

  constructor(private readonly options: HistoryKeeperOptions) {
    this.bucketCount = options.bucketCount ?? BUCKETS;
    options.stats.pendingCounter = () => {
      let n = 0;
      for (const store of options.stores.values()) n += store.journalSize;
      return n;
    };
    this.logLimiter = new RateLimitedLog(options.clock);
  }

  /** Restored (or found nothing to restore): snapshots are written from now on. */
  get restored(): boolean {
    return this.options.stats.restored;
  }

  // ---- restore -------------------------------------------------------------

  /**
   * Reads every node's persisted state and restores the stores from it.
   * Rejects when the store cannot be read (retry later); a node whose state
   * is of another format or does not decode is logged, counted and skipped.
   * Stores that already exist (events applied while the restore was awaited)
   * are rebased: their journaled events are applied again on top.
   */
  async restore(): Promise<RestoreResult> {
    const { kv, stats, logger } = this.options;
    const started = performance.now();
    let index: string[] = [];
    try {
      const value = await kv.get(historyKeys.nodes);
      if (value !== undefined) index = decodeNodeIndex(value).nodes;
    } catch (err) {
      if (!this.rejectedState(err, 'the node index')) {
        stats.restoreFailures += 1;
        throw err;
      }
      this.preserve.set(
        historyKeys.nodes,
        `${historyKeys.nodes}:unused:${this.options.clock.now()}`,
      );
    }
    let mark: number | undefined;
    if (this.options.jetstream !== undefined) {
      try {
        const value = await kv.get(historyKeys.jetstream);
        if (value !== undefined) {
          const found = decodeJetStreamMark(value);
          const { stream, durable } = this.options.jetstream;
          if (found.stream === stream && found.durable === durable) {
            mark = found.through;
            this.restoredThrough = found.through;
          } else {
            // Sequences of another stream (or consumer) say nothing of this one.
            logger.warn(
              { was: { stream: found.stream, durable: found.durable }, now: { stream, durable } },
              'the history was consumed from another stream or durable: reconciling with the nodes instead of resuming',
            );
          }
        }
      } catch (err) {
        if (!this.rejectedState(err, 'the JetStream mark')) {
          stats.restoreFailures += 1;
          throw err;
        }
      }
    }
    const loaded: {
      node: string;
      manifest: Manifest;
      peers: DecodedPeer[];
      events: Map<string, LogEvents>;
      bootstrap: string[] | undefined;
      observation: ObservationImage | undefined;
    }[] = [];
    for (const node of index) {
      try {
        const found = await this.readNode(node);
        if (found !== undefined) loaded.push({ node, ...found });
      } catch (err) {
        if (!this.rejectedState(err, `the history of node ${node}`)) {
          stats.restoreFailures += 1;
          throw err;
        }
        this.setAside(node);
      }
    }
    for (const node of index) this.indexed.add(node);

    const skips = new Map<string, ReplaySkip>();
    const writtenAt = new Map<string, number>();
    const restoredNodes: string[] = [];
    for (const { node, manifest, peers, events, bootstrap, observation } of loaded) {
      const restoredPeers: RestoredPeer[] = peers.map((p) => ({
        image: p.image,
        events: p.image.monitor === undefined ? undefined : events.get(p.image.pubkey),
      }));
      const existing = this.options.stores.get(node);
      const store = existing ?? this.options.stores.getOrCreate(node);
      // Core NATS: nobody observed the node from the last write to this restart
      // (JetStream replays that time: no gap).
      const restoredObservation = {
        image: observation,
        exporterDownSince: this.options.jetstream === undefined ? manifest.writtenAt : undefined,
      };
      try {
        if (existing !== undefined) {
          await store.idle();
          if (store.journalOverflowed) {
            stats.pendingOverflow += 1;
            logger.warn(
              { node, applied: store.journalSize },
              'more events arrived while the history was unreadable than --history.pending-limit: ' +
                'the history is restored with the first of them, the later ones are lost',
            );
          }
          store.rebase(restoredPeers, restoredObservation);
        } else {
          store.restore(restoredPeers, restoredObservation);
          store.endJournal();
        }
      } catch (err) {
        this.rejectedState(
          err instanceof HistoryCorruptError ? err : new HistoryCorruptError(errorMessage(err)),
          `the history of node ${node}`,
        );
        if (existing !== undefined) store.endJournal();
        this.setAside(node);
        continue;
      }
      if (bootstrap !== undefined && existing === undefined) {
        this.options.bootstrapPeers.set(node, new Set(bootstrap));
      }
      const history = this.nodeHistory(node);
      history.gen = manifest.gen;
      history.nextGen = manifest.gen + 1;
      history.bootstrapGen = manifest.bootstrap;
      history.bootstrapVersion = this.options.bootstrapPeers.version(node);
      history.obsGen = manifest.obs;
      history.obsVersion = -1;
      for (const [bucket, gen] of Object.entries(manifest.buckets)) {
        history.buckets.set(Number(bucket), gen);
      }
      const peerSkips = new Map<string, number>();
      for (const p of peers) {
        const pubkey = p.image.pubkey;
        this.memberSet(history, this.bucketOf(pubkey)).add(pubkey);
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
      if (mark !== undefined && manifest.through !== undefined) {
        skips.set(node, { floor: manifest.through, peers: peerSkips });
      }
      writtenAt.set(node, manifest.writtenAt);
      restoredNodes.push(node);
    }
    // Nodes seen while the restore was awaited, with nothing persisted: their state stands.
    for (const store of this.options.stores.values()) {
      if (!restoredNodes.includes(store.node)) store.endJournal();
    }
    stats.restored = true;
    stats.restoreDurationMs = performance.now() - started;
    logger.info(
      {
        nodes: restoredNodes.length,
        channels: restoredNodes.reduce(
          (n, node) => n + (this.options.stores.get(node)?.channelCount ?? 0),
          0,
        ),
        ms: Math.round(stats.restoreDurationMs),
        ...(mark === undefined ? {} : { jetstreamThrough: mark }),
      },
      restoredNodes.length > 0 ? 'history restored' : 'no history to restore',
    );
    return { nodes: restoredNodes, through: mark, skips, writtenAt };
  }

  /** True when err is persisted state to ignore (counted and logged); false for a store failure. */
  private rejectedState(err: unknown, what: string): boolean {
    const reason =
      err instanceof HistoryFormatError || err instanceof HistoryCorruptError
        ? err.code
        : undefined;
    if (reason === undefined) return false;
    this.options.stats.rejected[reason] += 1;
    this.options.logger.error(
      { reason, err: errorMessage(err) },
      `${what} cannot be used (${reason === 'format' ? 'another format' : 'it does not decode'}): ignored, starting without it`,
    );
    return true;
  }

  /**
   * A node whose state could not be used: its manifest is copied aside before
   * this process writes its own, under generations above any it may name.
   */
  private setAside(node: string): void {
    const at = this.options.clock.now();
    this.preserve.set(historyKeys.manifest(node), `${historyKeys.manifest(node)}:unused:${at}`);
    const history = this.nodeHistory(node);
    history.nextGen = Math.max(history.nextGen, Math.floor(at));
  }

  /** Copies a value this process did not restore aside, once, before replacing it. */
  private async keepAside(key: string): Promise<void> {
    const aside = this.preserve.get(key);
    if (aside === undefined) return;
    const value = await this.options.kv.get(key).catch(() => undefined);
    if (value !== undefined) await this.options.kv.setMany([{ key: aside, value }]);
    this.preserve.delete(key);
    this.options.logger.warn({ key, keptAs: aside }, 'unusable history kept aside');
  }

  private async readNode(node: string): Promise<
    | {
        manifest: Manifest;
        peers: DecodedPeer[];
        events: Map<string, LogEvents>;
        bootstrap: string[] | undefined;
        observation: ObservationImage | undefined;
      }
    | undefined
  > {
    const { kv } = this.options;
    const manifestValue = await kv.get(historyKeys.manifest(node));
    if (manifestValue === undefined) return undefined;
    const manifest = decodeManifest(manifestValue, `manifest of ${node}`);
    const { peers, events } = await this.readPeers(node, manifest);
    let bootstrap: string[] | undefined;
    if (manifest.bootstrap !== undefined) {
      const value = await kv.get(historyKeys.bootstrap(node, manifest.bootstrap));
      if (value === undefined)
        throw new HistoryCorruptError(`bootstrap list of ${node} is missing`);
      bootstrap = decodeBootstrap(value, `bootstrap list of ${node}`);
    }
    let observation: ObservationImage | undefined;
    if (manifest.obs !== undefined) {
      const value = await kv.get(historyKeys.observation(node, manifest.obs));
      if (value === undefined) throw new HistoryCorruptError(`gaps of ${node} are missing`);
      observation = decodeObservation(value, manifest.ls, `gaps of ${node}`);
    } else if (manifest.ls !== undefined) {
      observation = { base: 0, gaps: [], settling: false, lastStatus: manifest.ls };
    }
    return { manifest, peers, events, bootstrap, observation };
  }

  /**
   * Reads and decodes a node's buckets and the sealed segments of their peers'
   * logs, a group of buckets at a time and two groups at once: the store reads
   * one group while the event loop decodes another, and the encoded segments
   * never all live at once.
   */
  private async readPeers(
    node: string,
    manifest: Manifest,
  ): Promise<{ peers: DecodedPeer[]; events: Map<string, LogEvents> }> {
    const { kv } = this.options;
    const bucketEntries = Object.entries(manifest.buckets);
    const groups: DecodedPeer[][] = [];
    const events = new Map<string, LogEvents>();
    let next = 0;
    const reader = async (): Promise<void> => {
      while (next < bucketEntries.length) {
        const group = groups.length;
        const entries = bucketEntries.slice(next, next + RESTORE_GROUP_BUCKETS);
        next += entries.length;
        groups.push([]);
        const values: unknown[] = [];
        await kv.getEach(
          entries.map(([bucket, gen]) => historyKeys.bucket(node, Number(bucket), gen)),
          (from, batch) => {
            batch.forEach((value, i) => (values[from + i] = value));
          },
        );
        const peers: DecodedPeer[] = [];
        entries.forEach(([bucket], i) => {
          const what = `bucket ${bucket} of ${node}`;
          const value = values[i];
          if (value === undefined) throw new HistoryCorruptError(`${what} is missing`);
          decodeBucket(value, what).peers.forEach((peer, j) =>
            peers.push(decodePeer(peer, `${what}, peer ${j}`)),
          );
        });
        groups[group] = peers;
        await readSegments(kv, node, peers, events);
      }
    };
    await Promise.all([reader(), reader()]);
    return { peers: groups.flat(), events };
  }

  // ---- snapshots -------------------------------------------------------------

  /** Starts the timer: the first snapshot comes after one interval. */
  start(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.schedule();
  }

  /** The flap records of the node as of its committed state (for the flap flusher). */
  committedFlapRecords(node: string): Map<string, FlapRecord> {
    return new Map(this.nodes.get(node)?.flapRecords);
  }

  /**
   * Writes a snapshot now, or waits for the one in flight and writes another.
   * Paced, it takes breaks so that its own work holds the event loop about
   * PACED_SHARE of the time (the timer's snapshots: ingestion keeps its
   * pace); unpaced, it only yields (at stop, where time counts). Never rejects.
   */
  async snapshotNow(options: { paced?: boolean } = {}): Promise<SnapshotOutcome> {
    while (this.running !== undefined) await this.running;
    const run = this.snapshotOnce(options.paced === true).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** Stops the timer and writes a last snapshot (an orderly stop). */
  async stop(): Promise<SnapshotOutcome | undefined> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.restored) {
      if (this.running !== undefined) await this.running;
      return undefined;
    }
    const outcome = await this.snapshotNow();
    this.options.logger.info(
      {
        ok: outcome.ok,
        peers: outcome.peers,
        bytes: outcome.bytes,
        ms: Math.round(outcome.durationMs),
      },
      'final history snapshot done',
    );
    return outcome;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.snapshotNow({ paced: true }).finally(() => {
        if (!this.stopped) this.schedule();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async snapshotOnce(paced: boolean): Promise<SnapshotOutcome> {
    const { stats, jetstream, clock } = this.options;
    const started = performance.now();
    const pacer = new Pacer(paced ? PACED_SHARE : undefined, this.options.sleep ?? sleep);
    let ok = true;
    let peers = 0;
    let bytes = 0;
    let nodes = 0;
    if (!this.restored) {
      return { ok: false, nodes: 0, peers: 0, bytes: 0, durationMs: 0, longestStepMs: 0 };
    }
    const through = this.appliedThrough();
    const capturedAt = clock.now();
    // What the write costs the event loop, whatever part of it (capture, Keyv's
    // serialization, the driver, garbage collection) holds it.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    for (const store of [...this.options.stores.values()]) {
      nodes += 1;
      try {
        const written = await this.writeNode(store, through, capturedAt, pacer);
        peers += written.peers;
        bytes += written.bytes;
      } catch (err) {
        ok = false;
        this.logFailure(store.node, err);
      }
    }
    if (ok && through !== undefined) {
      try {
        await this.options.kv.setMany([
          {
            key: historyKeys.jetstream,
            value: {
              v: HISTORY_FORMAT,
              through,
              stream: jetstream?.stream ?? '',
              durable: jetstream?.durable ?? '',
            },
          },
        ]);
      } catch (err) {
        ok = false;
        this.logFailure('*', err);
      }
    }
    loopDelay.disable();
    // The longest the event loop waited past the histogram's own timer.
    const longestStepMs = loopDelay.count > 0 ? loopDelay.max / 1e6 : 0;
    const durationMs = performance.now() - started;
    if (ok) {
      stats.writeSuccess += 1;
      stats.lastSuccessAt = clock.now();
      stats.lastWriteBytes = bytes;
      stats.lastWriteDurationMs = durationMs;
      stats.lastWriteLongestStepMs = longestStepMs;
    } else {
      stats.writeError += 1;
    }
    return { ok, nodes, peers, bytes, durationMs, longestStepMs };
  }

  private logFailure(node: string, err: unknown): void {
    this.logLimiter.log('snapshot', (suppressed) => {
      this.options.logger.warn(
        { node, err: errorMessage(err), suppressed },
        'history snapshot failed: the previous one stays, the changes are written again next time',
      );
    });
  }

  /** Writes one node's changes; rejects (leaving them marked changed) when the store fails. */
  private async writeNode(
    store: ChannelEventStore,
    through: number | undefined,
    capturedAt: number,
    pacer: Pacer,
  ): Promise<{ peers: number; bytes: number }> {
    const { kv, jetstream, bootstrapPeers, stats } = this.options;
    const node = store.node;
    const history = this.nodeHistory(node);
    if (this.indexRejected && history.gen === 0 && !this.preserve.has(historyKeys.manifest(node))) {
      this.setAside(node);
    }
    if (history.gen > 0 && !(await this.stillThere(node, history.gen))) {
      // The store lost (or someone replaced) what this process wrote: write it all again.
      this.options.logger.warn(
        { node },
        'the history in the store is not the one this process wrote last (the store lost it?): writing all of it again',
      );
      store.markDirty([...store.knownPeers()]);
      history.buckets.clear();
      history.segments.clear();
      history.bootstrapVersion = -1;
      this.indexed.delete(node);
    }
    if (!this.indexed.has(node) || this.preserve.has(historyKeys.nodes)) {
      // Before its first manifest: a node in the index without one is simply empty.
      await this.keepAside(historyKeys.nodes);
      const nodes = [...new Set([...this.indexed, node])];
      await kv.setMany([{ key: historyKeys.nodes, value: { v: HISTORY_FORMAT, nodes } }]);
      this.indexed.add(node);
    }

    pacer.begin();
    stats.compactedEvents += store.compact(capturedAt);
    const dirty = store.takeDirty();
    const dirtyBuckets = new Set<number>();
    for (const pubkey of dirty) {
      const bucket = this.bucketOf(pubkey);
      this.memberSet(history, bucket).add(pubkey);
      dirtyBuckets.add(bucket);
    }
    const bootstrapVersion = bootstrapPeers.version(node);
    const bootstrapChanged = bootstrapVersion !== history.bootstrapVersion;
    const observation = store.observation;
    const obsVersion = observation.version;
    const obsChanged = obsVersion !== history.obsVersion;
    // The manifest is written even when nothing else changed: its writtenAt
    // says until when the exporter ran, where a core NATS restart's
    // EXPORTER_DOWN gap starts (and in JetStream mode it carries the mark).

    const gen = history.nextGen;
    history.nextGen += 1;
    const writer = new BatchWriter(kv, pacer, (key) => history.orphans.add(key));
    const newSegments = new Map<string, SegmentRange>();
    const newRecords = new Map<string, FlapRecord>();
    let peers = 0;
    try {
      pacer.begin();
      for (const bucket of dirtyBuckets) {
        const stored: StoredPeer[] = [];
        let chars = 0;
        for (const pubkey of this.memberSet(history, bucket)) {
          const image = store.peerImage(pubkey);
          if (image === undefined) continue;
          peers += 1;
          const peerThrough =
            through === undefined
              ? undefined
              : Math.max(
                  this.appliedThrough() ?? through,
                  jetstream?.peerSequence(node, pubkey) ?? 0,
                );
          const m = image.monitor;
          let tail: LogEvents | undefined;
          if (m !== undefined) {
            const { epoch, offset, end } = m.log;
            const first = firstSegment(offset);
            const sealed = Math.max(sealedSegments(end), first);
            const prev = history.segments.get(pubkey);
            const from =
              prev !== undefined && prev.epoch === epoch ? Math.max(prev.end, first) : first;
            for (let j = from; j < sealed; j++) {
              const segmentFrom = Math.max(j * SEGMENT_EVENTS, offset);
              const d = encodeEvents(
                store.logEvents(pubkey, segmentFrom, (j + 1) * SEGMENT_EVENTS),
              );
              const key = historyKeys.segment(node, pubkey, epoch, j);
              writer.add(key, { f: segmentFrom, d }, key.length + d.length + 16);
            }
            tail = store.logEvents(pubkey, Math.max(sealed * SEGMENT_EVENTS, offset), end);
            newSegments.set(pubkey, { epoch, first, end: sealed });
            if (m.lastFlap !== undefined && m.recordMerged) {
              newRecords.set(pubkey, { count: m.flapCount, lastFlap: m.lastFlap });
            }
          }
          const entry = encodePeer(image, tail, peerThrough);
          chars +=
            120 + (entry.m === undefined ? 0 : entry.m.lg.tl.length + entry.m.ch.length * 110);
          stored.push(entry);
          if (pacer.elapsed() > STEP_MS) {
            await pacer.pause();
            pacer.begin();
          }
        }
        const key = historyKeys.bucket(node, bucket, gen);
        writer.add(key, { v: HISTORY_FORMAT, peers: stored }, key.length + chars);
        if (writer.full) {
          await pacer.pause();
          await writer.flush();
          pacer.begin();
        }
      }
      let bootstrapGen = history.bootstrapGen;
      if (bootstrapChanged) {
        const list = bootstrapPeers.get(node);
        if (list !== undefined) {
          bootstrapGen = gen;
          const key = historyKeys.bootstrap(node, gen);
          writer.add(key, [...list], list.size * 70);
        }
      }
      let obsGen = history.obsGen;
      if (obsChanged) {
        const image = observation.image();
        if (image.gaps.length > 0 || image.base > 0 || obsGen !== undefined) {
          obsGen = gen;
          const key = historyKeys.observation(node, gen);
          writer.add(key, encodeObservation(image), 64 + image.gaps.length * 48);
        }
      }
      await pacer.pause();
      await writer.flush();
      let bytes = writer.bytes;
      const buckets: Record<string, number> = {};
      for (const [bucket, g] of history.buckets) buckets[bucket] = g;
      for (const bucket of dirtyBuckets) buckets[bucket] = gen;
      const manifest: Manifest = {
        v: HISTORY_FORMAT,
        gen,
        writtenAt: capturedAt,
        bucketCount: this.bucketCount,
        segmentEvents: SEGMENT_EVENTS,
        buckets,
        ...(bootstrapGen === undefined ? {} : { bootstrap: bootstrapGen }),
        ...(obsGen === undefined ? {} : { obs: obsGen }),
        ...(observation.lastStatus === undefined ? {} : { ls: observation.lastStatus }),
        ...(through === undefined ? {} : { through }),
      };
      await this.keepAside(historyKeys.manifest(node));
      await kv.setMany([{ key: historyKeys.manifest(node), value: manifest }]);
      bytes += 40 * Object.keys(buckets).length + 200;

      // Committed: what the previous manifest named and this one does not can go.
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
      for (const [pubkey, range] of newSegments) {
        const prev = history.segments.get(pubkey);
        if (prev !== undefined) {
          const keepFrom = prev.epoch === range.epoch ? range.first : prev.end;
          for (let j = prev.first; j < Math.min(keepFrom, prev.end); j++) {
            obsolete.push(historyKeys.segment(node, pubkey, prev.epoch, j));
          }
        }
        history.segments.set(pubkey, range);
      }
      for (const [pubkey, record] of newRecords) history.flapRecords.set(pubkey, record);
      history.gen = gen;
      for (const key of writer.keys) history.orphans.delete(key);
      const named = new Set(
        Object.entries(buckets).map(([b, g]) => historyKeys.bucket(node, Number(b), g)),
      );
      for (const key of history.orphans) if (!named.has(key)) obsolete.push(key);
      history.orphans.clear();
      if (obsolete.length > 0) {
        try {
          await kv.deleteMany(obsolete);
        } catch (err) {
          // Nothing names them: they only take space until a later snapshot removes them.
          for (const key of obsolete) history.orphans.add(key);
          this.logFailure(node, err);
        }
      }
      return { peers, bytes };
    } catch (err) {
      store.markDirty(dirty);
      if (bootstrapChanged) history.bootstrapVersion = -1;
      throw err;
    }
  }

  /**
   * Every stream sequence up to this one is in the state: what delivery has
   * applied, and never less than what was restored (a process that stops
   * before consuming must not move the resume point back).
   */
  private appliedThrough(): number | undefined {
    const { jetstream } = this.options;
    if (jetstream === undefined) return undefined;
    return Math.max(jetstream.appliedThrough(), this.restoredThrough);
  }

  /** Whether the store still holds the manifest of this generation (one read per snapshot). */
  private async stillThere(node: string, gen: number): Promise<boolean> {
    const value = await this.options.kv.get(historyKeys.manifest(node));
    if (value === undefined) return false;
    try {
      return decodeManifest(value, `manifest of ${node}`).gen === gen;
    } catch {
      return false;
    }
  }

  private nodeHistory(node: string): NodeHistory {
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

  private memberSet(history: NodeHistory, bucket: number): Set<string> {
    let members = history.members.get(bucket);
    if (members === undefined) {
      members = new Set();
      history.members.set(bucket, members);
    }
    return members;
  }

  /** FNV-1a of the pubkey: stable across processes and versions. */
  private bucketOf(pubkey: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < pubkey.length; i++) {
      h ^= pubkey.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h % this.bucketCount;
  }
}

/**
 * Times the steps of a snapshot and, when pacing, follows each with a break
 * long enough that the steps take about `share` of the time while the event
 * loop is busy. The break scales with how busy the loop was during the last
 * one: an idle process writes its snapshot at once, a saturated one gets
 * (1 - share) of the time.
 */
class Pacer {
  private startedAt = 0;
  /** Share of the last break the event loop spent on other work; 1 before any. */
  private busy = 1;

  constructor(
    private readonly share: number | undefined,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly utilization: () => () => number = loopUtilization,
  ) {}

  begin(): void {
    this.startedAt = performance.now();
  }

  elapsed(): number {
    return performance.now() - this.startedAt;
  }

  /** Ends the step, then lets the event loop run (for a while, when pacing). */
  async pause(): Promise<void> {
    const ms = this.elapsed();
    if (this.share === undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      return;
    }
    const since = this.utilization();
    await this.sleep(Math.max(1, Math.min(ms * (1 / this.share - 1) * this.busy, MAX_PAUSE_MS)));
    const busy = since();
    this.busy = Number.isFinite(busy) ? Math.min(1, Math.max(0, busy)) : 1;
  }
}

/** Event-loop utilization from now until the returned function is called. */
function loopUtilization(): () => number {
  const start = perfHooks.eventLoopUtilization();
  return () => perfHooks.eventLoopUtilization(start).utilization;
}

/**
 * Collects a snapshot's writes into setMany batches of about WRITE_BATCH_CHARS:
 * Keyv serializes a batch in one go, so its size bounds that stall.
 */
class BatchWriter {
  bytes = 0;
  readonly keys: string[] = [];
  private batch: { key: string; value: unknown }[] = [];
  private chars = 0;

  constructor(
    private readonly kv: HistoryKv,
    private readonly pacer: Pacer,
    private readonly written: (key: string) => void,
  ) {}

  get full(): boolean {
    return this.chars >= WRITE_BATCH_CHARS || this.batch.length >= WRITE_BATCH_KEYS;
  }

  add(key: string, value: unknown, chars: number): void {
    this.batch.push({ key, value });
    this.chars += chars;
    this.bytes += chars;
    this.keys.push(key);
  }

  /** Writes what is collected; each batch is a paced step of its own. */
  async flush(): Promise<void> {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    this.chars = 0;
    for (const { key } of batch) this.written(key);
    this.pacer.begin();
    await this.kv.setMany(batch);
    await this.pacer.pause();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Buckets read and decoded together at a restore (see readPeers). */
const RESTORE_GROUP_BUCKETS = 16;

/**
 * Fills each peer's log columns (in the log's own layout: restoring adopts
 * them without a copy) from its sealed segments, decoded batch by batch as
 * the store answers, and its tail.
 */
async function readSegments(
  kv: HistoryKv,
  node: string,
  peers: readonly DecodedPeer[],
  events: Map<string, LogEvents>,
): Promise<void> {
  const logged = peers.filter((p) => p.segments !== undefined && p.image.monitor !== undefined);
  const allColumns = OnlineLog.columnsFor(
    logged.map((p) => (p.image.monitor ? p.image.monitor.log.end - p.image.monitor.log.offset : 0)),
  );
  const keys: string[] = [];
  const targets: { columns: LogEvents; offset: number; j: number; pubkey: string }[] = [];
  logged.forEach((p, k) => {
    const s = p.segments;
    const m = p.image.monitor;
    if (s === undefined || m === undefined) return;
    const { offset, end } = m.log;
    const columns = allColumns[k] as LogEvents;
    const tail = p.tail;
    const tailAt = Math.max(offset, s.end * SEGMENT_EVENTS) - offset;
    if (tail === undefined || tailAt + tail.times.length !== end - offset) {
      throw new HistoryCorruptError(`the log of ${p.image.pubkey} on ${node} does not add up`);
    }
    columns.times.set(tail.times, tailAt);
    columns.kinds.set(tail.kinds, tailAt);
    events.set(p.image.pubkey, columns);
    for (let j = s.first; j < s.end; j++) {
      keys.push(historyKeys.segment(node, p.image.pubkey, s.epoch, j));
      targets.push({ columns, offset, j, pubkey: p.image.pubkey });
    }
  });
  await kv.getEach(keys, (from, values) => {
    values.forEach((value, i) => {
      const { columns, offset, j, pubkey } = targets[from + i] as (typeof targets)[0];
      const what = `segment ${j} of ${pubkey} on ${node}`;
      if (value === undefined) throw new HistoryCorruptError(`${what} is missing`);
      const segment = decodeSegment(value, what);
      const first = Math.max(offset, j * SEGMENT_EVENTS);
      const skip = first - segment.from;
      if (skip < 0) throw new HistoryCorruptError(`${what} starts after the log's offset`);
      decodeEventsInto(
        segment.data,
        what,
        skip,
        (j + 1) * SEGMENT_EVENTS - first,
        columns,
        first - offset,
      );
    });
  });
}
