interface Waiter<V> {
  resolve(value: V): void;
  reject(err: unknown): void;
}

export interface BatchLoaderOptions {
  /** Most keys per batch; a batch that reaches it is dispatched at once. */
  readonly maxBatchSize: number;
  /** Runs the dispatch of what was collected; setImmediate by default (one batch per macrotask). */
  readonly schedule?: (dispatch: () => void) => void;
}

/**
 * Coalesces single-key loads into batches (DataLoader-style, without a cache:
 * records change between reads). Loads issued in the same macrotask go out
 * together, in batches of at most maxBatchSize distinct keys; the same key
 * asked twice in a batch is loaded once.
 */
export class BatchLoader<V> {
  private queue = new Map<string, Waiter<V>[]>();
  private scheduled = false;
  private readonly schedule: (dispatch: () => void) => void;

  constructor(
    private readonly loadBatch: (keys: readonly string[]) => Promise<readonly V[]>,
    private readonly options: BatchLoaderOptions,
  ) {
    this.schedule = options.schedule ?? ((dispatch) => setImmediate(dispatch));
  }

  load(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiters = this.queue.get(key);
      if (waiters === undefined) this.queue.set(key, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      if (this.queue.size >= this.options.maxBatchSize) {
        this.dispatch();
      } else if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(() => {
          this.scheduled = false;
          this.dispatch();
        });
      }
    });
  }

  private dispatch(): void {
    if (this.queue.size === 0) return;
    const batch = this.queue;
    this.queue = new Map();
    const keys = [...batch.keys()];
    let loading: Promise<readonly V[]>;
    try {
      loading = this.loadBatch(keys);
    } catch (err) {
      loading = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    loading.then(
      (values) => {
        if (values.length !== keys.length) {
          const err = new Error(
            `batch load returned ${values.length} values for ${keys.length} keys`,
          );
          for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
          return;
        }
        keys.forEach((key, i) => {
          for (const w of batch.get(key) ?? []) w.resolve(values[i] as V);
        });
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
