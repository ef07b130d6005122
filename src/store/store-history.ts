import { channelUptimeAt } from './channel-info.js';
import { StoreError } from './errors.js';
import { OnlineLog, type LogEvents } from './online-log.js';
import { PeerMonitor } from './peer-monitor.js';
import { EventStore } from './store-events.js';
import type { PeerImage } from './store-image.js';
import type { PeerState, RestoredObservation, RestoredPeer } from './store-types.js';

/**
 * History across restarts: the store as images peer by peer (what a
 * snapshot writes, the changed peers first), restored from them; the journal
 * of the events applied while the restore is still to come, applied again on top of
 * it (rebase); and compaction of what the retention no longer keeps.
 */
export abstract class HistoryStore extends EventStore {
  /** The peers changed since the last call (their images are what a snapshot writes). */
  takeDirty(): Set<string> {
    const dirty = this.dirty;
    if (dirty === undefined) return new Set();
    this.dirty = new Set();
    return dirty;
  }

  /** Marks peers changed again (a snapshot that failed to write them). */
  markDirty(pubkeys: Iterable<string>): void {
    const dirty = this.dirty;
    if (dirty === undefined) return;
    for (const pubkey of pubkeys) dirty.add(pubkey);
  }

  /** Every peer the store knows (monitored or only seen). */
  knownPeers(): IterableIterator<string> {
    return this.peerStates.keys();
  }

  /** Everything the store knows of a peer, its log's events aside; undefined for an unknown one. */
  peerImage(pubkey: string): PeerImage | undefined {
    const state = this.peerStates.get(pubkey);
    if (state === undefined) return undefined;
    return {
      pubkey,
      connectivity: state.online,
      latest: state.latest,
      monitor: state.monitor?.image(),
    };
  }

  /**
   * A monitored peer's committed events with absolute indices in [from, to),
   * as views: valid until the next event is applied (encode them at once).
   */
  logEvents(pubkey: string, from: number, to: number): LogEvents {
    const monitor = this.monitors.get(pubkey);
    if (monitor === undefined) return { times: new Float64Array(0), kinds: new Uint8Array(0) };
    return monitor.log.eventsView(from, to);
  }

  /**
   * Replaces the whole state by restored peers. Throws INVALID_STATE,
   * leaving the store empty, when they do not make a consistent store (a
   * channel point held by two peers, ...).
   */
  restore(peers: Iterable<RestoredPeer>, observation: RestoredObservation = {}): void {
    this.clearState();
    try {
      // First: the logs count their totals through it.
      this.observation.load(observation.image);
      for (const { image, events } of peers) this.restorePeer(image, events);
    } catch (err) {
      this.clearState();
      throw err;
    }
    this.channelVersion += 1;
    if (observation.exporterDownSince !== undefined) {
      this.exporterDown(observation.exporterDownSince);
    }
  }

  /**
   * Starts keeping every applied event (at most limit of them), so that
   * rebase() can apply them again on top of a restore that comes late.
   */
  beginJournal(limit: number): void {
    this.journal = [];
    this.journalLimit = limit;
    this.journalFull = false;
  }

  /** Stops keeping events: nothing was persisted for this store, its state stands. */
  endJournal(): void {
    this.journal = undefined;
    this.journalFull = false;
  }

  /** Events kept by the journal. */
  get journalSize(): number {
    return this.journal?.length ?? 0;
  }

  /** True once the journal reached its limit (later events are not kept). */
  get journalOverflowed(): boolean {
    return this.journalFull;
  }

  /**
   * The restore arrived: the state becomes the restored one with every
   * journaled event applied again on top, at their own times, as if the
   * restore had come before them. Past the journal's limit, events are not
   * applied again (as after a crash). Events held back from the store
   * (src/ingest/record-gate.ts) are best let in first (its idle()): they were
   * delivered before the restore arrived.
   */
  rebase(peers: Iterable<RestoredPeer>, observation?: RestoredObservation): void {
    const journal = this.journal ?? [];
    this.journal = undefined;
    this.journalFull = false;
    this.restore(peers, observation);
    this.replaying = true;
    try {
      for (const entry of journal) {
        switch (entry.kind) {
          case 'status':
            this.status(entry.up, entry.time);
            break;
          case 'bootstrap':
            this.bootstrapped(entry.answered, entry.time);
            break;
          case 'open':
            this.openChannel(
              entry.pubkey,
              entry.channelPoint,
              entry.time,
              entry.source,
              entry.loaded,
            );
            break;
          case 'close':
            this.closeChannel(entry.pubkey, entry.channelPoint, entry.time);
            break;
          case 'peer':
            this.peerEvent(entry.pubkey, entry.online, entry.time);
        }
      }
    } finally {
      this.replaying = false;
    }
  }

  /**
   * Drops the committed events before the retention horizon that no figure
   * from the horizon on needs (OnlineLog.compactBefore). A channel opened
   * before them keeps its online time at the opening, so its lifetime uptime
   * stays exact. Returns how many events were dropped.
   */
  compact(now: number = this.config.clock.now()): number {
    const horizon = this.horizon(now);
    if (horizon === undefined) return 0;
    let dropped = 0;
    // Gaps no figure needs any more: before the horizon and every log's first
    // event (channels and monitors keep their own unobserved totals).
    let gapHorizon = horizon;
    for (const monitor of this.monitors.values()) {
      const log = monitor.log;
      const first = log.firstTime ?? log.lastTime;
      if (first !== undefined && first < gapHorizon) gapHorizon = first;
      if (log.committedCount < 2) continue;
      for (const channel of monitor.channels()) {
        // Final once an event after the opening is committed: sets the channel's memo.
        if (channel.openedAt <= horizon) channelUptimeAt(channel, now);
      }
      const n = log.compactBefore(horizon);
      if (n > 0) {
        dropped += n;
        this.dirty?.add(monitor.pubkey);
      }
    }
    this.observation.compactBefore(gapHorizon);
    return dropped;
  }

  private clearState(): void {
    this.observation.load(undefined);
    this.latestApplied = -Infinity;
    this.monitors.clear();
    this.channelIndex.clear();
    this.peerStates.clear();
    this.dirty?.clear();
    this.channelVersion += 1;
  }

  private restorePeer(image: PeerImage, events: LogEvents | undefined): void {
    if (this.peerStates.has(image.pubkey)) {
      throw new StoreError('INVALID_STATE', `peer ${image.pubkey} listed twice`);
    }
    const state: PeerState = {
      online: image.connectivity,
      latest: image.latest,
      monitor: undefined,
    };
    if (image.latest > this.latestApplied) this.latestApplied = image.latest;
    this.peerStates.set(image.pubkey, state);
    if (image.monitor === undefined) return;
    const log = OnlineLog.restore(
      image.monitor.log,
      events ?? {
        times: new Float64Array(0),
        kinds: new Uint8Array(0),
      },
      this.observation,
    );
    const monitor = PeerMonitor.restore(image.pubkey, image.monitor, log, this.observation);
    for (const channel of monitor.channels()) {
      if (this.channelIndex.has(channel.channelPoint)) {
        throw new StoreError('INVALID_STATE', `channel ${channel.channelPoint} held by two peers`);
      }
      this.channelIndex.set(channel.channelPoint, channel);
    }
    state.monitor = monitor;
    this.monitors.set(image.pubkey, monitor);
  }
}
