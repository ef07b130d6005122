import { StoreError } from './errors.js';
import { ALWAYS_OBSERVED, type ObservedTime } from './node-observation.js';
import { TimeDirectory } from './time-directory.js';

/** One peer online/offline observation. */
export interface OnlineEvent {
  readonly time: number;
  readonly online: boolean;
}

/**
 * Where a caller keeps the online time up to one instant of a log (a channel's
 * opening), once later events make it final: channel info then costs O(1).
 */
export interface OnlineMemo {
  /** The log generation the value belongs to; -1 while there is none. */
  memoGeneration: number;
  memoValue: number;
}

/** A span during which the peer was online; `ongoing` when it runs until now. */
export interface OnlinePeriod {
  readonly start: number;
  readonly end: number;
  readonly ongoing: boolean;
}

/** Capacity of the arrays at the first commit; they start empty (most peers log little). */
const INITIAL_CAPACITY = 4;

/** A time and a cumulative online time (float64 each) and a kind (one byte). */
const BYTES_PER_EVENT = 17;

/**
 * Logs shorter than this are searched by plain binary search (ten steps at
 * most): a directory's fixed cost (a few hundred bytes) is not worth it there.
 */
const DIRECTORY_MIN_EVENTS = 1024;

/** `stagedKind` values: offline and online as in `kinds`, and nothing staged. */
const OFFLINE = 0;
const ONLINE = 1;
const NONE = 2;

/** Committed events of a log as plain columns: what persistence writes and restores. */
export interface LogEvents {
  readonly times: Float64Array;
  /** 1 online, 0 offline. */
  readonly kinds: Uint8Array;
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

/** Shared by every log with nothing committed: never written (grow() replaces them first). */
const EMPTY_TIMES = new Float64Array(0);
const EMPTY_KINDS = new Uint8Array(0);

/**
 * A peer's event log: committed events plus at most one staged event, exactly
 * as lnd's peerLog keeps them, stored so that uptime over any window costs
 * O(log n) at most instead of a rescan.
 *
 * For every committed event i we keep its time, its kind and the total online
 * time from the first event up to it (`cum`). The online state at any instant is
 * the kind of the latest event at or before it (repeated events of one kind
 * change nothing, so the earliest one opens a period), hence the online time up
 * to t is cum[k] plus, if event k is online, t - time[k], where k is found by
 * binary search. The online run the sequence ends with (the staged event
 * included) is one period that runs until now, as in lnd.
 *
 * For long logs, a time directory (TimeDirectory) replaces the binary search
 * by a lookup in the bucket of the instant: O(1) on average.
 *
 * Memory: 17 bytes per committed event (two float64 and one byte), in one
 * buffer that doubles when full, plus about half a byte per event for the
 * directory of a long log once it is searched. The staged event is two
 * fields, not an object, so that a flapping peer's events allocate nothing.
 */
export class OnlineLog {
  private times: Float64Array = EMPTY_TIMES;
  private cum: Float64Array = EMPTY_TIMES;
  private kinds: Uint8Array = EMPTY_KINDS;
  private n = 0;
  /** First index of the online run the committed events end with; -1 when they end offline. */
  private committedRunStart = -1;
  private stagedTime = 0;
  /** OFFLINE, ONLINE, or NONE when nothing is staged. */
  private stagedKind = NONE;
  /** Bumped by clear(), so that memos of the dropped events are not used again. */
  private generation = 0;
  /** Built on the first search of a long log, then kept up to date by the searches. */
  private directory: TimeDirectory | undefined;
  /** Events when a directory could last not be built: retried once they have doubled. */
  private directoryFailedAt = 0;
  /** Committed events compacted away before times[0]: absolute index of times[0]. */
  private offset = 0;

  /**
   * @param observation when the peer's node was observed: online time is
   *   counted outside its gaps only (with none, exactly as lnd counts it).
   */
  constructor(private readonly observation: ObservedTime = ALWAYS_OBSERVED) {}

