import { StoreError } from './errors.js';
import { ALWAYS_OBSERVED, type ObservedTime } from './node-observation.js';
import { OnlineLog, type OnlineMemo } from './online-log.js';
import type { MonitorImage } from './store-image.js';
import { cooldownFlapCount, rateLimitMs } from './rate-limit.js';

/** A channel the store tracks. */
export interface ChannelView {
  readonly channelPoint: string;
  readonly peer: PeerView;
  /** When the channel was added to the store (its event time). */
  readonly openedAt: number;
  /** The node's unobserved time up to the opening (0 for a node never unobserved). */
  readonly unobservedAtOpening: number;
}

/** A channel of a monitored peer; it memoizes the peer's online time at its opening. */
export class TrackedChannel implements ChannelView, OnlineMemo {
  memoGeneration = -1;
  memoValue = 0;

  constructor(
    readonly channelPoint: string,
    readonly peer: PeerView,
    readonly openedAt: number,
    public unobservedAtOpening: number,
  ) {}
}

/** What the adapters may read of a monitored peer, without copying it. */
export interface PeerView {
  readonly pubkey: string;
  readonly online: boolean;
  readonly flapCount: number;
  /** Time of the last flap; undefined when none was ever recorded. */
  readonly lastFlap: number | undefined;
  /** Flaps recorded by this process (every increment of the flap count). */
  readonly flapsSinceStart: number;
  readonly channelCount: number;
  channels(): IterableIterator<ChannelView>;
  /** When the peer's monitor was created (its first channel was added). */
  readonly createdAt: number;
  /** The peer's event log (committed events and the staged one). */
  readonly log: OnlineLog;
  /** When the peer's node was observed: lifetimes and uptimes count observed time only. */
  readonly observation: ObservedTime;
  /** The node's unobserved time up to createdAt. */
  readonly unobservedAtCreation: number;
  /**
   * False while the peer's persisted flap record could not be read: its count
   * then holds only what this process saw, and it is not flushed (that would
   * overwrite the persisted count) until the read succeeds and is merged.
   */
  readonly recordMerged: boolean;
}

/** The persisted part of a peer: lnd's channeldb.FlapCount. */
export interface FlapRecord {
  readonly count: number;
  readonly lastFlap: number;
}

/**
 * lnd's peerLog: flap count with cooldown, online state, channels, and the
 * rate-limited event log used for uptime.
 */
export class PeerMonitor implements PeerView {
  online = false;
  flapCount: number;
  lastFlap: number | undefined;
  flapsSinceStart = 0;
  recordMerged: boolean;
  private readonly channelMap = new Map<string, TrackedChannel>();
  /** When this monitor was created; a late-read record is cooled down to this time. */
  readonly createdAt: number;
  /** The peer's event log; replaced only when the monitor is restored. */
  log: OnlineLog;
  unobservedAtCreation: number;

  constructor(
    readonly pubkey: string,
    record: FlapRecord | undefined,
    createdAt: number,
    recordMerged = true,
    readonly observation: ObservedTime = ALWAYS_OBSERVED,
  ) {
    this.flapCount = record?.count ?? 0;
    this.lastFlap = record?.lastFlap;
    this.createdAt = createdAt;
    this.recordMerged = recordMerged;
    this.log = new OnlineLog(observation);
    this.unobservedAtCreation = observation.unobservedUntil(createdAt);
  }

  /**
   * A monitor rebuilt from persisted state (its log already restored): the
   * channels keep their opening times and the online time at their opening.
   */
  static restore(
    pubkey: string,
    image: MonitorImage,
    log: OnlineLog,
    observation: ObservedTime = ALWAYS_OBSERVED,
  ): PeerMonitor {
    const monitor = new PeerMonitor(
      pubkey,
      image.lastFlap === undefined
        ? undefined
        : { count: image.flapCount, lastFlap: image.lastFlap },
      image.createdAt,
      image.recordMerged,
      observation,
    );
    monitor.flapCount = image.flapCount;
    monitor.online = image.online;
    monitor.log = log;
    if (image.unobservedAtCreation !== undefined) {
      monitor.unobservedAtCreation = image.unobservedAtCreation;
    }
    for (const channel of image.channels) {
      if (monitor.channelMap.has(channel.channelPoint)) {
        throw new StoreError('INVALID_STATE', `channel ${channel.channelPoint} listed twice`);
      }
      const tracked = new TrackedChannel(
        channel.channelPoint,
        monitor,
        channel.openedAt,
        channel.unobservedAtOpening ?? observation.unobservedUntil(channel.openedAt),
      );
      if (channel.atOpening !== undefined) log.adoptMemo(tracked, channel.atOpening);
      monitor.channelMap.set(channel.channelPoint, tracked);
    }
    return monitor;
  }

