import type { Clock } from '../clock.js';
import { StoreError } from './errors.js';
import {
  channelInfo,
  channelLifetimeAt,
  channelUnobservedAt,
  channelUptimeAt,
  peerLogStart,
  channelUptimeWith,
  peerOnlineUntil,
  peerOnlineUntilAt,
  peerUptime,
  type ChannelInfo,
  type PeerUptime,
} from './channel-info.js';
export type { ChannelInfo, PeerUptime } from './channel-info.js';
import { ChannelUptimeIndex, type ChannelUptimes } from './channel-uptimes.js';
export type { ChannelUptimes } from './channel-uptimes.js';
import {
  NodeObservation,
  type Gap,
  type ObservationImage,
  type ObservationSettings,
} from './node-observation.js';
import { OnlineLog, type LogEvents, type OnlinePeriod } from './online-log.js';
import { PeerMonitor, type ChannelView, type FlapRecord, type PeerView } from './peer-monitor.js';
import type { PeerImage } from './store-image.js';

import type { StoreRejection } from '../lnd/reject-reason.js';
export type { StoreRejection } from '../lnd/reject-reason.js';

/** What became of an event: applied, or rejected by the store. */
export type ApplyOutcome = 'applied' | StoreRejection;

/**
 * Called once an event has been applied or rejected: at once, or later when it
 * waited for its peer's record read (JetStream acknowledges a message only then).
 */
export type Settled = (outcome: ApplyOutcome) => void;

/** Notifications for the shell (logs, counters); the store never needs them to be there. */
export interface StoreObserver {
  rejected?(reason: StoreRejection, pubkey: string, channelPoint: string, message: string): void;
  reordered?(pubkey: string, eventTime: number, appliedTime: number): void;
  recordReadFailed?(pubkey: string, err: unknown): void;
  /**
   * A peer event was applied at `appliedTime` (its own time, or the peer's
   * latest when it came late); `flapCount` is the peer's count after it,
   * undefined for a peer without a monitor (no flap counted). Called on the hot
   * path, synchronously, with plain arguments: nothing is allocated for it.
   */
  peerEventApplied?(
    pubkey: string,
    online: boolean,
    eventTime: number,
    appliedTime: number,
    flapCount: number | undefined,
  ): void;
  /** A channel was added (`opened`) or removed, with its peer's flap count after it. */
  channelEventApplied?(
    opened: boolean,
    pubkey: string,
    channelPoint: string,
    eventTime: number,
    appliedTime: number,
    flapCount: number,
  ): void;
}

/** What the store is given, as lnd's chanfitness.Config. */
export interface ChannelEventStoreConfig {
  /** The lnd node whose events these are. */
  readonly node: string;
  readonly clock: Clock;
  /** Reads a peer's persisted flap record; undefined when there is none. */
  readonly readFlapRecord: (pubkey: string) => Promise<FlapRecord | undefined>;
  /** Connectivity from the node's bootstrap list of peers, when it has been read. */
  readonly bootstrapConnectivity?: (pubkey: string) => boolean | undefined;
  readonly observer?: StoreObserver;
  /**
   * History kept, ms (--history.retention): committed events older than this
   * may be compacted away, and windows are clamped to now - retention.
   * Undefined or 0: everything is kept.
   */
  readonly retentionMs?: number;
  /** Keep the set of changed peers for takeDirty() (history snapshots); off as lnd. */
  readonly trackChanges?: boolean;
  /** --observer.timeout and --observer.settle; 1 min and 2 min by default. */
  readonly observation?: ObservationSettings;
}

/** What a restore knows of the node's observation. */
export interface RestoredObservation {
  /** The persisted gaps and status; none for a node whose history has none. */
  readonly image?: ObservationImage | undefined;
  /** Core NATS: the exporter did not run from this time (its last write) on: a gap starts there. */
  readonly exporterDownSince?: number | undefined;
}

/** A peer as persistence restores it: its image and the retained events of its log. */
export interface RestoredPeer {
  readonly image: PeerImage;
  /** The committed events from image.monitor.log.offset on; none without a monitor. */
  readonly events: LogEvents | undefined;
}

