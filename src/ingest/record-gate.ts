import type { ChannelEventStore } from '../store/channel-event-store.js';
import type { FlapRecord } from '../store/peer-monitor.js';
import {
  NO_RECORD,
  type ApplyOutcome,
  type ChannelSource,
  type FlapCountAnswer,
  type LoadedRecord,
} from '../store/store-types.js';

/**
 * Called once an event has been applied or rejected: at once, or later when
 * it was held for its peer's record read (JetStream acknowledges a message
 * only then).
 */
export type Settled = (outcome: ApplyOutcome) => void;

/** Reads a peer's persisted flap record (the persistence adapter's read); undefined when none. */
export type ReadFlapRecord = (node: string, pubkey: string) => Promise<FlapRecord | undefined>;

export interface RecordGateOptions {
  readonly read: ReadFlapRecord;
  /**
   * A read failed: the monitor is created without the record (unmerged, not
   * flushed) and the read is tried again by retryRecordReads().
   */
  readonly readFailed?: (node: string, pubkey: string, err: unknown) => void;
}

/** What a failed read gives the monitor: no record, not merged. */
const UNREAD: LoadedRecord = Object.freeze({ record: undefined, merged: false });

/** An event held for its peer's record read, with who to tell once it is applied. */
type HeldEvent = (
  | {
      readonly kind: 'open';
      readonly channelPoint: string;
      readonly time: number;
      readonly source: ChannelSource;
    }
  | { readonly kind: 'close'; readonly channelPoint: string; readonly time: number }
  | { readonly kind: 'peer'; readonly online: boolean; readonly time: number }
) & { readonly settled: Settled | undefined };

/**
 * Between the ingest and the stores: the store is pure and synchronous, and
 * the first open of a peer needs the peer's persisted flap record (lnd reads
 * it when it creates the monitor). The gate reads it through the persistence
 * adapter, holding that peer's later events meanwhile, in delivery order with
 * their settle callbacks, and applies them synchronously once the read
 * settles; other peers' events go on. A read that fails still creates the
 * monitor (the peer's events must not be lost), unmerged: retryRecordReads()
 * folds the record in once the backend answers again.
 *
 * One gate serves every node (see NodeRecordGate for a node's).
 */
export class RecordGate {
  private readonly gates = new Map<string, NodeRecordGate>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: RecordGateOptions) {}

  /** The gate of a node's store, created on first use. */
  of(store: ChannelEventStore): NodeRecordGate {
    let gate = this.gates.get(store.node);
    if (gate === undefined) {
      gate = new NodeRecordGate(store, this.options, () => {
        this.released();
      });
      this.gates.set(store.node, gate);
    } else if (gate.store !== store) {
      throw new Error(`node ${store.node} has a gate for another store`);
    }
    return gate;
  }

  /** The gate of a node, when it has one. */
  get(node: string): NodeRecordGate | undefined {
    return this.gates.get(node);
  }

  /** True when no event is held (of the node; of any node when none is named). */
  isIdle(node?: string): boolean {
    if (node !== undefined) return this.gates.get(node)?.isIdle ?? true;
    for (const gate of this.gates.values()) if (!gate.isIdle) return false;
    return true;
  }

  /**
   * Resolves once no event is held (of the node; of any node when none is
   * named): every event submitted so far is applied. The stop sequence
   * waits for it, and so does a history rebase.
   */
  idle(node?: string): Promise<void> {
    if (this.isIdle(node)) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.isIdle(node)) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  /** Peers whose record read is in flight, over every node. */
  get pendingReads(): number {
    let n = 0;
    for (const gate of this.gates.values()) n += gate.pendingReads;
    return n;
  }

  /**
   * The peer of a channel whose open is held for that peer's record read (the
   * peer is not monitored yet: lnd's "peer not found"), or undefined.
   */
  heldChannelPeer(node: string, channelPoint: string): string | undefined {
    return this.gates.get(node)?.heldChannelPeer(channelPoint);
  }

  /**
   * Reads again the records of the store's monitors created after a failed
   * read, merging those that can be read now; resolves with how many of them
   * are still unmerged. The flap flusher calls this before writing a node:
   * a record written before its read succeeds would overwrite the persisted
   * count.
   */
  async retryRecordReads(store: ChannelEventStore): Promise<number> {
    const unmerged = store.unmergedPeers();
    await Promise.all(
      unmerged.map(async (pubkey) => {
        try {
          store.mergeRecord(pubkey, await this.options.read(store.node, pubkey));
        } catch (err) {
          this.options.readFailed?.(store.node, pubkey, err);
        }
      }),
    );
    return unmerged.filter((pubkey) => store.peer(pubkey)?.recordMerged === false).length;
  }

  /**
   * lnd's FlapCount: a monitored peer's in-memory count and last flap (as
   * stored: cooldown applies when its next event arrives), else the persisted
   * record, else 0 and none. Rejects when the record cannot be read.
   */
  async flapCount(store: ChannelEventStore, pubkey: string): Promise<FlapCountAnswer> {
    const tracked = store.flapCount(pubkey);
    if (tracked !== undefined) return tracked;
    const record = await this.options.read(store.node, pubkey);
    return { count: record?.count ?? 0, lastFlap: record?.lastFlap, tracked: false };
  }

  /** A node's held events were let in: whoever waits for idle may be done. */
  private released(): void {
    if (this.waiters.size === 0) return;
    for (const check of [...this.waiters]) check();
  }
}

/**
 * The gate of one node's store: openChannel, closeChannel and peerEvent as
 * the store has them, with a settle callback each. Events of a peer that is
 * not held go straight to the store, allocating nothing; an open that needs
 * its peer's record starts the read and holds the peer's events, itself first.
 *
 * Whether the channel point of a held open is taken is decided at delivery,
 * as if the open were applied then: the open is rejected when the point is
 * in the store or held by another peer's open, and another peer's open of a
 * point held by this one, delivered later, is rejected though it is applied
 * first.
 */
