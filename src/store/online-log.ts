import { StoreError } from './errors.js';
import { ALWAYS_OBSERVED, type ObservedTime } from './node-observation.js';
import {
  LogColumns,
  NONE,
  OFFLINE,
  ONLINE,
  type LogEvents,
  type OnlineEvent,
} from './log-columns.js';
import { runsBound, runsOf, type EventSequence, type OnlinePeriod } from './online-runs.js';

export type { LogEvents, OnlineEvent } from './log-columns.js';
export type { OnlinePeriod } from './online-runs.js';

/**
 * Where a caller keeps the online time up to one instant of a log (a channel's
 * opening), once later events make it final: channel info then costs O(1).
 */
export interface OnlineMemo {
  /** The log generation the value belongs to; -1 while there is none. */
  memoGeneration: number;
  memoValue: number;
}

/** Everything of a log but its events: what persistence needs to place and rebuild them. */
export interface LogHeader {
  /** Bumped when the log is cleared (its last channel closed): events of another epoch are another log. */
  readonly epoch: number;
  /** Absolute index of the first retained committed event (events before it were compacted away). */
  readonly offset: number;
  /** Absolute index after the last committed event. */
  readonly end: number;
  /** Online time up to the first retained event, from the log's first event (its running total). */
  readonly cumBase: number;
  readonly staged: OnlineEvent | undefined;
}

/**
 * A peer's event log: committed events plus at most one staged event, exactly
 * as lnd's peerLog keeps them, stored so that uptime over any window costs
 * O(log n) at most instead of a rescan.
 *
 * For every committed event i we keep its time, its kind and the total online
 * time from the first event up to it (`cum`; see LogColumns). The online state at any instant is
 * the kind of the latest event at or before it (repeated events of one kind
 * change nothing, so the earliest one opens a period), hence the online time up
 * to t is cum[k] plus, if event k is online, t - time[k], where k is found by
 * binary search. The online run the sequence ends with (the staged event
 * included) is one period that runs until now, as in lnd.
 *
 * The staged event is two fields, not an object, so that a flapping peer's
 * events allocate nothing.
 */
export class OnlineLog extends LogColumns implements EventSequence {
  private stagedTime = 0;
  /** OFFLINE, ONLINE, or NONE when nothing is staged. */
  private stagedKind = NONE;
  /** Bumped by clear(), so that memos of the dropped events are not used again. */
  private generation = 0;

  /**
   * @param observation when the peer's node was observed: online time is
   *   counted outside its gaps only (with none, exactly as lnd counts it).
   */
  constructor(observation: ObservedTime = ALWAYS_OBSERVED) {
    super(observation);
  }

  /**
   * A log rebuilt from persisted state: the retained committed events (from
   * absolute index header.offset), their running online total at the first
   * one, and the staged event. The totals are recomputed by the same
   * additions commit() made, so every figure equals the original's.
   */
  static restore(
    header: LogHeader,
    events: LogEvents,
    observation: ObservedTime = ALWAYS_OBSERVED,
  ): OnlineLog {
    const log = new OnlineLog(observation);
    const n = events.times.length;
    if (events.kinds.length !== n || header.end - header.offset !== n) {
      throw new StoreError('INVALID_STATE', 'log events do not match their header');
    }
    log.generation = header.epoch;
    log.loadColumns(events, header.offset, header.cumBase);
    if (header.staged !== undefined) {
      log.stagedTime = header.staged.time;
      log.stagedKind = header.staged.online ? ONLINE : OFFLINE;
    }
    return log;
  }

  /** The staged event (a copy), or undefined. */
  get staged(): OnlineEvent | undefined {
    return this.stagedKind === NONE
      ? undefined
      : { time: this.stagedTime, online: this.stagedKind === ONLINE };
  }

  /** The log's place and totals, without its events (see LogHeader). */
  header(): LogHeader {
    return {
      epoch: this.generation,
      offset: this.offset,
      end: this.offset + this.n,
      cumBase: this.n > 0 ? (this.cum[0] as number) : 0,
      staged: this.staged,
    };
  }

  /** How many times the log was cleared (its peer's channels all closed): 0 for a log kept since its start. */
  get epoch(): number {
    return this.generation;
  }

  /** add(time, online) for an event object. */
  add(event: OnlineEvent, limitMs: number): void {
    this.addEvent(event.time, event.online, limitMs);
  }

  /**
   * lnd's addEvent: a new event with nothing staged becomes the staged event;
   * otherwise the staged event is committed only when the new one is strictly
   * later than staged.time + limit, and the new event replaces it.
   */
  addEvent(time: number, online: boolean, limitMs: number): void {
    if (this.stagedKind !== NONE && time > this.stagedTime + limitMs) {
      this.commit(this.stagedTime, this.stagedKind);
    }
    this.stagedTime = time;
    this.stagedKind = online ? ONLINE : OFFLINE;
  }

  /** Drops every event (the peer's last channel closed). */
  clear(): void {
    this.clearColumns();
    this.stagedTime = 0;
    this.stagedKind = NONE;
    this.generation += 1;
  }

  /**
   * Total overlap of the online periods with [start, end]: lnd's uptime. An error
   * when end is before start or is the zero time.
   */
  uptime(start: number, end: number, now: number): number {
    if (end < start) {
      throw new StoreError(
        'INVALID_RANGE',
        `end time ${new Date(end).toISOString()} is before start time ${new Date(start).toISOString()}`,
      );
    }
    if (end === 0) throw new StoreError('INVALID_RANGE', 'zero end time');
    return this.onlineUntil(end, now) - this.onlineUntil(start, now);
  }

