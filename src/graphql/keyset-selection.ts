import { compareRanked } from './ordering.js';

/** A listed item's place in its order: rank ascending, then node, then key (see compareRanked). */
export interface KeyedPosition {
  readonly rank: number;
  readonly node: string;
  /** What tells the item from the node's others: a channel point, a pubkey. */
  readonly key: string;
}

/** A page selected by KeysetSelection. */
export interface SelectedPage<E> {
  /** In order. */
  readonly entries: E[];
  /** Items offered, before the cursor and the page size apply. */
  readonly totalCount: number;
  readonly hasNextPage: boolean;
}

/**
 * One page of a keyset-paginated listing, selected without sorting every
 * item: each item offered is counted, and only the `first` best after the
 * cursor are kept, in a max-heap (O(n log first) time, O(first) memory).
 * Items are offered by their position first (admits), and their entry is
 * built only for the few that enter the page (add), so that ranking a long
 * list allocates nothing per item.
 */
export class KeysetSelection<E extends { readonly rank: number; readonly node: string }> {
  private readonly heap: E[] = [];
  private totalCount = 0;
  private afterCount = 0;
  /** Rank of the worst entry once the page is full (Infinity never rejects). */
  private worst = Number.POSITIVE_INFINITY;
  private readonly compare: (a: E, b: E) => number;

  /** keyOf gives an entry's key, as its position has it. */
  constructor(
    private readonly first: number,
    private readonly after: KeyedPosition | undefined,
    private readonly keyOf: (entry: E) => string,
  ) {
    this.compare = (a, b) => compareRanked(a.rank, a.node, keyOf(a), b.rank, b.node, keyOf(b));
  }

  /** Rank of a full page's worst entry: an item ranked strictly above it cannot enter. */
  get worstRank(): number {
    return this.worst;
  }

  get isFull(): boolean {
    return this.first > 0 && this.heap.length === this.first;
  }

  /**
   * Counts an item ranked strictly worse than a full page's worst entry
   * (itself after the cursor), as most items of a long list are: true when it
   * was, and nothing more is to be done with it.
   */
  dropped(rank: number): boolean {
    if (!(rank > this.worst)) return false;
    this.totalCount++;
    this.afterCount++;
    return true;
  }

  /** Counts items the caller found ranked worse than worstRank without offering them. */
  countDropped(count: number): void {
    this.totalCount += count;
    this.afterCount += count;
  }

  /**
   * Counts an item at this position (not dropped) and tells whether it
   * belongs on the page as it stands: after the cursor, and with room for it
   * or better than the worst entry. Its entry is then given to add().
   */
  admits(rank: number, node: string, key: string): boolean {
    this.totalCount++;
    const after = this.after;
    if (
      after !== undefined &&
      compareRanked(rank, node, key, after.rank, after.node, after.key) <= 0
    )
      return false;
    this.afterCount++;
    const heap = this.heap;
    if (heap.length < this.first) return true;
    const top = heap[0];
    return (
      top !== undefined && compareRanked(rank, node, key, top.rank, top.node, this.keyOf(top)) < 0
    );
  }

  /** Puts an item admits() let in on the page, in place of the worst entry when full. */
  add(entry: E): void {
    const heap = this.heap;
    if (heap.length < this.first) heapPush(heap, entry, this.compare);
    else heapReplaceTop(heap, entry, this.compare);
    if (heap.length === this.first) this.worst = (heap[0] as E).rank;
  }

  page(): SelectedPage<E> {
    return {
      entries: this.heap.sort(this.compare),
      totalCount: this.totalCount,
      hasNextPage: this.afterCount > this.first,
    };
  }
}

// A binary max-heap on compare: the worst kept entry is at index 0.

function heapPush<E>(heap: E[], entry: E, compare: (a: E, b: E) => number): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent] as E;
    if (compare(p, entry) >= 0) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = entry;
}

function heapReplaceTop<E>(heap: E[], entry: E, compare: (a: E, b: E) => number): void {
  const n = heap.length;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) break;
    const right = left + 1;
    let child = left;
    let c = heap[left] as E;
    if (right < n) {
      const r = heap[right] as E;
      if (compare(r, c) > 0) {
        child = right;
        c = r;
      }
    }
    if (compare(c, entry) <= 0) break;
    heap[i] = c;
    i = child;
  }
  heap[i] = entry;
}
