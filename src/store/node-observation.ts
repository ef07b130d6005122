import {
  gapColumnsOf,
  type Gap,
  type GapColumns,
  type GapReason,
  type ObservationImage,
} from './observation-image.js';

export type { Gap, GapReason, ObservationImage } from './observation-image.js';

/** How observation is judged (--observer.timeout, --observer.settle), ms. */
export interface ObservationSettings {
  /** A node that ever sent a status is unobserved from its last one once none came for this long. */
  readonly timeoutMs: number;
  /** A gap ends this long after the node is back. */
  readonly settleMs: number;
}

export const DEFAULT_OBSERVATION: ObservationSettings = { timeoutMs: 60_000, settleMs: 120_000 };

/** What an event log asks of its node's observation: observed time between two instants. */
export interface ObservedTime {
  /** Time in [from, to] outside every gap (0 when to <= from). */
  observedBetween(from: number, to: number): number;
  /** Calls out with each part of [start, end] outside every gap, in order. */
  observedParts(start: number, end: number, out: (from: number, to: number) => void): void;
  /** At least the number of gaps overlapping [from, to], in O(log g). */
  gapsBound(from: number, to: number): number;
  /** Total unobserved time up to t (what a channel keeps of its opening). */
  unobservedUntil(t: number): number;
  /**
   * observedBetween(from, to) for a `from` whose unobservedUntil was kept
   * when it was final (a channel's opening): exact even once the gaps around
   * it are compacted away.
   */
  observedSince(from: number, unobservedAtFrom: number, to: number): number;
}

/**
 * When a node was observed: its gaps, with the running total of unobserved
 * time, so that observed time between any two instants costs O(log g) for g
 * gaps (O(1) when no gap is involved: the usual case, and always for a node
 * that never had one, which then counts time exactly as lnd does).
 *
 * A gap starts at a `down` status, at the last status once none came for the
 * timeout (for a node that ever sent one), or where the exporter stopped
 * writing (core NATS restart). It ends `settleMs` after the node is back (an
 * `up` status or a bootstrap reply): until then it is planned (`settling`)
 * and a new `down` or silence keeps it open. Gaps never overlap, oldest
 * first; only the last one may be open or settling.
 *
 * Pure and synchronous: times are given, never read from a clock.
 */
export class NodeObservation implements ObservedTime {
  private starts: number[] = [];
  /** Infinity while the last gap is open. */
  private ends: number[] = [];
  private reasons: GapReason[] = [];
  /** Unobserved time before each gap's start. */
  private before: number[] = [];
  private base = 0;
  /** End of the last gap compacted away: instants before it need a kept total. */
  private compactedUntil = -Infinity;
  private settling = false;
  private lastStatusAt: number | undefined;
  /** Bumped when the gaps change (not by heartbeats): what a snapshot needs to rewrite. */
  private gapVersion = 0;

  constructor(readonly settings: ObservationSettings = DEFAULT_OBSERVATION) {}

  /**
   * Takes the state of a persisted image, replacing its own (the object
   * stays: the node's logs hold it). INVALID_STATE, leaving it empty, when
   * the gaps overlap or run backwards.
   */
  load(image: ObservationImage | undefined): void {
    this.take(EMPTY_GAPS);
    this.gapVersion += 1;
    if (image !== undefined) this.take(gapColumnsOf(image));
  }

  /** A node's observation from its persisted image (checked as load() checks it). */
  static restore(image: ObservationImage, settings?: ObservationSettings): NodeObservation {
    const o = new NodeObservation(settings);
    o.take(gapColumnsOf(image));
    return o;
  }

  private take(columns: GapColumns): void {
    this.starts = [...columns.starts];
    this.ends = [...columns.ends];
    this.reasons = [...columns.reasons];
    this.before = [...columns.before];
    this.base = columns.base;
    this.compactedUntil = columns.compactedUntil;
    this.settling = columns.settling;
    this.lastStatusAt = columns.lastStatusAt;
  }

  image(): ObservationImage {
    return {
      base: this.base,
      compactedUntil: this.compactedUntil === -Infinity ? undefined : this.compactedUntil,
      gaps: this.starts.map((start, i) => this.gapAt(i)),
      settling: this.settling,
      lastStatus: this.lastStatusAt,
    };
  }

  /** Bumped whenever a gap starts, is planned to end, ends or is compacted. */
  get version(): number {
    return this.gapVersion;
  }

  /** True unless a gap lasts (open or settling). */
  get observed(): boolean {
    return this.starts.length === 0 || (this.lastEnd !== Infinity && !this.settling);
  }

  /** The node sent a status at least once. */
  get statusSeen(): boolean {
    return this.lastStatusAt !== undefined;
  }

  get lastStatus(): number | undefined {
    return this.lastStatusAt;
  }

  /** Gaps kept (compaction drops old ones). */
  get gapCount(): number {
    return this.starts.length;
  }

  /** When the settling gap ends (its end events are due), else Infinity. */
  get closesAt(): number {
    return this.settling ? this.lastEnd : Infinity;
  }

