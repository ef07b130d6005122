import { StoreError } from './errors.js';
import { ALWAYS_OBSERVED, type ObservedTime } from './node-observation.js';
import { TimeDirectory } from './time-directory.js';

/** Capacity of the arrays at the first commit; they start empty (most peers log little). */
const INITIAL_CAPACITY = 4;

/** A time and a cumulative online time (float64 each) and a kind (one byte). */
const BYTES_PER_EVENT = 17;

/**
 * Logs shorter than this are searched by plain binary search (ten steps at
 * most): a directory's fixed cost (a few hundred bytes) is not worth it there.
 */
const DIRECTORY_MIN_EVENTS = 1024;

/** Restored logs' buffers are about this size (see LogColumns.columnsFor). */
const COLUMN_CHUNK_BYTES = 1 << 20;

/** Event kinds as `kinds` holds them; NONE (for a staged event) is no kind of a committed one. */
export const OFFLINE = 0;
export const ONLINE = 1;
export const NONE = 2;

/** One peer online/offline observation. */
export interface OnlineEvent {
  readonly time: number;
  readonly online: boolean;
}

/** Committed events of a log as plain columns: what persistence writes and restores. */
export interface LogEvents {
  readonly times: Float64Array;
  /** 1 online, 0 offline. */
  readonly kinds: Uint8Array;
}

/** Shared by every log with nothing committed: never written (grow() replaces them first). */
const EMPTY_TIMES = new Float64Array(0);
const EMPTY_KINDS = new Uint8Array(0);

/**
 * The committed events of a peer's log (see OnlineLog), as columns: for
 * every event i its time, its kind and the total online time from the log's
 * first event up to it (`cum`), so that the online time up to any instant is
 * one search away. Events are only appended (commit), counted again from an
 * instant on when the node's observation changed there (recountFrom), and
 * dropped from the front once no figure needs them (compactBefore).
 *
 * For long logs, a time directory (TimeDirectory) replaces the binary search
 * by a lookup in the bucket of the instant: O(1) on average.
 *
 * Memory: 17 bytes per committed event (two float64 and one byte), in one
 * buffer that doubles when full, plus about half a byte per event for the
 * directory of a long log once it is searched.
 */
export class LogColumns {
  protected times: Float64Array = EMPTY_TIMES;
  protected cum: Float64Array = EMPTY_TIMES;
  protected kinds: Uint8Array = EMPTY_KINDS;
  protected n = 0;
  /** First index of the online run the committed events end with; -1 when they end offline. */
  protected committedRunStart = -1;
  /** Built on the first search of a long log, then kept up to date by the searches. */
  private directory: TimeDirectory | undefined;
  /** Events when a directory could last not be built: retried once they have doubled. */
  private directoryFailedAt = 0;
  /** Committed events compacted away before times[0]: absolute index of times[0]. */
  protected offset = 0;

  /**
   * @param observation when the peer's node was observed: online time is
   *   counted outside its gaps only (with none, exactly as lnd counts it).
   */
  constructor(protected readonly observation: ObservedTime = ALWAYS_OBSERVED) {}

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
   * Takes persisted events (from absolute index `offset`) as the committed
   * ones, their running online total at the first one being `cumBase`. The
   * totals are recomputed by the same additions commit() made, so every
   * figure equals the original's. INVALID_STATE when their times run backwards.
   */
  protected loadColumns(events: LogEvents, offset: number, cumBase: number): void {
    const n = events.times.length;
    this.offset = offset;
    if (n === 0) return;
    if (!this.adopt(events)) {
      this.allocate(capacityFor(n));
      this.times.set(events.times);
      this.kinds.set(events.kinds);
    }
    const { times, cum, kinds } = this;
    const observation = this.observation;
    let total = cumBase;
    let runStart = -1;
    for (let i = 0; i < n; i++) {
      const time = times[i] as number;
      if (i > 0) {
        const prev = times[i - 1] as number;
        if (!(time >= prev)) throw new StoreError('INVALID_STATE', 'log event times run backwards');
        // The same addition commit() makes.
        if (kinds[i - 1] === ONLINE) total += observation.observedBetween(prev, time);
      }
      cum[i] = total;
      const kind = kinds[i] === ONLINE ? ONLINE : OFFLINE;
      kinds[i] = kind;
      if (kind !== ONLINE) runStart = -1;
      else if (runStart < 0) runStart = i;
    }
    this.committedRunStart = runStart;
    this.n = n;
  }

  /** Takes columns made by LogColumns.columnsFor() as its own; false for any others. */
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

  /** Time of the first retained committed event; undefined with none. */
  get firstTime(): number | undefined {
    return this.n > 0 ? this.times[0] : undefined;
  }

  /** Bytes held by the committed log's arrays (and its time directory, once built). */
  get byteSize(): number {
    return this.times.buffer.byteLength + (this.directory?.byteSize ?? 0);
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

  /** Committed events, oldest first (a copy; for tests and diagnostics). */
  committed(): OnlineEvent[] {
    const out: OnlineEvent[] = [];
    for (let i = 0; i < this.n; i++) {
      out.push({ time: this.times[i] as number, online: this.kinds[i] === ONLINE });
    }
    return out;
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

  /** Drops every committed event. */
  protected clearColumns(): void {
    this.times = EMPTY_TIMES;
    this.cum = EMPTY_TIMES;
    this.kinds = EMPTY_KINDS;
    this.n = 0;
    this.committedRunStart = -1;
    this.directory = undefined;
    this.directoryFailedAt = 0;
    this.offset = 0;
  }

  /**
   * Index of the latest committed event with time <= t, or -1: through the
   * time directory for a long log, by binary search on the times otherwise.
   */
  protected committedAtOrBefore(t: number): number {
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

  /** Appends a committed event, its running total from the one before it. */
  protected commit(time: number, kind: number): void {
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

/** A restored log's capacity: its events and an eighth more to grow into. */
function capacityFor(n: number): number {
  return Math.max(INITIAL_CAPACITY, n + (n >>> 3));
}

/** Bytes of a log's region of this capacity in a shared buffer, a multiple of 8 (float64 alignment). */
function regionBytes(capacity: number): number {
  return Math.ceil((capacity * BYTES_PER_EVENT) / 8) * 8;
}
