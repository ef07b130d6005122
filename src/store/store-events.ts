import { PeerMonitor, type FlapRecord } from './peer-monitor.js';
import { ObservingStore } from './store-observation.js';
import {
  NO_RECORD,
  type ApplyOutcome,
  type ChannelSource,
  type FlapCountAnswer,
  type LoadedRecord,
} from './store-types.js';

/**
 * lnd's events and flap counts (SPEC section 2): channel opens and closes,
 * peer online and offline events, each applied at once, synchronously. A
 * monitor is created by the first open of a peer, from the peer's persisted
 * flap record, which whoever submits the open has read beforehand
 * (needsRecord tells when it must).
 */
export abstract class EventStore extends ObservingStore {
  /**
   * True when an open of this peer would create its monitor: the open then
   * needs the peer's persisted flap record (lnd reads it on creation).
   */
  needsRecord(pubkey: string): boolean {
    return !this.monitors.has(pubkey);
  }

  /**
   * A channel opened (or was listed at start-up, when source is 'bootstrap').
   * `loaded` is the peer's persisted flap record, read beforehand: it serves
   * the monitor this open creates (needsRecord), and is ignored for a peer
   * monitored already. None given: the peer has no persisted record.
   */
  openChannel(
    pubkey: string,
    channelPoint: string,
    eventTime: number,
    source: ChannelSource = 'event',
    loaded: LoadedRecord = NO_RECORD,
  ): ApplyOutcome {
    if (this.journal !== undefined) {
      this.record({ kind: 'open', pubkey, channelPoint, time: eventTime, source, loaded });
    }
    const existing = this.channelIndex.get(channelPoint);
    if (existing !== undefined) {
      // The start-up list repeats channels already opened by events: not an error.
      if (source === 'bootstrap' && existing.peer.pubkey === pubkey) return 'applied';
      return this.rejectOpen(pubkey, channelPoint);
    }
    this.endGapIfDue(eventTime);
    this.dirty?.add(pubkey);
    const time = this.advance(pubkey, eventTime);
    let monitor = this.monitors.get(pubkey);
    if (monitor === undefined) {
      monitor = new PeerMonitor(pubkey, loaded.record, time, loaded.merged, this.observation);
      this.monitors.set(pubkey, monitor);
      const state = this.peerStates.get(pubkey);
      if (state !== undefined) state.monitor = monitor;
      // Creation records the peer's current state; it counts as a flap.
      monitor.onlineEvent(this.connectivity(pubkey), time);
    }
    this.channelIndex.set(channelPoint, monitor.addChannel(channelPoint, time));
    this.channelVersion += 1;
    if (!this.replaying) {
      this.config.observer?.channelEventApplied?.(
        true,
        pubkey,
        channelPoint,
        eventTime,
        time,
        monitor.flapCount,
      );
    }
    return 'applied';
  }

  /**
   * An open refused because its channel point is taken: reported and
   * answered as a duplicate (the store's own check, and that of an edge
   * that decides in delivery order an open it has to hold).
   */
  rejectOpen(pubkey: string, channelPoint: string): 'duplicate_channel' {
    this.config.observer?.rejected?.(
      'duplicate_channel',
      pubkey,
      channelPoint,
      `channel ${channelPoint} already present`,
    );
    return 'duplicate_channel';
  }

  closeChannel(pubkey: string, channelPoint: string, eventTime: number): ApplyOutcome {
    if (this.journal !== undefined) {
      this.record({ kind: 'close', pubkey, channelPoint, time: eventTime });
    }
    const monitor = this.monitors.get(pubkey);
    if (monitor === undefined || monitor.channel(channelPoint) === undefined) {
      // Channels restored from a backup close without ever having opened.
      this.config.observer?.rejected?.(
        'unknown_channel',
        pubkey,
        channelPoint,
        monitor === undefined
          ? `peer ${pubkey} not known to store`
          : `channel ${channelPoint} not present`,
      );
      return 'unknown_channel';
    }
    this.endGapIfDue(eventTime);
    this.dirty?.add(pubkey);
    const time = this.advance(pubkey, eventTime);
    monitor.removeChannel(channelPoint);
    this.channelIndex.delete(channelPoint);
    this.channelVersion += 1;
    if (!this.replaying) {
      this.config.observer?.channelEventApplied?.(
        false,
        pubkey,
        channelPoint,
        eventTime,
        time,
        monitor.flapCount,
      );
    }
    return 'applied';
  }