/** An applied event, kept while a restore is awaited so that it can be applied again on top. */
type JournalEntry = StoreEvent & { readonly loaded?: LoadedRecord | undefined };

/** Uptime over a window already clamped to the channel's lifetime (or the peer's log). */
export interface UptimeWindow {
  readonly from: number;
  readonly to: number;
  readonly uptime: number;
  /** The part of [from, to] during which the node was observed: what the ratio is over. */
  readonly observed: number;
}

/** A peer's offline periods over a window (its log's, outside the node's gaps). */
export interface Outages {
  readonly from: number;
  readonly to: number;
  /** Every offline period in the window, clipped to it, oldest first. */
  readonly periods: readonly OnlinePeriod[];
}

/** A flap count as FlapCount answers it: in memory first, then persisted. */
export interface FlapCountAnswer {
  readonly count: number;
  readonly lastFlap: number | undefined;
  /** True when the peer is monitored in memory. */
  readonly tracked: boolean;
}

/** Where an added channel comes from: an open event, or the start-up list of channels. */
export type ChannelSource = 'event' | 'bootstrap';

/** An event as the store applies it. */
type StoreEvent =
  | {
      readonly kind: 'status';
      readonly up: boolean;
      readonly time: number;
    }
  | {
      /** A bootstrap reply (the node is back), or a bootstrap that failed. */
      readonly kind: 'bootstrap';
      readonly answered: boolean;
      readonly time: number;
    }
  | {
      readonly kind: 'open';
      readonly pubkey: string;
      readonly channelPoint: string;
      readonly time: number;
      readonly source: ChannelSource;
    }
  | {
      readonly kind: 'close';
      readonly pubkey: string;
      readonly channelPoint: string;
      readonly time: number;
    }
  | {
      readonly kind: 'peer';
      readonly pubkey: string;
      readonly online: boolean;
      readonly time: number;
    };

/** An event waiting for its peer's record read, with who to tell once applied. */
type Operation = PeerOperation & { readonly settled: Settled | undefined };

/** The events that concern one peer. */
type PeerOperation = Extract<StoreEvent, { readonly pubkey: string }>;

interface PeerState {
  /** State of the latest peer event seen; undefined before any. */
  online: boolean | undefined;
  /** Time of the latest applied event concerning the peer: time never runs backwards. */
  latest: number;
  /** The peer's monitor once it has one (also in `monitors`): one lookup per peer event. */
  monitor: PeerMonitor | undefined;
}

interface LoadedRecord {
  readonly record: FlapRecord | undefined;
  readonly merged: boolean;
}

/**
 * The channel event store of one lnd node, with exactly the semantics of lnd's
 * chanfitness.ChannelEventStore, event times taken from the events, and uptime
 * over any window.
 *
 * Everything is synchronous but reading a peer's persisted flap record, which
 * the monitor needs when it is created. While that read is in flight, the
 * peer's later events wait in a queue of their own and are applied in order
 * when it settles; other peers' events go on. A read that fails still creates
 * the monitor (the peer's events must not be lost) and leaves it unmerged:
 * retryRecordReads() folds the record in once the backend answers again.
 */
export class ChannelEventStore {
  readonly node: string;
  /** When the node was observed (SPEC 4.4): every log of the node counts time through it. */
  readonly observation: NodeObservation;
  /** The latest time any event was applied at: a gap found to start earlier is counted again. */
  private latestApplied = -Infinity;
  private readonly monitors = new Map<string, PeerMonitor>();
  private readonly channelIndex = new Map<string, ChannelView>();
  private readonly peerStates = new Map<string, PeerState>();
  /** Peers whose record read is in flight, with the events waiting for it. */
  private readonly pending = new Map<string, Operation[]>();
  /** Channel points of the opens waiting in `pending`, with their peer. */
  private readonly reserved = new Map<string, string>();
  private readonly settled = new Set<() => void>();
  private reorderedCount = 0;
  /** Bumped whenever a channel is added or removed (ChannelUptimeIndex rebuilds then). */
  private channelVersion = 0;
  private uptimeIndex: ChannelUptimeIndex | undefined;
  /** Peers changed since the last takeDirty(): what a snapshot writes. */
  /** Peers changed since the last takeDirty(), when history is kept (trackChanges). */
  private dirty: Set<string> | undefined;
  /** Applied events while a restore is awaited (beginJournal), up to journalLimit. */
  private journal: JournalEntry[] | undefined;
  private journalLimit = 0;
  private journalFull = false;
  /** True while rebase() applies journaled events again: the observer saw them the first time. */
  private replaying = false;