  /**
   * uptime(start, end, now) for a start that is asked for again and again (a
   * channel's opening): the online time up to start is kept in the memo once
   * it is final, that is once start is not after now and an event later than
   * start is committed (later events are appended after it and change neither
   * which event holds at start nor the totals up to it).
   */
  uptimeFrom(start: number, end: number, now: number, memo: OnlineMemo): number {
    if (end < start || end === 0) return this.uptime(start, end, now);
    let before: number;
    if (memo.memoGeneration === this.generation) {
      before = memo.memoValue;
    } else {
      before = this.onlineUntil(start, now);
      const n = this.n;
      if (start <= now && n > 0 && (this.times[n - 1] as number) > start) {
        memo.memoGeneration = this.generation;
        memo.memoValue = before;
      }
    }
    return this.onlineUntil(end, now) - before;
  }

  /** Sets a memo to a persisted final value (a channel restored with its log). */
  adoptMemo(memo: OnlineMemo, value: number): void {
    memo.memoGeneration = this.generation;
    memo.memoValue = value;
  }

  /** Whether the memo holds this log's final online time at its instant. */
  memoIsFinal(memo: OnlineMemo): boolean {
    return memo.memoGeneration === this.generation;
  }

  /** Online time from the first event up to now: what uptimeFromUntil takes. */
  onlineUntilNow(now: number): number {
    return this.onlineUntil(now, now);
  }

  /**
   * Online time from the first event up to t (the trailing period stops at
   * now): with onlineUntilNow(now), uptime(t, now, now) of many channels of
   * one peer costs one search for all of them.
   */
  onlineUntilAt(t: number, now: number): number {
    return this.onlineUntil(t, now);
  }

  /**
   * uptimeFrom(start, now, now, memo), given untilNow = onlineUntilNow(now) of
   * this log as it is: ranking many channels of one peer at one instant then
   * computes the peer's part once.
   */
  uptimeFromUntil(start: number, now: number, untilNow: number, memo: OnlineMemo): number {
    if (memo.memoGeneration === this.generation && now >= start && now !== 0) {
      return untilNow - memo.memoValue;
    }
    return this.uptimeFrom(start, now, now, memo);
  }

  /**
   * The online periods overlapping [from, to], clipped to it, oldest first. Costs
   * O(log n) plus the number of events inside the window.
   */
  periods(from: number, to: number, now: number): OnlinePeriod[] {
    return runsOf(this, this.observation, from, to, now, true);
  }

  /**
   * The offline periods overlapping [from, to], clipped to it, oldest first,
   * as periods() lists the online ones (the log's span only: nothing before
   * its first event). At most `limit` of them.
   */
  offlinePeriods(from: number, to: number, now: number, limit = Infinity): OnlinePeriod[] {
    return runsOf(this, this.observation, from, to, now, false, limit);
  }

  /**
   * At least as many as periods(from, to, now) returns, in O(log n) (see
   * runsBound).
   */
  periodsBound(from: number, to: number): number {
    return runsBound(this, this.observation, from, to);
  }

  /**
   * The state the sequence ends with (the staged event, else the last
   * committed one); undefined for an empty log.
   */
  get lastState(): boolean | undefined {
    if (this.stagedKind !== NONE) return this.stagedKind === ONLINE;
    return this.n === 0 ? undefined : this.kinds[this.n - 1] === ONLINE;
  }

  /** Time of the latest event of the sequence (staged included); undefined for an empty log. */
  get lastTime(): number | undefined {
    if (this.stagedKind !== NONE) return this.stagedTime;
    return this.n === 0 ? undefined : this.times[this.n - 1];
  }

  /** Total online time from the first event up to t (the trailing period stops at now). */
  private onlineUntil(t: number, now: number): number {
    const n = this.n;
    const stagedKind = this.stagedKind;
    // In lnd the sequence's final online run is one period, from its first event to now.
    const r =
      stagedKind === NONE
        ? this.committedRunStart
        : stagedKind === OFFLINE
          ? -1
          : this.committedRunStart >= 0
            ? this.committedRunStart
            : n;
    if (r >= 0) {
      const runTime = r < n ? (this.times[r] as number) : this.stagedTime;
      if (t >= runTime) {
        const runCum = r < n ? (this.cum[r] as number) : this.stagedCum();
        return runCum + this.observation.observedBetween(runTime, Math.min(t, now));
      }
    }
    if (stagedKind !== NONE && this.stagedTime <= t) {
      const base = this.stagedCum();
      return stagedKind === ONLINE
        ? base + this.observation.observedBetween(this.stagedTime, t)
        : base;
    }
    const k = this.committedAtOrBefore(t);
    if (k < 0) return 0;
    const base = this.cum[k] as number;
    return this.kinds[k] === ONLINE
      ? base + this.observation.observedBetween(this.times[k] as number, t)
      : base;
  }

  /** The staged event's total: the last committed event's, extended to its time when online. */
  private stagedCum(): number {
    const last = this.n - 1;
    if (last < 0) return 0;
    const lastCum = this.cum[last] as number;
    return this.kinds[last] === ONLINE
      ? lastCum + this.observation.observedBetween(this.times[last] as number, this.stagedTime)
      : lastCum;
  }

  /** Events in the sequence: committed plus staged. */
  get sequenceLength(): number {
    return this.n + (this.stagedKind === NONE ? 0 : 1);
  }

  timeAt(i: number): number {
    return i < this.n ? (this.times[i] as number) : this.stagedTime;
  }

  kindAt(i: number): boolean {
    return (i < this.n ? this.kinds[i] : this.stagedKind) === ONLINE;
  }

  /** Index in the sequence of the latest event with time <= t, or -1. Ties resolve to the last. */
  lastAtOrBefore(t: number): number {
    if (this.stagedKind !== NONE && this.stagedTime <= t) return this.n;
    return this.committedAtOrBefore(t);
  }
}
