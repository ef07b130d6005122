/** Events per bucket a directory is built for (it is rebuilt past 8 times that, or 1/32). */
const EVENTS_PER_BUCKET = 8;

/**
 * A directory of a sorted array of event times by equal time buckets, so that
 * finding the latest event at or before an instant costs O(1) on average (a
 * division, two reads, and a binary search among the few events of one
 * bucket) instead of log2(n) steps over the whole array: a peer's uptime over
 * a window then costs about the same for 100,000 logged events as for 100.
 *
 * Bucket j holds the events whose (time - origin) * scale rounds down to j;
 * start[j] is the index of the first event of bucket j or later. Computing an
 * instant's bucket with the same formula as the events' keeps the lookups
 * exact whatever the rounding: an event of an earlier bucket is earlier than
 * the instant, an event of a later bucket is later.
 *
 * The directory follows the array as it grows (extend), and asks to be
 * rebuilt with a new width when the buckets have become too many or too few
 * for the events (both need the array to grow several times over, so
 * rebuilding costs O(1) per event over time). Memory: 4 bytes per bucket,
 * about half a byte per event.
 */
export class TimeDirectory {
  private start: Int32Array;
  private buckets = 0;
  /** Events [0, indexed) are in the directory. */
  private indexed = 0;

  /** 1 / bucket width: a multiplication per lookup instead of a division. */
  private readonly scale: number;

  private constructor(
    private readonly origin: number,
    width: number,
    capacity: number,
  ) {
    this.scale = 1 / width;
    this.start = new Int32Array(capacity);
  }

  /** Events the directory holds: it is up to date while this equals the array's. */
  get size(): number {
    return this.indexed;
  }

  /**
   * A directory of times[0, n), or undefined when none can be built (all
   * events at one instant, times that are not finite or not sorted).
   */
  static build(times: Float64Array, n: number): TimeDirectory | undefined {
    const origin = times[0] as number;
    const span = (times[n - 1] as number) - origin;
    if (!(span > 0) || !Number.isFinite(span)) return undefined;
    const target = Math.max(1, Math.floor(n / EVENTS_PER_BUCKET));
    const directory = new TimeDirectory(origin, span / target, target + 1);
    return directory.extend(times, n) ? directory : undefined;
  }

  get byteSize(): number {
    return this.start.byteLength;
  }

  /**
   * Takes in events [indexed, n). False when the directory no longer fits the
   * events (rebuild it) or the times are not sorted (do without).
   */
  extend(times: Float64Array, n: number): boolean {
    const { origin, scale } = this;
    for (let i = this.indexed; i < n; i++) {
      const time = times[i] as number;
      if (i > 0 && !(time >= (times[i - 1] as number))) return false;
      const j = Math.floor((time - origin) * scale);
      // Not a number, or so far beyond that the width no longer fits.
      if (!(j >= this.buckets - 1) || j > 2 * n + 64) return false;
      while (this.buckets <= j) {
        if (this.buckets === this.start.length) this.growTo(this.buckets * 2);
        this.start[this.buckets++] = i;
      }
    }
    this.indexed = n;
    return this.buckets <= 2 * n + 64 && n <= 8 * EVENTS_PER_BUCKET * this.buckets;
  }

  /**
   * Index of the latest event at or before t, for a directory extended to n
   * events with times[0] <= t < times[n - 1].
   */
  find(times: Float64Array, n: number, t: number): number {
    const j = Math.floor((t - this.origin) * this.scale);
    // Before bucket j every event is earlier than t; from bucket j + 1 on, later.
    let lo = Math.max(0, (this.start[j] as number) - 1);
    let hi = j + 1 < this.buckets ? (this.start[j + 1] as number) : n - 1;
    // times[lo] <= t < times[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if ((times[mid] as number) <= t) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  private growTo(capacity: number): void {
    const start = new Int32Array(capacity);
    start.set(this.start);
    this.start = start;
  }
}
