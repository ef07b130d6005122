import { monitorEventLoopDelay } from 'node:perf_hooks';
import { errorMessage } from '../errors.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import type { ChannelEventStore } from '../store/channel-event-store.js';
import type { LogEvents } from '../store/online-log.js';
import type { FlapRecord } from '../store/peer-monitor.js';
import type { NodeHistories, SegmentRange } from './history-bookkeeping.js';
import { decodeManifest } from './history-decoders.js';
import { encodeEvents } from './history-event-encoding.js';
import {
  firstSegment,
  HISTORY_FORMAT,
  historyKeys,
  sealedSegments,
  SEGMENT_EVENTS,
  type Manifest,
  type StoredPeer,
} from './history-format.js';
import type { HistoryKeeperOptions } from './history-keeper-options.js';
import { encodeObservation } from './history-observation-encoding.js';
import { BatchWriter, PACED_SHARE, Pacer, STEP_MS } from './history-pacing.js';
import { encodePeer } from './history-peer-encoding.js';
import type { UnusableHistory } from './history-set-aside.js';

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
 * Writes snapshots of every node's store (see HistoryKeeper for the layout):
 * per node the segments sealed since its last snapshot and the buckets of
 * the peers that changed under a new generation, then its manifest, then
 * deletes what the committed manifest no longer names.
 */
export class SnapshotWriter {
  private readonly logLimiter: RateLimitedLog;

  constructor(
    private readonly options: HistoryKeeperOptions,
    private readonly histories: NodeHistories,
    private readonly unusable: UnusableHistory,
  ) {
    this.logLimiter = new RateLimitedLog(options.clock);
  }

  async write(paced: boolean): Promise<SnapshotOutcome> {
    const { stats, jetstream, clock } = this.options;
    // A duration reported as a metric: the machine's monotonic clock, not the scheduler's.
    const started = performance.now();
    const pacer = new Pacer(paced ? PACED_SHARE : undefined, (ms) => clock.sleep(ms));
    let ok = true;
    let peers = 0;
    let bytes = 0;
    let nodes = 0;
    if (!this.options.stats.restored) {
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
    const history = this.histories.of(node);
    if (
      this.unusable.indexRejected &&
      history.gen === 0 &&
      !this.unusable.pending(historyKeys.manifest(node))
    ) {
      this.unusable.setAside(node);
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
      this.histories.indexed.delete(node);
    }
    if (!this.histories.indexed.has(node) || this.unusable.pending(historyKeys.nodes)) {
      // Before its first manifest: a node in the index without one is simply empty.
      await this.unusable.keepAside(historyKeys.nodes);
      const nodes = [...new Set([...this.histories.indexed, node])];
      await kv.setMany([{ key: historyKeys.nodes, value: { v: HISTORY_FORMAT, nodes } }]);
      this.histories.indexed.add(node);
    }

    pacer.begin();
    stats.compactedEvents += store.compact(capturedAt);
    const dirty = store.takeDirty();
    const dirtyBuckets = new Set<number>();
    for (const pubkey of dirty) {
      const bucket = this.histories.bucketOf(pubkey);
      this.histories.members(history, bucket).add(pubkey);
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
        for (const pubkey of this.histories.members(history, bucket)) {
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
        bucketCount: this.histories.bucketCount,
        segmentEvents: SEGMENT_EVENTS,
        buckets,
        ...(bootstrapGen === undefined ? {} : { bootstrap: bootstrapGen }),
        ...(obsGen === undefined ? {} : { obs: obsGen }),
        ...(observation.lastStatus === undefined ? {} : { ls: observation.lastStatus }),
        ...(through === undefined ? {} : { through }),
      };
      await this.unusable.keepAside(historyKeys.manifest(node));
      await kv.setMany([{ key: historyKeys.manifest(node), value: manifest }]);
      bytes += 40 * Object.keys(buckets).length + 200;

      // Committed: what the previous manifest named and this one does not can go.
      const obsolete = this.histories.commit(node, history, {
        gen,
        buckets,
        dirtyBuckets,
        bootstrapChanged,
        bootstrapGen,
        bootstrapVersion,
        obsGen,
        obsVersion,
        segments: newSegments,
        flapRecords: newRecords,
        written: writer.keys,
      });
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
    return Math.max(jetstream.appliedThrough(), this.histories.restoredThrough);
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
}