  constructor(private readonly config: ChannelEventStoreConfig) {
    this.node = config.node;
    this.observation = new NodeObservation(config.observation);
    if (config.trackChanges === true) this.dirty = new Set();
  }

  // ---- observation -----------------------------------------------------------

  /** The bridge's `<prefix>.<node>.status`: lnd is up (streams connected) or down. */
  status(up: boolean, time: number): void {
    if (this.journal !== undefined) this.record({ kind: 'status', up, time });
    // A silence no tick saw (a JetStream backlog, where ticks wait) is still one.
    this.observeAt(time);
    if (up) this.observation.up(time);
    else this.observationChangedFrom(this.observation.down(time));
  }

  /**
   * The node's bootstrap answered (it is back: a gap ends the settle time
   * later) or failed (back too for a node that never sent a status: nothing
   * else would tell).
   */
  bootstrapped(answered: boolean, time: number): void {
    if (this.journal !== undefined) this.record({ kind: 'bootstrap', answered, time });
    this.endGapIfDue(time);
    if (answered || !this.observation.statusSeen) this.observation.back(time);
  }

  /**
   * At clock time now (the shell's scheduler calls this while its input is
   * caught up): a settling gap whose end has come ends, and a node whose
   * statuses stopped for the timeout becomes unobserved from its last one.
   */
  tick(now: number): void {
    this.observeAt(now);
  }

  /** What time alone says at `time`: a silence of the timeout, the end of a settling gap. */
  private observeAt(time: number): void {
    const silent = this.observation.silentSince(time);
    // Silent since before the planned end: the gap never ended (no end events).
    if (silent === undefined || silent > this.observation.closesAt) this.endGapIfDue(time);
    this.observationChangedFrom(this.observation.checkSilence(time));
  }

  /** True unless a gap lasts (open, or settling with its end events still due). */
  get observed(): boolean {
    return this.observation.observed;
  }

  /**
   * True unless a gap lasts at now: a settling gap whose end has come is
   * over, even before the next event or tick records its end.
   */
  observedAt(now: number): boolean {
    return this.observation.observed || now >= this.observation.closesAt;
  }

  /** The node's gaps overlapping [from, to], oldest first. */
  gaps(from: number, to: number, limit?: number): Gap[] {
    return this.observation.gaps(from, to, limit);
  }

  /** The node's unobserved time up to now, compacted gaps included. */
  unobservedTotal(now: number = this.config.clock.now()): number {
    return this.observation.unobservedUntil(now);
  }

  /** Before applying anything at `time`: a settling gap that has ended gets its end events. */
  private endGapIfDue(time: number): void {
    if (time >= this.observation.closesAt) this.endGap();
  }

  /**
   * A gap has ended: from its end on each peer counts as online or offline
   * by its connectivity at that moment, an event (no flap) for each peer
   * whose log says otherwise.
   */
  private endGap(): void {
    const end = this.observation.closesAt;
    this.observation.close();
    for (const monitor of this.monitors.values()) {
      const pubkey = monitor.pubkey;
      const state = this.peerStates.get(pubkey);
      const time = Math.max(end, state?.latest ?? end);
      if (!monitor.gapEnded(this.connectivity(pubkey), time)) continue;
      if (state !== undefined) state.latest = time;
      if (time > this.latestApplied) this.latestApplied = time;
      this.dirty?.add(pubkey);
      if (!this.replaying) {
        this.config.observer?.peerEventApplied?.(
          pubkey,
          monitor.online,
          end,
          time,
          monitor.flapCount,
        );
      }
    }
  }