  /** Start of the last gap, or Infinity with none: instants before it need a search. */
  get lastStart(): number {
    const n = this.starts.length;
    return n === 0 ? Infinity : (this.starts[n - 1] as number);
  }

  // ---- transitions -----------------------------------------------------------
  // Each returns the start of a gap when it opened one at or before `time`
  // (the caller rechecks what was counted after it), else undefined.

  /** A `down` status. */
  down(time: number): number | undefined {
    this.statusAt(time);
    return this.unobservedFrom(time, 'LND_DOWN');
  }

  /** An `up` status. */
  up(time: number): void {
    this.statusAt(time);
    this.back(time);
  }

  /** The node is back (an `up` status, a bootstrap reply): the gap ends settleMs later. */
  back(time: number): void {
    const n = this.starts.length;
    if (n === 0 || this.lastEnd !== Infinity) return;
    this.ends[n - 1] = Math.max(time + this.settings.settleMs, this.starts[n - 1] as number);
    this.settling = true;
    this.gapVersion += 1;
  }

  /** The exporter did not run from `since` (core NATS restart): unobserved from there. */
  exporterDown(since: number): number | undefined {
    return this.unobservedFrom(since, 'EXPORTER_DOWN');
  }

  /**
   * At clock time now: a node that sent statuses but none for the timeout is
   * unobserved from its last one.
   */
  checkSilence(now: number): number | undefined {
    const last = this.silentSince(now);
    if (last === undefined) return undefined;
    if (this.starts.length > 0 && this.lastEnd === Infinity) return undefined;
    return this.unobservedFrom(last, 'BRIDGE_SILENT');
  }

  /**
   * The last status when, at clock time now, none came for the timeout (the
   * node is silent from it); else undefined, as for a node that never sent one.
   */
  silentSince(now: number): number | undefined {
    const last = this.lastStatusAt;
    if (last === undefined) return undefined;
    // Fix: a node back by a bootstrap reply (after an exporter restart) had
    // no chance to send a status since: its silence counts from its return
    // (the planned end less the settle time) when that is later, or a tick
    // before its first heartbeat reopened the gap it was leaving.
    const since = this.settling ? Math.max(last, this.lastEnd - this.settings.settleMs) : last;
    return now - since < this.settings.timeoutMs ? undefined : last;
  }

  /** The settling gap's end has come (closesAt): it is a gap like the others now. */
  close(): void {
    if (!this.settling) return;
    this.settling = false;
    this.gapVersion += 1;
  }

  private statusAt(time: number): void {
    if (this.lastStatusAt === undefined || time > this.lastStatusAt) this.lastStatusAt = time;
  }

  /**
   * Unobserved from `time`: a new gap, or the settling one kept open (the node
   * went away again before it ended). Never before the last gap's end.
   */
  private unobservedFrom(time: number, reason: GapReason): number | undefined {
    const n = this.starts.length;
    // Fix: with every gap compacted away, one from before their end (a
    // silence from a last status inside the last of them) overlapped them;
    // it starts where they ended, as reopening the last one would count.
    if (n === 0 && time < this.compactedUntil) time = this.compactedUntil;
    if (n > 0) {
      const end = this.lastEnd;
      if (end === Infinity) return undefined;
      if (time <= end) {
        // Reopened: it had been planned (or even recorded) to end at `end`.
        this.ends[n - 1] = Infinity;
        this.settling = false;
        this.gapVersion += 1;
        return end;
      }
    }
    this.settling = false;
    const before = n === 0 ? this.base : this.unobservedUntil(time);
    this.starts.push(time);
    this.ends.push(Infinity);
    this.reasons.push(reason);
    this.before.push(before);
    this.gapVersion += 1;
    return time;
  }

  // ---- queries ---------------------------------------------------------------

  /** Total unobserved time up to t, gaps compacted away included. */
  unobservedUntil(t: number): number {
    return this.unobservedAt(this.lastStartingAtOrBefore(t), t);
  }

  observedSince(from: number, unobservedAtFrom: number, to: number): number {
    const n = this.starts.length;
    if (n > 0 ? from >= (this.starts[0] as number) : from >= this.compactedUntil) {
      return this.observedBetween(from, to);
    }
    if (!(to > from)) return 0;
    // Before every gap kept: what was unobserved up to it is the kept total.
    const observed = to - from - (this.unobservedUntil(to) - unobservedAtFrom);
    return Math.min(Math.max(0, observed), to - from);
  }

  /** Unobserved time in [from, to]. */
  unobservedBetween(from: number, to: number): number {
    if (!(to > from)) return 0;
    return to - from - this.observedBetween(from, to);
  }

  observedBetween(from: number, to: number): number {
    const n = this.starts.length;
    if (n === 0 || from >= (this.ends[n - 1] as number)) return to > from ? to - from : 0;
    if (!(to > from)) return 0;
    const i = this.lastStartingAtOrBefore(from);
    const j = this.lastStartingAtOrBefore(to);
    if (i === j) {
      // No gap starts inside: [from, to] is within gap i, or after it ends.
      if (i < 0) return to - from;
      const end = this.ends[i] as number;
      if (from >= end) return to - from;
      return to > end ? to - end : 0;
    }
    // Gaps start inside: the running totals at both ends, from the searches made.
    const unobserved = this.unobservedAt(j, to) - this.unobservedAt(i, from);
    return Math.min(Math.max(0, to - from - unobserved), to - from);
  }

