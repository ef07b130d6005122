import type { ObservedTime } from './node-observation.js';

/** A span during which the peer was online; `ongoing` when it runs until now. */
export interface OnlinePeriod {
  readonly start: number;
  readonly end: number;
  readonly ongoing: boolean;
}

/** A log's sequence of events (committed, then the staged one), as runs are read from it. */
export interface EventSequence {
  /** Events in the sequence: committed plus staged. */
  readonly sequenceLength: number;
  /** Time of the i-th event of the sequence. */
  timeAt(i: number): number;
  /** True when the i-th event of the sequence is online. */
  kindAt(i: number): boolean;
  /** Index in the sequence of the latest event with time <= t, or -1. Ties resolve to the last. */
  lastAtOrBefore(t: number): number;
}

/**
 * The runs of one state (online when `want`) of a sequence overlapping
 * [from, to], clipped to it and split by the node's gaps, oldest first, at
 * most `limit` of them. Repeated events of one kind change nothing (the
 * earliest one opens the run); the run the sequence ends with runs until now.
 * Costs O(log n) plus the number of events inside the window.
 */
export function runsOf(
  seq: EventSequence,
  observation: ObservedTime,
  from: number,
  to: number,
  now: number,
  want: boolean,
  limit = Infinity,
): OnlinePeriod[] {
  const out: OnlinePeriod[] = [];
  const m = seq.sequenceLength;
  if (m === 0 || to < from) return out;
  const push = (start: number, end: number, ongoing: boolean): void => {
    const s = Math.max(start, from);
    const e = Math.min(end, to);
    if (!(e > s || (ongoing && e === s))) return;
    observation.observedParts(s, e, (ps, pe) => {
      if (out.length < limit) out.push({ start: ps, end: pe, ongoing: ongoing && pe === e });
    });
  };
  // Start from the latest event at or before `from` (its state holds at `from`).
  let i = Math.max(0, seq.lastAtOrBefore(from));
  let openSince = 0;
  let open = false;
  for (; i < m && out.length < limit; i++) {
    const t = seq.timeAt(i);
    if (t > to) break;
    const match = seq.kindAt(i) === want;
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
    while (j < m && seq.kindAt(j) === want) j++;
    if (j < m) push(openSince, seq.timeAt(j), false);
    else {
      const until = Math.max(now, openSince);
      push(openSince, until, until <= to);
    }
  }
  return out;
}

/**
 * At least as many as runsOf(seq, observation, from, to, ...) returns, in
 * O(log n): each of those runs starts at an event between the latest at or
 * before `from` and the latest at or before `to`, and each gap inside the
 * window can split one run in two.
 */
export function runsBound(
  seq: EventSequence,
  observation: ObservedTime,
  from: number,
  to: number,
): number {
  if (seq.sequenceLength === 0 || to < from) return 0;
  return (
    seq.lastAtOrBefore(to) -
    Math.max(0, seq.lastAtOrBefore(from)) +
    1 +
    observation.gapsBound(from, to)
  );
}