  /**
   * A gap opened at `from` (undefined: none did). When events after it were
   * already counted, their totals are counted again without it.
   */
  private observationChangedFrom(from: number | undefined): void {
    if (from === undefined || from >= this.latestApplied) return;
    for (const monitor of this.monitors.values()) {
      monitor.observationChangedFrom(from);
      this.dirty?.add(monitor.pubkey);
    }
    this.channelVersion += 1;
  }

  // ---- events ----------------------------------------------------------------

  /** A channel opened (or was listed at start-up, when source is 'bootstrap'). */
  openChannel(
    pubkey: string,
    channelPoint: string,
    time: number,
    source: ChannelSource = 'event',
    settled?: Settled,
  ): void {
    const queue = this.queueOf(pubkey);
    if (queue === undefined && this.monitors.has(pubkey)) {
      const outcome = this.applyOpen(pubkey, channelPoint, time, source, undefined);
      settled?.(outcome);
      return;
    }
    // The open waits for the peer's record read, but whether its channel point
    // is taken is decided now, in delivery order: another peer's open or close
    // of that channel point, delivered later, may be applied before this one.
    if (this.channelIndex.has(channelPoint) || this.reservedByOther(channelPoint, pubkey)) {
      const outcome = this.rejectDuplicate(pubkey, channelPoint);
      settled?.(outcome);
      return;
    }
    this.reserved.set(channelPoint, pubkey);
    const op: Operation = { kind: 'open', pubkey, channelPoint, time, source, settled };
    if (queue !== undefined) queue.push(op);
    else this.readThenApply(op);
  }

  closeChannel(pubkey: string, channelPoint: string, time: number, settled?: Settled): void {
    const queue = this.queueOf(pubkey);
    if (queue !== undefined) {
      queue.push({ kind: 'close', pubkey, channelPoint, time, settled });
      return;
    }
    const outcome = this.applyClose(pubkey, channelPoint, time);
    settled?.(outcome);
  }

  /** A peer went online or offline: the hot path, which allocates nothing for a known peer. */
  peerEvent(pubkey: string, online: boolean, time: number, settled?: Settled): void {
    const queue = this.queueOf(pubkey);
    if (queue !== undefined) {
      queue.push({ kind: 'peer', pubkey, online, time, settled });
      return;
    }
    this.applyPeer(pubkey, online, time);
    settled?.('applied');
  }

  // ---- queries ---------------------------------------------------------------

  /** A monitored peer. */
  peer(pubkey: string): PeerView | undefined {
    return this.monitors.get(pubkey);
  }

  /** Every monitored peer, live (no copy). */
  peers(): IterableIterator<PeerView> {
    return this.monitors.values();
  }

  get peerCount(): number {
    return this.monitors.size;
  }

  channel(channelPoint: string): ChannelView | undefined {
    return this.channelIndex.get(channelPoint);
  }

  /** Every tracked channel, live (no copy). */
  channels(): IterableIterator<ChannelView> {
    return this.channelIndex.values();
  }

  get channelCount(): number {
    return this.channelIndex.size;
  }

  /** Events applied at a later time than their own because the peer had seen a later one. */
  get reorderedTotal(): number {
    return this.reorderedCount;
  }

  /**
   * The peer of a channel whose open waits for that peer's record read (the
   * peer is not monitored yet: lnd's "peer not found"), or undefined.
   */
  pendingChannelPeer(channelPoint: string): string | undefined {
    return this.reserved.get(channelPoint);
  }

  /** Peers whose record read is still in flight. */
  get pendingReads(): number {
    return this.pending.size;
  }

  /** The latest peer event seen for the peer, else the bootstrap list, else offline. */
  connectivity(pubkey: string): boolean {
    return (
      this.peerStates.get(pubkey)?.online ?? this.config.bootstrapConnectivity?.(pubkey) ?? false
    );
  }

  /** lnd's GetChanInfo. */
  getChanInfo(channelPoint: string, pubkey: string): ChannelInfo {
    const monitor = this.monitors.get(pubkey);
    if (monitor === undefined) {
      throw new StoreError('PEER_NOT_FOUND', `peer ${pubkey} not found in event store`);
    }
    const channel = monitor.channel(channelPoint);
    if (channel === undefined) {
      throw new StoreError('CHANNEL_NOT_FOUND', `channel ${channelPoint} not found in event store`);
    }
    return this.channelInfo(channel);
  }

