import type { ChannelEventStore } from './channel-event-store.js';

/**
 * One channel event store per lnd node, created the first time a node is seen
 * (or named in the settings).
 */
export class NodeStores {
  private readonly stores = new Map<string, ChannelEventStore>();

  constructor(private readonly create: (node: string) => ChannelEventStore) {}

  get(node: string): ChannelEventStore | undefined {
    return this.stores.get(node);
  }

  getOrCreate(node: string): ChannelEventStore {
    let store = this.stores.get(node);
    if (store === undefined) {
      store = this.create(node);
      this.stores.set(node, store);
    }
    return store;
  }

  has(node: string): boolean {
    return this.stores.has(node);
  }

  get size(): number {
    return this.stores.size;
  }

  nodes(): IterableIterator<string> {
    return this.stores.keys();
  }

  /** Every store, live (no copy). */
  values(): IterableIterator<ChannelEventStore> {
    return this.stores.values();
  }
}
