/** How much a cache may hold: both bounds apply. */
export interface CacheBounds {
  /** Entries, at most. */
  readonly maxEntries: number;
  /** The sum of the entries' estimated sizes, in bytes, at most. */
  readonly maxBytes: number;
}

interface Slot<V> {
  readonly value: V;
  readonly bytes: number;
  /** Read since it was inserted or last given its second chance. */
  used: boolean;
}

/**
 * A string-keyed cache bounded by entries and by estimated bytes, evicting
 * with the second-chance (CLOCK) approximation of LRU: a hit only marks the
 * entry, so the hot path pays one Map lookup and no reordering; eviction walks
 * from the oldest insertion, moving marked entries to the back unmarked and
 * dropping the first unmarked one. An entry larger than maxBytes on its own is
 * not kept. Its get/set are the interface yoga's parse cache and graphql-jit's
 * cache expect.
 */
export class BoundedCache<V> {
  private readonly slots = new Map<string, Slot<V>>();
  private totalBytes = 0;

  /** `weigh` estimates the bytes an entry keeps alive (key included). */
  constructor(
    readonly bounds: CacheBounds,
    private readonly weigh: (key: string, value: V) => number,
  ) {}

  get(key: string): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    slot.used = true;
    return slot.value;
  }

  /** The value without marking it used (for checks that are not uses). */
  peek(key: string): V | undefined {
    return this.slots.get(key)?.value;
  }

  set(key: string, value: V): void {
    this.insert(key, value, this.weigh(key, value));
  }

  /**
   * Gives an entry a new estimate once more is known of what it keeps alive
   * (its place in the eviction order restarts, as for a new entry).
   */
  reweigh(key: string, bytes: number): void {
    const slot = this.slots.get(key);
    if (slot === undefined || slot.bytes === bytes) return;
    this.insert(key, slot.value, bytes);
  }

  private insert(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.bounds.maxBytes || this.bounds.maxEntries < 1) return;
    while (
      this.slots.size > 0 &&
      (this.slots.size >= this.bounds.maxEntries || this.totalBytes + bytes > this.bounds.maxBytes)
    ) {
      this.evictOne();
    }
    this.slots.set(key, { value, bytes, used: false });
    this.totalBytes += bytes;
  }

  delete(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.totalBytes -= slot.bytes;
  }

  get size(): number {
    return this.slots.size;
  }

  /** The estimated bytes of every entry. */
  get bytes(): number {
    return this.totalBytes;
  }

  private evictOne(): void {
    // Terminates: each pass unmarks what it moves, so the second visit of an entry drops it.
    for (;;) {
      const oldest = this.slots.entries().next();
      if (oldest.done === true) return;
      const [key, slot] = oldest.value;
      this.slots.delete(key);
      if (!slot.used) {
        this.totalBytes -= slot.bytes;
        return;
      }
      slot.used = false;
      this.slots.set(key, slot);
    }
  }
}