export class NodeRecordGate {
  /** Peers whose record read is in flight, with their events held, oldest first. */
  private readonly pending = new Map<string, HeldEvent[]>();
  /** Channel points of the held opens, with their peer. */
  private readonly reserved = new Map<string, string>();

  constructor(
    readonly store: ChannelEventStore,
    private readonly options: RecordGateOptions,
    private readonly released: () => void,
  ) {}

  /** A channel opened (or was listed at start-up, when source is 'bootstrap'). */
  openChannel(
    pubkey: string,
    channelPoint: string,
    time: number,
    source: ChannelSource = 'event',
    settled?: Settled,
  ): void {
    const store = this.store;
    const queue = this.queueOf(pubkey);
    if (queue === undefined && !store.needsRecord(pubkey)) {
      const outcome = this.reservedByOther(channelPoint, pubkey)
        ? store.rejectOpen(pubkey, channelPoint)
        : store.openChannel(pubkey, channelPoint, time, source);
      settled?.(outcome);
      return;
    }
    // The open waits for the peer's record read, but whether its channel point
    // is taken is decided now, in delivery order: another peer's open or close
    // of that channel point, delivered later, may be applied before this one.
    if (store.channel(channelPoint) !== undefined || this.reservedByOther(channelPoint, pubkey)) {
      const outcome = store.rejectOpen(pubkey, channelPoint);
      settled?.(outcome);
      return;
    }
    this.reserved.set(channelPoint, pubkey);
    const held: HeldEvent = { kind: 'open', channelPoint, time, source, settled };
    if (queue !== undefined) queue.push(held);
    else this.readThenApply(pubkey, held);
  }

  closeChannel(pubkey: string, channelPoint: string, time: number, settled?: Settled): void {
    const queue = this.queueOf(pubkey);
    if (queue !== undefined) {
      queue.push({ kind: 'close', channelPoint, time, settled });
      return;
    }
    const outcome = this.store.closeChannel(pubkey, channelPoint, time);
    settled?.(outcome);
  }

  /** A peer went online or offline: the hot path, which allocates nothing for a peer not held. */
  peerEvent(pubkey: string, online: boolean, time: number, settled?: Settled): void {
    const queue = this.queueOf(pubkey);
    if (queue !== undefined) {
      queue.push({ kind: 'peer', online, time, settled });
      return;
    }
    this.store.peerEvent(pubkey, online, time);
    settled?.('applied');
  }

  /** True while the peer's events are held for its record read. */
  isHolding(pubkey: string): boolean {
    return this.pending.size !== 0 && this.pending.has(pubkey);
  }

  /** True when no event is held: every submitted event has been applied. */
  get isIdle(): boolean {
    return this.pending.size === 0;
  }

  /** Peers whose record read is in flight. */
  get pendingReads(): number {
    return this.pending.size;
  }

  /** The peer of a channel whose open is held for that peer's record read, or undefined. */
  heldChannelPeer(channelPoint: string): string | undefined {
    return this.reserved.get(channelPoint);
  }

  /** The queue of a peer whose record read is in flight (usually none: one size check). */
  private queueOf(pubkey: string): HeldEvent[] | undefined {
    return this.pending.size === 0 ? undefined : this.pending.get(pubkey);
  }

  private reservedByOther(channelPoint: string, pubkey: string): boolean {
    if (this.reserved.size === 0) return false;
    const peer = this.reserved.get(channelPoint);
    return peer !== undefined && peer !== pubkey;
  }

  /** Reads the record a new monitor needs, holding the peer's events meanwhile. */
  private readThenApply(pubkey: string, first: HeldEvent): void {
    this.pending.set(pubkey, [first]);
    const node = this.store.node;
    let read: Promise<FlapRecord | undefined>;
    try {
      read = this.options.read(node, pubkey);
    } catch (err) {
      read = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    read.then(
      (record) => {
        this.release(pubkey, { record, merged: true });
      },
      (err: unknown) => {
        this.options.readFailed?.(node, pubkey, err);
        this.release(pubkey, UNREAD);
      },
    );
  }

  /** The read settled: the peer's held events are applied, in their order. */
  private release(pubkey: string, loaded: LoadedRecord): void {
    const queue = this.pending.get(pubkey) ?? [];
    // Events submitted for the peer while these are applied join the queue: still in order.
    for (const event of queue) {
      if (event.kind === 'open' && this.reserved.get(event.channelPoint) === pubkey) {
        this.reserved.delete(event.channelPoint);
      }
      this.apply(pubkey, event, loaded);
    }
    this.pending.delete(pubkey);
    this.released();
  }

  /** Applies one held event and tells its submitter what became of it. */
  private apply(pubkey: string, event: HeldEvent, loaded: LoadedRecord): void {
    const store = this.store;
    let outcome: ApplyOutcome;
    switch (event.kind) {
      case 'open':
        // The record serves the monitor the first successful open creates.
        outcome = this.reservedByOther(event.channelPoint, pubkey)
          ? store.rejectOpen(pubkey, event.channelPoint)
          : store.openChannel(
              pubkey,
              event.channelPoint,
              event.time,
              event.source,
              store.needsRecord(pubkey) ? loaded : NO_RECORD,
            );
        break;
      case 'close':
        outcome = store.closeChannel(pubkey, event.channelPoint, event.time);
        break;
      case 'peer':
        store.peerEvent(pubkey, event.online, event.time);
        outcome = 'applied';
    }
    event.settled?.(outcome);
  }
}