  /** unobservedUntil(t), given i = lastStartingAtOrBefore(t). */
  private unobservedAt(i: number, t: number): number {
    if (i < 0) return this.base;
    const start = this.starts[i] as number;
    return (this.before[i] as number) + (Math.min(t, this.ends[i] as number) - start);
  }

  /** True when t is inside a gap (the gap's end excluded). */
  contains(t: number): boolean {
    const n = this.starts.length;
    if (n === 0 || t >= (this.ends[n - 1] as number)) return false;
    const i = this.lastStartingAtOrBefore(t);
    return i >= 0 && t < (this.ends[i] as number);
  }

  /** Gaps overlapping [from, to], oldest first, at most `limit`. */
  gaps(from: number, to: number, limit = Infinity): Gap[] {
    const out: Gap[] = [];
    if (to < from) return out;
    for (let i = Math.max(0, this.lastStartingAtOrBefore(from)); i < this.starts.length; i++) {
      if ((this.starts[i] as number) > to || out.length >= limit) break;
      if ((this.ends[i] as number) <= from) continue;
      out.push(this.gapAt(i));
    }
    return out;
  }

  /** At least as many as gaps(from, to) returns, in O(log g). */
  gapsBound(from: number, to: number): number {
    if (to < from || this.starts.length === 0) return 0;
    return this.lastStartingAtOrBefore(to) - Math.max(0, this.lastStartingAtOrBefore(from)) + 1;
  }

  /**
   * The parts of [start, end] outside every gap, for listing periods: calls
   * out once per part, in order.
   */
  observedParts(start: number, end: number, out: (from: number, to: number) => void): void {
    const n = this.starts.length;
    if (n === 0 || start >= (this.ends[n - 1] as number) || end <= (this.starts[0] as number)) {
      out(start, end);
      return;
    }
    let at = start;
    for (let i = Math.max(0, this.lastStartingAtOrBefore(start)); i < n && at <= end; i++) {
      const s = this.starts[i] as number;
      const e = this.ends[i] as number;
      // Fix: an empty gap (settle 0, or back before it started) hides no
      // time: it split a period in two (an outage counted twice).
      if (e <= at || e <= s) continue;
      if (s > end) break;
      if (s > at) out(at, s);
      at = Math.max(at, e);
    }
    if (at < end || (at === end && at === start)) out(at, end);
  }

  /**
   * Drops the gaps that end at or before `horizon` (their time stays in the
   * running total); returns how many.
   */
  compactBefore(horizon: number): number {
    let k = 0;
    // Fix: never the settling gap (its end events are still due; dropping it
    // lost them and left closesAt undefined).
    const droppable = this.settling ? this.starts.length - 1 : this.starts.length;
    while (k < droppable && (this.ends[k] as number) <= horizon) k++;
    if (k === 0) return 0;
    this.base =
      (this.before[k - 1] as number) +
      ((this.ends[k - 1] as number) - (this.starts[k - 1] as number));
    this.compactedUntil = this.ends[k - 1] as number;
    this.starts.splice(0, k);
    this.ends.splice(0, k);
    this.reasons.splice(0, k);
    this.before.splice(0, k);
    this.gapVersion += 1;
    return k;
  }

  private get lastEnd(): number {
    return this.ends[this.ends.length - 1] as number;
  }

  private gapAt(i: number): Gap {
    const end = this.ends[i] as number;
    return {
      start: this.starts[i] as number,
      end: end === Infinity ? undefined : end,
      reason: this.reasons[i] as GapReason,
    };
  }

  /** Index of the last gap starting at or before t, or -1. */
  private lastStartingAtOrBefore(t: number): number {
    const starts = this.starts;
    let hi = starts.length - 1;
    if (hi < 0 || (starts[0] as number) > t) return -1;
    if ((starts[hi] as number) <= t) return hi;
    let lo = 0; // starts[lo] <= t < starts[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] as number) <= t) lo = mid;
      else hi = mid;
    }
    return lo;
  }
}

/** No gap: what an observation is before its first. */
const EMPTY_GAPS: GapColumns = {
  starts: [],
  ends: [],
  reasons: [],
  before: [],
  base: 0,
  compactedUntil: -Infinity,
  settling: false,
  lastStatusAt: undefined,
};

/** The observation of a log kept apart from any node (tests, tools): never a gap. */
export const ALWAYS_OBSERVED: ObservedTime = {
  observedBetween: (from, to) => (to > from ? to - from : 0),
  observedParts: (start, end, out) => {
    out(start, end);
  },
  gapsBound: () => 0,
  unobservedUntil: () => 0,
  observedSince: (from, _unobserved, to) => (to > from ? to - from : 0),
};