  /** What persistence keeps of the monitor but its log's events. */
  image(): MonitorImage {
    const channels = [];
    for (const channel of this.channelMap.values()) {
      channels.push({
        channelPoint: channel.channelPoint,
        openedAt: channel.openedAt,
        atOpening: this.log.memoIsFinal(channel) ? channel.memoValue : undefined,
        unobservedAtOpening: channel.unobservedAtOpening,
      });
    }
    return {
      flapCount: this.flapCount,
      lastFlap: this.lastFlap,
      online: this.online,
      recordMerged: this.recordMerged,
      createdAt: this.createdAt,
      unobservedAtCreation: this.unobservedAtCreation,
      channels,
      log: this.log.header(),
    };
  }

  get channelCount(): number {
    return this.channelMap.size;
  }

  channels(): IterableIterator<ChannelView> {
    return this.channelMap.values();
  }

  channel(channelPoint: string): ChannelView | undefined {
    return this.channelMap.get(channelPoint);
  }

  /** lnd's onlineEvent: cooldown, count the flap, then log it if there are channels. */
  onlineEvent(online: boolean, time: number): void {
    if (this.lastFlap !== undefined) {
      this.flapCount = cooldownFlapCount(time, this.flapCount, this.lastFlap);
    }
    this.flapCount += 1;
    this.flapsSinceStart += 1;
    this.lastFlap = time;
    this.online = online;
    if (this.channelMap.size === 0) return;
    this.log.addEvent(time, online, rateLimitMs(this.flapCount));
  }

  /**
   * lnd's addChannel: with an empty committed log, seed it with the current
   * state at the opening time (no flap) so that uptime is known from the start.
   */
  addChannel(channelPoint: string, openedAt: number): ChannelView {
    if (this.channelMap.has(channelPoint)) {
      throw new StoreError('duplicate_channel', `channel ${channelPoint} already present`);
    }
    const channel = new TrackedChannel(
      channelPoint,
      this,
      openedAt,
      this.observation.unobservedUntil(openedAt),
    );
    this.channelMap.set(channelPoint, channel);
    if (this.log.committedCount === 0) {
      this.log.addEvent(openedAt, this.online, rateLimitMs(this.flapCount));
    }
    return channel;
  }

  /**
   * A peer event while its node is unobserved: the peer's connectivity
   * changes, but nobody saw it happen (no flap, nothing logged).
   */
  unobservedEvent(online: boolean): void {
    this.online = online;
  }

  /**
   * The end of a gap: the log takes the peer's connectivity at that moment
   * when it differs from the state the log ends with (no flap). True when an
   * event was added.
   */
  gapEnded(online: boolean, time: number): boolean {
    this.online = online;
    if (this.channelMap.size === 0 || this.log.lastState === online) return false;
    this.log.addEvent(time, online, rateLimitMs(this.flapCount));
    return true;
  }

  /**
   * The node's observation changed from `from` on (a gap that began before
   * events already counted): totals after it are counted again, and the
   * channels opened after it forget what they kept of it.
   */
  observationChangedFrom(from: number): void {
    this.log.recountFrom(from);
    if (this.createdAt > from)
      this.unobservedAtCreation = this.observation.unobservedUntil(this.createdAt);
    for (const channel of this.channelMap.values()) {
      if (channel.openedAt <= from) continue;
      channel.memoGeneration = -1;
      channel.unobservedAtOpening = this.observation.unobservedUntil(channel.openedAt);
    }
  }

  /** lnd's removeChannel: the log goes with the last channel; flaps stay. */
  removeChannel(channelPoint: string): ChannelView {
    const channel = this.channelMap.get(channelPoint);
    if (channel === undefined) {
      throw new StoreError('unknown_channel', `channel ${channelPoint} not present`);
    }
    this.channelMap.delete(channelPoint);
    if (this.channelMap.size === 0) this.log.clear();
    return channel;
  }

  /**
   * Folds in a persisted record that could only be read after the monitor
   * started counting: the persisted count, cooled down to the monitor's
   * creation, plus what was counted since; the last flap is the later one.
   */
  mergeRecord(record: FlapRecord | undefined): void {
    if (this.recordMerged) return;
    this.recordMerged = true;
    if (record === undefined) return;
    this.flapCount += cooldownFlapCount(this.createdAt, record.count, record.lastFlap);
    if (this.lastFlap === undefined || record.lastFlap > this.lastFlap) {
      this.lastFlap = record.lastFlap;
    }
  }
}
