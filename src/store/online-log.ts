import { StoreError } from './errors.js';

/** One peer online/offline observation. */
export interface OnlineEvent {
  readonly time: number;
  readonly online: boolean;
}

/** A span during which the peer was online; `ongoing` when it runs until now. */
export interface OnlinePeriod {
  readonly start: number;
  readonly end: number;
  readonly ongoing: boolean;
}

const INITIAL_CAPACITY = 4;

/**
 * A peer's event log: committed events plus at most one staged event, exactly
 * as lnd's peerLog keeps them, stored so that uptime over any window costs
 * O(log n) instead of a rescan.
 *
 * For every committed event i we keep its time, its kind and the total online
 * time from the first event up to it (`cum`). The online state at any instant is
 * the kind of the latest event at or before it (repeated events of one kind
 * change nothing, so the earliest one opens a period), hence the online time up
 * to t is cum[k] plus, if event k is online, t - time[k], where k is found by
 * binary search. The online run the sequence ends with (the staged event
 * included) is one period that runs until now, as in lnd.
 *
 * Memory: 17 bytes per committed event (two float64 and one byte), in typed
 * arrays that grow by doubling.
 */
export class OnlineLog {
  private times = new Float64Array(INITIAL_CAPACITY);
  private cum = new Float64Array(INITIAL_CAPACITY);
  private kinds = new Uint8Array(INITIAL_CAPACITY);
  private n = 0;
  /** First index of the online run the committed events end with; -1 when they end offline. */
  private committedRunStart = -1;
  private stagedEvent: OnlineEvent | undefined;

  /** Number of committed events (the staged event is not counted). */
  get committedCount(): number {
    return this.n;
  }

  get staged(): OnlineEvent | undefined {
    return this.stagedEvent;
  }

  /** Committed events, oldest first (a copy; for tests and diagnostics). */
  committed(): OnlineEvent[] {
    const out: OnlineEvent[] = [];
    for (let i = 0; i < this.n; i++) out.push(this.eventAt(i));
    return out;
  }

  /**
   * lnd's addEvent: a new event with nothing staged becomes the staged event;
   * otherwise the staged event is committed only when the new one is strictly
   * later than staged.time + limit, and the new event replaces it.
   */
  add(event: OnlineEvent, limitMs: number): void {
    const staged = this.stagedEvent;
    if (staged !== undefined && event.time > staged.time + limitMs) this.commit(staged);
    this.stagedEvent = event;
  }

  /** Drops every event (the peer's last channel closed). */
  clear(): void {
    this.times = new Float64Array(INITIAL_CAPACITY);
    this.cum = new Float64Array(INITIAL_CAPACITY);
    this.kinds = new Uint8Array(INITIAL_CAPACITY);
    this.n = 0;
    this.committedRunStart = -1;
    this.stagedEvent = undefined;
  }