  /**
   * Lifetime = now - openedAt, uptime = uptime(openedAt, now). An opening time
   * in the future (timestamps may lead the clock a little) reads as zero.
   */
  channelInfo(channel: ChannelView, now: number = this.config.clock.now()): ChannelInfo {
    return channelInfo(channel, now);
  }

  /**
   * channelInfo's uptime alone, allocating nothing (for ranking many channels):
   * uptime(openedAt, now), 0 while the lifetime is not positive.
   */
  channelUptimeAt(channel: ChannelView, now: number): number {
    return channelUptimeAt(channel, now);
  }

  /**
   * For ranking many channels at one instant, peer by peer: the peer's online
   * time up to now, for channelUptimeWith on each of its channels.
   */
  peerOnlineUntil(peer: PeerView, now: number): number {
    return peerOnlineUntil(peer, now);
  }

  /**
   * Every channel's lifetime and uptime at now, as channelInfo computes them,
   * in arrays reused by the next call: for ranking or exporting all channels
   * in O(peers + channels) without chasing each channel's objects.
   */
  channelUptimes(now: number = this.config.clock.now()): ChannelUptimes {
    this.uptimeIndex ??= new ChannelUptimeIndex();
    return this.uptimeIndex.compute(
      this.channelVersion,
      () => this.monitors.values(),
      now,
      this.observation,
    );
  }

  /**
   * A monitored peer's online time over its monitored time (from its
   * monitor's creation to now), from its event log; see PeerUptime.
   */
  peerUptime(peer: PeerView, now: number = this.config.clock.now()): PeerUptime {
    return peerUptime(peer, now);
  }

  /** channelUptimeAt, given peerOnlineUntil(channel.peer, now) of the same instant. */
  channelUptimeWith(channel: ChannelView, now: number, peerUntilNow: number): number {
    return channelUptimeWith(channel, now, peerUntilNow);
  }

  /**
   * Where channelUptime(channel, now - lengthMs) starts at now for a channel
   * opened before it: now - lengthMs, clamped to the history horizon. A
   * channel opened at or after it has its whole lifetime in the window.
   */
  windowStart(lengthMs: number, now: number): number {
    return Math.max(now - lengthMs, this.horizon(now) ?? -Infinity);
  }

  /**
   * For windowed uptime of many channels at one instant, peer by peer: the
   * peer's online time up to a window's start, once for all its channels
   * opened before it. Their uptime over [start, now] is then
   * peerOnlineUntil(peer, now) minus this, the figure channelUptime gives.
   */
  peerOnlineUntilAt(peer: PeerView, start: number, now: number): number {
    return peerOnlineUntilAt(peer, start, now);
  }

  /**
   * Uptime of a peer over any window, lnd's uptime(start, end): INVALID_RANGE
   * when end is before start or is the zero time.
   */
  uptime(pubkey: string, start: number, end: number): number {
    const monitor = this.monitors.get(pubkey);
    if (monitor === undefined) {
      throw new StoreError('PEER_NOT_FOUND', `peer ${pubkey} not found in event store`);
    }
    const now = this.config.clock.now();
    const horizon = this.horizon(now);
    if (horizon !== undefined && start < horizon && end >= start) {
      return monitor.log.uptime(Math.min(horizon, end), end, now);
    }
    return monitor.log.uptime(start, end, now);
  }

  /**
   * A channel's uptime over [from, to] (to defaults to now), clamped to
   * [openedAt, now]; INVALID_RANGE when to is before from.
   */
  channelUptime(channel: ChannelView, from: number, to?: number): UptimeWindow {
    const now = this.config.clock.now();
    const end = to ?? now;
    if (end < from) {
      throw new StoreError(
        'INVALID_RANGE',
        `window end ${new Date(end).toISOString()} is before its start ${new Date(from).toISOString()}`,
      );
    }
    return this.logWindow(channel.peer, channel.openedAt, from, end, now);
  }