  /**
   * Columns for logs of these numbers of committed events, each laid out as a
   * log keeps them (room to grow): events decoded into them are adopted by
   * restore() without a copy. They are carved from buffers of about
   * COLUMN_CHUNK_BYTES: a restore of tens of thousands of logs makes a few
   * dozen allocations outside the V8 heap, not one per log (each of which
   * V8 weighs, and answers with collections, when many come at once). A
   * chunk is freed once every log carved from it has grown out of it.
   */
  static columnsFor(counts: readonly number[]): LogEvents[] {
    const out: LogEvents[] = [];
    let i = 0;
    while (i < counts.length) {
      let bytes = 0;
      let j = i;
      do bytes += regionBytes(capacityFor(counts[j++] as number));
      while (j < counts.length && bytes < COLUMN_CHUNK_BYTES);
      const buffer = new ArrayBuffer(bytes);
      let at = 0;
      for (; i < j; i++) {
        const n = counts[i] as number;
        const capacity = capacityFor(n);
        out.push({
          times: new Float64Array(buffer, at, n),
          kinds: new Uint8Array(buffer, at + capacity * 16, n),
        });
        at += regionBytes(capacity);
      }
    }
    return out;
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
    log.offset = header.offset;
    if (n > 0) {
      if (!log.adopt(events)) {
        log.allocate(capacityFor(n));
        log.times.set(events.times);
        log.kinds.set(events.kinds);
      }
      const { times, cum, kinds } = log;
      let total = header.cumBase;
      let runStart = -1;
      for (let i = 0; i < n; i++) {
        const time = times[i] as number;
        if (i > 0) {
          const prev = times[i - 1] as number;
          if (!(time >= prev))
            throw new StoreError('INVALID_STATE', 'log event times run backwards');
          // The same addition commit() makes.
          if (kinds[i - 1] === ONLINE) total += observation.observedBetween(prev, time);
        }
        cum[i] = total;
        const kind = kinds[i] === ONLINE ? ONLINE : OFFLINE;
        kinds[i] = kind;
        if (kind !== ONLINE) runStart = -1;
        else if (runStart < 0) runStart = i;
      }
      log.committedRunStart = runStart;
      log.n = n;
    }
    if (header.staged !== undefined) {
      log.stagedTime = header.staged.time;
      log.stagedKind = header.staged.online ? ONLINE : OFFLINE;
    }
    return log;
  }

  /** Takes columns made by OnlineLog.columnsFor() as its own; false for any others. */
  private adopt(events: LogEvents): boolean {
    const { times, kinds } = events;
    const buffer = times.buffer;
    if (!(buffer instanceof ArrayBuffer) || kinds.buffer !== buffer) return false;
    const at = times.byteOffset;
    const capacity = (kinds.byteOffset - at) / 16;
    if (
      !Number.isInteger(capacity) ||
      capacity < times.length ||
      at + capacity * BYTES_PER_EVENT > buffer.byteLength
    ) {
      return false;
    }
    this.times = new Float64Array(buffer, at, capacity);
    this.cum = new Float64Array(buffer, at + capacity * 8, capacity);
    this.kinds = new Uint8Array(buffer, at + capacity * 16, capacity);
    return true;
  }