  /** A peer went online or offline: the hot path, which allocates nothing for a known peer. */
  peerEvent(pubkey: string, online: boolean, eventTime: number): void {
    if (this.journal !== undefined) this.record({ kind: 'peer', pubkey, online, time: eventTime });
    if (eventTime >= this.observation.closesAt) this.endGap();
    this.dirty?.add(pubkey);
    const state = this.peerStates.get(pubkey);
    if (state === undefined) {
      // First sight of the peer: no monitor yet (an open creates the state first).
      this.peerStates.set(pubkey, { online, latest: eventTime, monitor: undefined });
      if (eventTime > this.latestApplied) this.latestApplied = eventTime;
      if (!this.replaying) {
        this.config.observer?.peerEventApplied?.(pubkey, online, eventTime, eventTime, undefined);
      }
      return;
    }
    const time = this.advanceState(state, pubkey, eventTime);
    state.online = online;
    const monitor = state.monitor;
    if (monitor !== undefined) {
      // Nobody observed the node then: the peer's state changes, no flap, nothing logged.
      if (this.observation.contains(eventTime)) monitor.unobservedEvent(online);
      else monitor.onlineEvent(online, time);
    }
    if (!this.replaying) {
      this.config.observer?.peerEventApplied?.(pubkey, online, eventTime, time, monitor?.flapCount);
    }
  }

  /** Events applied at a later time than their own because the peer had seen a later one. */
  get reorderedTotal(): number {
    return this.reorderedCount;
  }

  /**
   * lnd's FlapCount for a monitored peer: its in-memory count and last flap,
   * as stored (cooldown applies when its next event arrives). Undefined for
   * a peer without a monitor, whose answer is its persisted record (read by
   * whoever asks: the store reads nothing).
   */
  flapCount(pubkey: string): FlapCountAnswer | undefined {
    const monitor = this.monitors.get(pubkey);
    if (monitor === undefined) return undefined;
    return { count: monitor.flapCount, lastFlap: monitor.lastFlap, tracked: true };
  }

  /**
   * lnd's recordFlapCount: the record of every monitored peer that has a last
   * flap, except those whose persisted record has not been merged yet.
   */
  flapRecordsToFlush(): Map<string, FlapRecord> {
    const out = new Map<string, FlapRecord>();
    for (const monitor of this.monitors.values()) {
      if (monitor.lastFlap === undefined || !monitor.recordMerged) continue;
      out.set(monitor.pubkey, { count: monitor.flapCount, lastFlap: monitor.lastFlap });
    }
    return out;
  }

  /** Monitored peers whose persisted record could not be read yet (created after a failed read). */
  unmergedPeers(): string[] {
    const out: string[] = [];
    for (const monitor of this.monitors.values()) {
      if (!monitor.recordMerged) out.push(monitor.pubkey);
    }
    return out;
  }

  /**
   * A persisted record read late, for a monitor created without it (a read
   * that failed): the persisted count, cooled down to the monitor's creation,
   * plus what was counted since. False when there is nothing to merge it
   * into (no monitor, or one merged already).
   */
  mergeRecord(pubkey: string, record: FlapRecord | undefined): boolean {
    const monitor = this.monitors.get(pubkey);
    if (monitor === undefined || monitor.recordMerged) return false;
    monitor.mergeRecord(record);
    this.dirty?.add(pubkey);
    return true;
  }
}
