import type { Timer } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { RestoredPeer } from '../store/channel-event-store.js';
import type { FlapRecord } from '../store/peer-monitor.js';
import { BUCKETS, NodeHistories } from './history-bookkeeping.js';
import { HistoryCorruptError } from './history-format.js';
import type { HistoryKeeperOptions } from './history-keeper-options.js';
import { readHistory } from './history-reader.js';
import { UnusableHistory } from './history-set-aside.js';
import { SnapshotWriter, type SnapshotOutcome } from './history-snapshot.js';

export { BUCKETS } from './history-bookkeeping.js';
export type { HistoryKeeperOptions, JetStreamPosition } from './history-keeper-options.js';
export type { SnapshotOutcome } from './history-snapshot.js';

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
 *
 * Its parts: reading a restore (history-reader), writing a snapshot
 * (history-snapshot, paced by history-pacing), what it knows of the persisted
 * state (history-bookkeeping), and state it cannot use (history-set-aside).
 */
export class HistoryKeeper {
  private readonly histories: NodeHistories;
  private readonly unusable: UnusableHistory;
  private readonly snapshots: SnapshotWriter;
  private timer: Timer | undefined;
  private running: Promise<SnapshotOutcome> | undefined;
  private stopped = false;

  constructor(private readonly options: HistoryKeeperOptions) {
    this.histories = new NodeHistories(options.bucketCount ?? BUCKETS);
    options.stats.pendingCounter = () => {
      let n = 0;
      for (const store of options.stores.values()) n += store.journalSize;
      return n;
    };
    this.unusable = new UnusableHistory(options, this.histories);
    this.snapshots = new SnapshotWriter(options, this.histories, this.unusable);
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
    const { stats, logger } = this.options;
    // A duration reported as a metric: the machine's monotonic clock, not the scheduler's.
    const started = performance.now();
    const {
      index,
      mark,
      nodes: loaded,
    } = await readHistory(this.options, this.histories, this.unusable);
    for (const node of index) this.histories.indexed.add(node);

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
          await this.options.gate?.idle(node);
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
        this.unusable.rejected(
          err instanceof HistoryCorruptError ? err : new HistoryCorruptError(errorMessage(err)),
          `the history of node ${node}`,
        );
        if (existing !== undefined) store.endJournal();
        this.unusable.setAside(node);
        continue;
      }
      if (bootstrap !== undefined && existing === undefined) {
        this.options.bootstrapPeers.set(node, new Set(bootstrap));
      }
      const peerSkips = this.histories.adopt(
        node,
        manifest,
        peers,
        this.options.bootstrapPeers.version(node),
      );
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

  // ---- snapshots -------------------------------------------------------------

  /** Starts the timer: the first snapshot comes after one interval. */
  start(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.schedule();
  }

  /** The flap records of the node as of its committed state (for the flap flusher). */
  committedFlapRecords(node: string): Map<string, FlapRecord> {
    return this.histories.committedFlapRecords(node);
  }

  /**
   * Writes a snapshot now, or waits for the one in flight and writes another.
   * Paced, it takes breaks so that its own work holds the event loop about
   * PACED_SHARE of the time (the timer's snapshots: ingestion keeps its
   * pace); unpaced, it only yields (at stop, where time counts). Never rejects.
   */
  async snapshotNow(options: { paced?: boolean } = {}): Promise<SnapshotOutcome> {
    while (this.running !== undefined) await this.running;
    const run = this.snapshots.write(options.paced === true).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** Stops the timer and writes a last snapshot (an orderly stop). */
  async stop(): Promise<SnapshotOutcome | undefined> {
    this.stopped = true;
    this.timer?.cancel();
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
    this.timer?.cancel();
    this.timer = this.options.clock
      .after(this.options.intervalMs, () => {
        this.timer = undefined;
        void this.snapshotNow({ paced: true }).finally(() => {
          if (!this.stopped) this.schedule();
        });
      })
      .unref();
  }
}