  /**
   * A peer's uptime over [from, to] (to defaults to now) from its log,
   * clamped to the log's start (see peerLogStart) and now; undefined for a
   * peer without a log (no channel). INVALID_RANGE when to is before from.
   */
  peerUptimeWindow(peer: PeerView, from: number, to?: number): UptimeWindow | undefined {
    const now = this.config.clock.now();
    const end = to ?? now;
    if (end < from) {
      throw new StoreError(
        'INVALID_RANGE',
        `window end ${new Date(end).toISOString()} is before its start ${new Date(from).toISOString()}`,
      );
    }
    const start = peerLogStart(peer);
    return start === undefined ? undefined : this.logWindow(peer, start, from, end, now);
  }

  /**
   * A peer's offline periods over [from, to] (defaults: the log's start and
   * now), clamped as peerUptimeWindow clamps; undefined without a log.
   */
  peerOutages(peer: PeerView, from?: number, to?: number): Outages | undefined {
    const now = this.config.clock.now();
    const start = peerLogStart(peer);
    if (start === undefined) return undefined;
    const { lo, hi } = this.clampWindow(start, from ?? start, to ?? now, now);
    return { from: lo, to: hi, periods: hi > lo ? peer.log.offlinePeriods(lo, hi, now) : [] };
  }

  /** At least as many periods as peerOutages lists, in O(log n). */
  peerOutagesBound(peer: PeerView, from?: number, to?: number): number {
    const now = this.config.clock.now();
    const start = peerLogStart(peer);
    if (start === undefined) return 0;
    const { lo, hi } = this.clampWindow(start, from ?? start, to ?? now, now);
    return hi > lo ? peer.log.periodsBound(lo, hi) : 0;
  }

  /** The channel's lifetime alone: observed time since its opening (lnd's now - openedAt without gaps). */
  channelLifetime(channel: ChannelView, now: number): number {
    return channelLifetimeAt(channel, now);
  }

  /** The time since the channel's opening during which its node was not observed. */
  channelUnobserved(channel: ChannelView, now: number = this.config.clock.now()): number {
    return channelUnobservedAt(channel, now);
  }

  /**
   * The observed part of [start, now]: what a window from start holds for a
   * channel opened before it (windowStart), once for all such channels.
   */
  observedSince(start: number, now: number): number {
    return this.observation.observedBetween(start, now);
  }

  private logWindow(
    peer: PeerView,
    start: number,
    from: number,
    end: number,
    now: number,
  ): UptimeWindow {
    const { lo, hi } = this.clampWindow(start, from, end, now);
    if (!(hi > lo)) return { from: lo, to: hi, uptime: 0, observed: 0 };
    return {
      from: lo,
      to: hi,
      uptime: peer.log.uptime(lo, hi, now),
      observed: this.observation.observedBetween(lo, hi),
    };
  }

  /** [from, end] clamped to [start, now] and to the history horizon. */
  private clampWindow(
    start: number,
    from: number,
    end: number,
    now: number,
  ): { lo: number; hi: number } {
    const latest = Math.max(start, now);
    const lo = clamp(Math.max(from, this.horizon(now) ?? from), start, latest);
    return { lo, hi: clamp(end, lo, latest) };
  }

  /** The peer's online periods during the channel's lifetime and the window, oldest first. */
  onlinePeriods(channel: ChannelView, from?: number, to?: number): OnlinePeriod[] {
    const now = this.config.clock.now();
    const [lo, hi] = this.periodWindow(channel, now, from, to);
    if (hi < lo) return [];
    return channel.peer.log.periods(lo, hi, now);
  }

  /** At least as many as onlinePeriods(channel, from, to) returns, in O(log n). */
  onlinePeriodsBound(channel: ChannelView, from?: number, to?: number): number {
    const [lo, hi] = this.periodWindow(channel, this.config.clock.now(), from, to);
    return hi < lo ? 0 : channel.peer.log.periodsBound(lo, hi);
  }

  /** The window onlinePeriods lists: clamped to the channel's lifetime, the horizon and now. */
  private periodWindow(
    channel: ChannelView,
    now: number,
    from: number | undefined,
    to: number | undefined,
  ): [number, number] {
    const lo = Math.max(from ?? channel.openedAt, channel.openedAt, this.horizon(now) ?? -Infinity);
    return [lo, Math.min(to ?? now, now)];
  }

