interface Entry<T> {
  readonly time: number;
  /** Insertion order: equal times run first-scheduled first, so runs are deterministic. */
  readonly seq: number;
  readonly action: T;
}

/** A min-heap of actions by time: the simulation's agenda. */
export class ActionQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;

  schedule(time: number, action: T): void {
    this.heap.push({ time, seq: this.seq++, action });
    this.up(this.heap.length - 1);
  }

  /** Time of the next action; Infinity when there is none. */
  peekTime(): number {
    return this.heap[0]?.time ?? Infinity;
  }

  pop(): { time: number; action: T } | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return { time: top.time, action: top.action };
  }

  private before(i: number, j: number): boolean {
    const a = this.heap[i];
    const b = this.heap[j];
    if (a === undefined || b === undefined) return false;
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i];
    const b = this.heap[j];
    if (a === undefined || b === undefined) return;
    this.heap[i] = b;
    this.heap[j] = a;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.before(left, smallest)) smallest = left;
      if (right < this.heap.length && this.before(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