  /** Number of committed events (the staged event is not counted). */
  get committedCount(): number {
    return this.n;
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

  /** Time of the first retained committed event; undefined with none. */
  get firstTime(): number | undefined {
    return this.n > 0 ? this.times[0] : undefined;
  }

  /**
   * The committed events with absolute indices in [from, to), clamped to those
   * retained, as views of the log's own arrays: valid until the log changes.
   */
  eventsView(from: number, to: number): LogEvents {
    const lo = Math.max(0, from - this.offset);
    const hi = Math.max(lo, Math.min(this.n, to - this.offset));
    return { times: this.times.subarray(lo, hi), kinds: this.kinds.subarray(lo, hi) };
  }

  /**
   * Drops the committed events that no instant at or after the horizon
   * depends on: every one before the latest event at or before it (whose
   * state holds at the horizon), and never one of the online run the log
   * ends with (the trailing period is measured from its first event). The
   * running totals of the events kept are untouched, so online time up to any
   * instant from the horizon on is exactly what it was. Returns how many
   * events were dropped.
   */
  compactBefore(horizon: number): number {
    const n = this.n;
    if (n < 2 || (this.times[1] as number) > horizon) return 0;
    let k = this.committedAtOrBefore(horizon);
    if (this.committedRunStart >= 0) k = Math.min(k, this.committedRunStart);
    if (k <= 0) return 0;
    const kept = n - k;
    if (kept * 4 <= this.times.length && this.times.length > INITIAL_CAPACITY) {
      // Much smaller now: give the memory back (retention bounds a long-running store).
      const times = this.times;
      const cum = this.cum;
      const kinds = this.kinds;
      let capacity = INITIAL_CAPACITY;
      while (capacity < kept * 2) capacity *= 2;
      this.allocate(capacity);
      this.times.set(times.subarray(k, n));
      this.cum.set(cum.subarray(k, n));
      this.kinds.set(kinds.subarray(k, n));
    } else {
      this.times.copyWithin(0, k, n);
      this.cum.copyWithin(0, k, n);
      this.kinds.copyWithin(0, k, n);
    }
    this.n = kept;
    this.offset += k;
    if (this.committedRunStart >= 0) this.committedRunStart -= k;
    this.directory = undefined;
    this.directoryFailedAt = 0;
    return k;
  }

  /** Committed events, oldest first (a copy; for tests and diagnostics). */
  committed(): OnlineEvent[] {
    const out: OnlineEvent[] = [];
    for (let i = 0; i < this.n; i++) {
      out.push({ time: this.times[i] as number, online: this.kinds[i] === ONLINE });
    }
    return out;
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
    this.times = EMPTY_TIMES;
    this.cum = EMPTY_TIMES;
    this.kinds = EMPTY_KINDS;
    this.n = 0;
    this.committedRunStart = -1;
    this.stagedTime = 0;
    this.stagedKind = NONE;
    this.generation += 1;
    this.directory = undefined;
    this.directoryFailedAt = 0;
    this.offset = 0;
  }

  /** Bytes held by the committed log's arrays (and its time directory, once built). */
  get byteSize(): number {
    return this.times.buffer.byteLength + (this.directory?.byteSize ?? 0);
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
    return this.runs(from, to, now, true);
  }

  /**
   * The offline periods overlapping [from, to], clipped to it, oldest first,
   * as periods() lists the online ones (the log's span only: nothing before
   * its first event). At most `limit` of them.
   */
  offlinePeriods(from: number, to: number, now: number, limit = Infinity): OnlinePeriod[] {
    return this.runs(from, to, now, false, limit);
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

  /**
   * Counts the running totals again from `from` on: the node's observation
   * changed there (a gap found to have started earlier than events already
   * counted). Events at or before it keep their totals.
   */
  recountFrom(from: number): void {
    const { times, cum, kinds } = this;
    let i = Math.max(1, this.committedAtOrBefore(from) + 1);
    for (; i < this.n; i++) {
      const prev = i - 1;
      let total = cum[prev] as number;
      if (kinds[prev] === ONLINE) {
        total += this.observation.observedBetween(times[prev] as number, times[i] as number);
      }
      cum[i] = total;
    }
  }

  /** Runs of one state (online when `want`) overlapping [from, to], split by the node's gaps. */
  private runs(
    from: number,
    to: number,
    now: number,
    want: boolean,
    limit = Infinity,
  ): OnlinePeriod[] {
    const out: OnlinePeriod[] = [];
    const m = this.length;
    if (m === 0 || to < from) return out;
    const push = (start: number, end: number, ongoing: boolean): void => {
      const s = Math.max(start, from);
      const e = Math.min(end, to);
      if (!(e > s || (ongoing && e === s))) return;
      this.observation.observedParts(s, e, (ps, pe) => {
        if (out.length < limit) out.push({ start: ps, end: pe, ongoing: ongoing && pe === e });
      });
    };
    // Start from the latest event at or before `from` (its state holds at `from`).
    let i = Math.max(0, this.lastAtOrBefore(from));
    let openSince = 0;
    let open = false;
    for (; i < m && out.length < limit; i++) {
      const t = this.timeAt(i);
      if (t > to) break;
      const match = this.kindAt(i) === want;
      if (match && !open) {
        openSince = t;
        open = true;
      } else if (!match && open) {
        push(openSince, t, false);
        open = false;
      }
    }
    if (open && out.length < limit) {
      // Open at the window's end: it closes at the next event of the other state, else runs until now.
      let j = i;
      while (j < m && this.kindAt(j) === want) j++;
      if (j < m) push(openSince, this.timeAt(j), false);
      else {
        const until = Math.max(now, openSince);
        push(openSince, until, until <= to);
      }
    }
    return out;
  }

  /**
   * At least as many as periods(from, to, now) returns, in O(log n): each of
   * those periods starts at an event between the latest at or before `from`
   * and the latest at or before `to`.
   */
  periodsBound(from: number, to: number): number {
    if (this.length === 0 || to < from) return 0;
    // Each gap inside the window can split one period in two.
    return (
      this.lastAtOrBefore(to) -
      Math.max(0, this.lastAtOrBefore(from)) +
      1 +
      this.observation.gapsBound(from, to)
    );
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
  private get length(): number {
    return this.n + (this.stagedKind === NONE ? 0 : 1);
  }

  private timeAt(i: number): number {
    return i < this.n ? (this.times[i] as number) : this.stagedTime;
  }

  private kindAt(i: number): boolean {
    return (i < this.n ? this.kinds[i] : this.stagedKind) === ONLINE;
  }

  /** Index in the sequence of the latest event with time <= t, or -1. Ties resolve to the last. */
  private lastAtOrBefore(t: number): number {
    if (this.stagedKind !== NONE && this.stagedTime <= t) return this.n;
    return this.committedAtOrBefore(t);
  }

  /**
   * Index of the latest committed event with time <= t, or -1: through the
   * time directory for a long log, by binary search on the times otherwise.
   */
  private committedAtOrBefore(t: number): number {
    const times = this.times;
    const n = this.n;
    if (n === 0 || (times[0] as number) > t) return -1;
    let hi = n - 1;
    if ((times[hi] as number) <= t) return hi;
    if (n >= DIRECTORY_MIN_EVENTS) {
      const current = this.directory;
      const directory = current !== undefined && current.size === n ? current : this.directoryOf(n);
      if (directory !== undefined) return directory.find(times, n, t);
    }
    let lo = 0; // times[lo] <= t < times[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if ((times[mid] as number) <= t) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** The time directory brought up to n events, built or rebuilt when needed. */
  private directoryOf(n: number): TimeDirectory | undefined {
    const current = this.directory;
    if (current !== undefined && current.extend(this.times, n)) return current;
    this.directory = undefined;
    if (n < 2 * this.directoryFailedAt) return undefined;
    this.directory = TimeDirectory.build(this.times, n);
    if (this.directory === undefined) this.directoryFailedAt = n;
    return this.directory;
  }

  private commit(time: number, kind: number): void {
    if (this.n === this.times.length) this.grow();
    const i = this.n;
    let total = 0;
    if (i > 0) {
      const prev = i - 1;
      total = this.cum[prev] as number;
      if (this.kinds[prev] === ONLINE) {
        total += this.observation.observedBetween(this.times[prev] as number, time);
      }
    }
    this.times[i] = time;
    this.cum[i] = total;
    this.kinds[i] = kind;
    if (kind !== ONLINE) this.committedRunStart = -1;
    else if (this.committedRunStart < 0) this.committedRunStart = i;
    this.n = i + 1;
  }

  /**
   * Doubles the capacity (from 4). Finer steps (1.5x, 1.25x) leave less unused
   * tail but were measured to cost more RSS than they save: every step frees
   * the old buffer, and malloc keeps most of those chunks. The three arrays
   * are views of one buffer, so that a log is one allocation outside the V8
   * heap, not three.
   */
  private grow(): void {
    const times = this.times;
    const cum = this.cum;
    const kinds = this.kinds;
    this.allocate(Math.max(INITIAL_CAPACITY, times.length * 2));
    this.times.set(times);
    this.cum.set(cum);
    this.kinds.set(kinds);
  }

  /** New empty arrays of this capacity, views of one buffer. */
  private allocate(capacity: number): void {
    const buffer = new ArrayBuffer(capacity * BYTES_PER_EVENT);
    this.times = new Float64Array(buffer, 0, capacity);
    this.cum = new Float64Array(buffer, capacity * 8, capacity);
    this.kinds = new Uint8Array(buffer, capacity * 16, capacity);
  }
}

/** Restored logs' buffers are about this size (see OnlineLog.columnsFor). */
const COLUMN_CHUNK_BYTES = 1 << 20;

/** A restored log's capacity: its events and an eighth more to grow into. */
function capacityFor(n: number): number {
  return Math.max(INITIAL_CAPACITY, n + (n >>> 3));
}

/** Bytes of a log's region of this capacity in a shared buffer, a multiple of 8 (float64 alignment). */
function regionBytes(capacity: number): number {
  return Math.ceil((capacity * BYTES_PER_EVENT) / 8) * 8;
}