  /**
   * lnd's FlapCount: the in-memory count and last flap of a monitored peer (as
   * stored: cooldown applies when its next event arrives), else the persisted
   * record, else 0 and none. Rejects when the record cannot be read.
   */
  async flapCount(pubkey: string): Promise<FlapCountAnswer> {
    const monitor = this.monitors.get(pubkey);
    if (monitor !== undefined) {
      return { count: monitor.flapCount, lastFlap: monitor.lastFlap, tracked: true };
    }
    const record = await this.config.readFlapRecord(pubkey);
    return { count: record?.count ?? 0, lastFlap: record?.lastFlap, tracked: false };
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

  /** Retries the record reads that failed; resolves with how many are still unmerged. */
  async retryRecordReads(): Promise<number> {
    const unmerged = [...this.monitors.values()].filter((m) => !m.recordMerged);
    await Promise.all(
      unmerged.map(async (monitor) => {
        try {
          monitor.mergeRecord(await this.config.readFlapRecord(monitor.pubkey));
          this.dirty?.add(monitor.pubkey);
        } catch (err) {
          this.config.observer?.recordReadFailed?.(monitor.pubkey, err);
        }
      }),
    );
    return unmerged.filter((m) => !m.recordMerged).length;
  }

  /** Resolves once no record read is in flight (every submitted event is applied). */
  idle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.pending.size > 0) return;
        this.settled.delete(check);
        resolve();
      };
      this.settled.add(check);
    });
  }

  // ---- history ---------------------------------------------------------------

  /** The start of what is kept: now - retention, or undefined when everything is kept. */
  horizon(now: number = this.config.clock.now()): number | undefined {
    const retention = this.config.retentionMs;
    return retention === undefined || retention <= 0 ? undefined : now - retention;
  }

  /** True while the peer's events wait for its record read. */
  isPending(pubkey: string): boolean {
    return this.pending.size !== 0 && this.pending.has(pubkey);
  }

  /** True when every submitted event has been applied (no record read in flight). */
  get isIdle(): boolean {
    return this.pending.size === 0;
  }

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
   * Replaces the whole state by restored peers (the store must be idle).
   * Throws INVALID_STATE, leaving the store empty, when they do not make a
   * consistent store (a channel point held by two peers, ...).
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
   * The exporter did not run from `since` on (a core NATS restart, where
   * nothing replays that time): the node is unobserved from there until it
   * is back (EXPORTER_DOWN).
   */
  exporterDown(since: number): void {
    this.observationChangedFrom(this.observation.exporterDown(since));
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
   * The restore arrived (the store must be idle): the state becomes the
   * restored one with every journaled event applied again on top, at their
   * own times, as if the restore had come before them. Past the journal's
   * limit, events are not applied again (as after a crash).
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
            this.applyOpen(
              entry.pubkey,
              entry.channelPoint,
              entry.time,
              entry.source,
              entry.loaded,
            );
            break;
          case 'close':
            this.applyClose(entry.pubkey, entry.channelPoint, entry.time);
            break;
          case 'peer':
            this.applyPeer(entry.pubkey, entry.online, entry.time);
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

  private record(entry: JournalEntry): void {
    const journal = this.journal;
    if (journal === undefined || this.journalFull) return;
    if (journal.length >= this.journalLimit) {
      // Past the limit, later events are not applied again on top of the restore.
      this.journalFull = true;
      return;
    }
    journal.push(entry);
  }

  // ---- applying ------------------------------------------------------------

  /** The queue of a peer whose record read is in flight (usually none: one size check). */
  private queueOf(pubkey: string): Operation[] | undefined {
    return this.pending.size === 0 ? undefined : this.pending.get(pubkey);
  }

  /** Reads the record a new monitor needs, holding the peer's events meanwhile. */
  private readThenApply(first: Operation): void {
    const { pubkey } = first;
    this.pending.set(pubkey, [first]);
    let read: Promise<FlapRecord | undefined>;
    try {
      read = this.config.readFlapRecord(pubkey);
    } catch (err) {
      read = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    read.then(
      (record) => {
        this.drain(pubkey, { record, merged: true });
      },
      (err: unknown) => {
        this.config.observer?.recordReadFailed?.(pubkey, err);
        this.drain(pubkey, { record: undefined, merged: false });
      },
    );
  }

  private drain(pubkey: string, loaded: LoadedRecord): void {
    const queue = this.pending.get(pubkey) ?? [];
    // The record serves the monitor the first successful open creates.
    for (const op of queue) {
      if (op.kind === 'open' && this.reserved.get(op.channelPoint) === pubkey) {
        this.reserved.delete(op.channelPoint);
      }
      this.apply(op, this.monitors.has(pubkey) ? undefined : loaded);
    }
    this.pending.delete(pubkey);
    for (const check of [...this.settled]) check();
  }

  /** Applies one event and tells its submitter what became of it. */
  private apply(op: Operation, loaded: LoadedRecord | undefined): void {
    let outcome: ApplyOutcome;
    switch (op.kind) {
      case 'open':
        outcome = this.applyOpen(op.pubkey, op.channelPoint, op.time, op.source, loaded);
        break;
      case 'close':
        outcome = this.applyClose(op.pubkey, op.channelPoint, op.time);
        break;
      case 'peer':
        this.applyPeer(op.pubkey, op.online, op.time);
        outcome = 'applied';
    }
    op.settled?.(outcome);
  }

  private applyOpen(
    pubkey: string,
    channelPoint: string,
    eventTime: number,
    source: ChannelSource,
    loaded: LoadedRecord | undefined,
  ): ApplyOutcome {
    if (this.journal !== undefined) {
      this.record({ kind: 'open', pubkey, channelPoint, time: eventTime, source, loaded });
    }
    const existing = this.channelIndex.get(channelPoint);
    if (existing !== undefined) {
      // The start-up list repeats channels already opened by events: not an error.
      if (source === 'bootstrap' && existing.peer.pubkey === pubkey) return 'applied';
      return this.rejectDuplicate(pubkey, channelPoint);
    }
    // An earlier open of this channel point waits for its peer's record read.
    if (this.reservedByOther(channelPoint, pubkey))
      return this.rejectDuplicate(pubkey, channelPoint);
    this.endGapIfDue(eventTime);
    this.dirty?.add(pubkey);
    const time = this.advance(pubkey, eventTime);
    let monitor = this.monitors.get(pubkey);
    if (monitor === undefined) {
      monitor = new PeerMonitor(
        pubkey,
        loaded?.record,
        time,
        loaded?.merged ?? true,
        this.observation,
      );
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

  private reservedByOther(channelPoint: string, pubkey: string): boolean {
    if (this.reserved.size === 0) return false;
    const peer = this.reserved.get(channelPoint);
    return peer !== undefined && peer !== pubkey;
  }

  private rejectDuplicate(pubkey: string, channelPoint: string): 'duplicate_channel' {
    this.config.observer?.rejected?.(
      'duplicate_channel',
      pubkey,
      channelPoint,
      `channel ${channelPoint} already present`,
    );
    return 'duplicate_channel';
  }

  private applyClose(pubkey: string, channelPoint: string, eventTime: number): ApplyOutcome {
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

  private applyPeer(pubkey: string, online: boolean, eventTime: number): void {
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

  /** The time to apply a peer's event at: never before its latest applied event. */
  private advance(pubkey: string, eventTime: number): number {
    const state = this.peerStates.get(pubkey);
    if (state === undefined) {
      this.peerStates.set(pubkey, { online: undefined, latest: eventTime, monitor: undefined });
      if (eventTime > this.latestApplied) this.latestApplied = eventTime;
      return eventTime;
    }
    return this.advanceState(state, pubkey, eventTime);
  }

  private advanceState(state: PeerState, pubkey: string, eventTime: number): number {
    if (eventTime >= state.latest) {
      state.latest = eventTime;
      if (eventTime > this.latestApplied) this.latestApplied = eventTime;
      return eventTime;
    }
    this.reorderedCount += 1;
    this.config.observer?.reordered?.(pubkey, eventTime, state.latest);
    return state.latest;
  }
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(Math.max(value, lo), hi);
}