  /** Bytes held by the committed log's arrays. */
  get byteSize(): number {
    return this.times.byteLength + this.cum.byteLength + this.kinds.byteLength;
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
   * The online periods overlapping [from, to], clipped to it, oldest first. Costs
   * O(log n) plus the number of events inside the window.
   */
  periods(from: number, to: number, now: number): OnlinePeriod[] {
    const out: OnlinePeriod[] = [];
    const m = this.length;
    if (m === 0 || to < from) return out;
    // Start from the latest event at or before `from` (its state holds at `from`).
    let i = Math.max(0, this.lastAtOrBefore(from));
    let openSince: number | undefined;
    for (; i < m; i++) {
      const t = this.timeAt(i);
      if (t > to) break;
      const online = this.kindAt(i);
      if (online && openSince === undefined) openSince = t;
      else if (!online && openSince !== undefined) {
        pushClipped(out, openSince, t, from, to, false);
        openSince = undefined;
      }
    }
    if (openSince !== undefined) {
      // Open at the window's end: it closes at the next offline event, else runs until now.
      let end: number | undefined;
      for (let j = i; j < m && end === undefined; j++) if (!this.kindAt(j)) end = this.timeAt(j);
      if (end !== undefined) pushClipped(out, openSince, end, from, to, false);
      else {
        const until = Math.max(now, openSince);
        pushClipped(out, openSince, until, from, to, until <= to);
      }
    }
    return out;
  }

  /** Total online time from the first event up to t (the trailing period stops at now). */
  private onlineUntil(t: number, now: number): number {
    // In lnd the sequence's final online run is one period, from its first event to now.
    const r = this.trailingRunStart();
    if (r >= 0 && t >= this.timeAt(r)) {
      return this.cumAt(r) + Math.max(0, Math.min(t, now) - this.timeAt(r));
    }
    const k = this.lastAtOrBefore(t);
    if (k < 0) return 0;
    const base = this.cumAt(k);
    return this.kindAt(k) ? base + (t - this.timeAt(k)) : base;
  }

  /** First index of the online run the whole sequence ends with; -1 when it ends offline. */
  private trailingRunStart(): number {
    const staged = this.stagedEvent;
    if (staged === undefined) return this.committedRunStart;
    if (!staged.online) return -1;
    return this.committedRunStart >= 0 ? this.committedRunStart : this.n;
  }

  /** Events in the sequence: committed plus staged. */
  private get length(): number {
    return this.n + (this.stagedEvent === undefined ? 0 : 1);
  }

  private timeAt(i: number): number {
    return i < this.n ? (this.times[i] ?? 0) : (this.stagedEvent?.time ?? 0);
  }

  private kindAt(i: number): boolean {
    return i < this.n ? this.kinds[i] === 1 : (this.stagedEvent?.online ?? false);
  }

  private cumAt(i: number): number {
    if (i < this.n) return this.cum[i] ?? 0;
    // The staged event: extend the last committed event's total to its time.
    if (this.n === 0) return 0;
    const last = this.n - 1;
    const lastCum = this.cum[last] ?? 0;
    return this.kinds[last] === 1
      ? lastCum + (this.timeAt(this.n) - (this.times[last] ?? 0))
      : lastCum;
  }

  private eventAt(i: number): OnlineEvent {
    return { time: this.timeAt(i), online: this.kindAt(i) };
  }

  /** Index of the latest event with time <= t, or -1. Ties resolve to the last of them. */
  private lastAtOrBefore(t: number): number {
    const m = this.length;
    if (m === 0 || this.timeAt(0) > t) return -1;
    if (this.timeAt(m - 1) <= t) return m - 1;
    let lo = 0;
    let hi = m - 1; // timeAt(lo) <= t < timeAt(hi)
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (this.timeAt(mid) <= t) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  private commit(event: OnlineEvent): void {
    if (this.n === this.times.length) this.grow();
    const i = this.n;
    let total = 0;
    if (i > 0) {
      const prev = i - 1;
      total = this.cum[prev] ?? 0;
      if (this.kinds[prev] === 1) total += event.time - (this.times[prev] ?? 0);
    }
    this.times[i] = event.time;
    this.cum[i] = total;
    this.kinds[i] = event.online ? 1 : 0;
    if (!event.online) this.committedRunStart = -1;
    else if (this.committedRunStart < 0) this.committedRunStart = i;
    this.n = i + 1;
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const times = new Float64Array(capacity);
    const cum = new Float64Array(capacity);
    const kinds = new Uint8Array(capacity);
    times.set(this.times);
    cum.set(this.cum);
    kinds.set(this.kinds);
    this.times = times;
    this.cum = cum;
    this.kinds = kinds;
  }
}

function pushClipped(
  out: OnlinePeriod[],
  start: number,
  end: number,
  from: number,
  to: number,
  ongoing: boolean,
): void {
  const s = Math.max(start, from);
  const e = Math.min(end, to);
  if (e > s || (ongoing && e === s)) out.push({ start: s, end: e, ongoing });
}
