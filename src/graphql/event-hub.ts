import { CodedError } from '../errors.js';
import type { StoreObserver } from '../store/channel-event-store.js';

/** The `extensions.code` of the errors a subscription can end with (the schema documents each). */
export const SUBSCRIPTION_ERROR_CODES = ['TOO_MANY_SUBSCRIPTIONS', 'SUBSCRIBER_TOO_SLOW'] as const;
export type SubscriptionErrorCode = (typeof SUBSCRIPTION_ERROR_CODES)[number];

/** Why a subscription was refused or ended early. */
export class SubscriptionError extends CodedError<SubscriptionErrorCode> {}

/** A peer event as the store applied it: what `peerEvents` subscribers receive. */
export interface AppliedPeerEvent {
  readonly node: string;
  readonly pubkey: string;
  readonly type: 'PEER_ONLINE' | 'PEER_OFFLINE';
  /** When it was applied, ms: its own time, or the peer's latest when it came late. */
  readonly time: number;
  /** True when it was applied at the peer's latest time instead of its own, earlier one. */
  readonly reordered: boolean;
  /** True when the peer is monitored (has had a channel): only then is a flap counted. */
  readonly tracked: boolean;
  /** The peer's flap count after it; null while the peer is not monitored. */
  readonly flapCount: number | null;
}

/** A channel added to or removed from a store: what `channelEvents` subscribers receive. */
export interface AppliedChannelEvent {
  readonly node: string;
  readonly pubkey: string;
  readonly channelPoint: string;
  readonly type: 'OPEN_CHANNEL' | 'CLOSED_CHANNEL';
  readonly time: number;
  readonly reordered: boolean;
  readonly flapCount: number;
}

/** Which events a subscription wants: undefined matches every node or peer. */
export interface EventFilter {
  readonly node?: string | undefined;
  readonly pubkey?: string | undefined;
}

export interface EventHubOptions {
  /** Subscriptions open at once, at most (--graphql.max-subscriptions). */
  readonly maxSubscriptions: number;
  /** Events queued for a subscriber that has not taken them yet, at most, before it is dropped. */
  readonly queueSize: number;
  /** Told of each subscriber dropped for reading too slowly, once. */
  readonly dropped?: (subscription: SubscriptionInfo) => void;
}

/** A subscription, for the log. */
export interface SubscriptionInfo {
  readonly field: 'peerEvents' | 'channelEvents';
  readonly filter: EventFilter;
}

/** 1,000 events: about 120 KB a subscriber; a client that keeps up never holds more than a few. */
export const DEFAULT_QUEUE_SIZE = 1_000;
export const DEFAULT_MAX_SUBSCRIPTIONS = 100;

/**
 * Fans the events the stores apply out to GraphQL subscriptions. Fed
 * synchronously from the stores' observers, on the ingestion path: it never
 * waits, and an event nobody subscribed to costs a length check (no
 * subscriber) or a filter test per subscriber; no allocation unless a
 * subscriber takes it. Each subscriber has a bounded queue; one whose queue
 * is full is dropped (its stream ends with SUBSCRIBER_TOO_SLOW), never
 * buffered without bound. At most maxSubscriptions streams are open at once:
 * a stream counts from subscribe() until it has ended (its client took its
 * last event, left, or the hub closed).
 */
export class EventHub {
  private peerSubscribers: readonly EventStream<AppliedPeerEvent>[] = [];
  private channelSubscribers: readonly EventStream<AppliedChannelEvent>[] = [];
  private openStreams = 0;
  private closed = false;
  private droppedTotal = 0;

  constructor(readonly options: EventHubOptions) {}

  /** Streams open now (counted against maxSubscriptions). */
  get open(): number {
    return this.openStreams;
  }

  /** Subscribers dropped for reading too slowly since start. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Subscribes to peer events; TOO_MANY_SUBSCRIPTIONS past the limit. */
  subscribePeers(filter: EventFilter): EventStream<AppliedPeerEvent> {
    this.admit();
    const info: SubscriptionInfo = { field: 'peerEvents', filter };
    const stream = new EventStream<AppliedPeerEvent>(this, info, this.options.queueSize);
    this.peerSubscribers = [...this.peerSubscribers, stream];
    return stream;
  }

  /** Subscribes to channel events; TOO_MANY_SUBSCRIPTIONS past the limit. */
  subscribeChannels(filter: EventFilter): EventStream<AppliedChannelEvent> {
    this.admit();
    const info: SubscriptionInfo = { field: 'channelEvents', filter };
    const stream = new EventStream<AppliedChannelEvent>(this, info, this.options.queueSize);
    this.channelSubscribers = [...this.channelSubscribers, stream];
    return stream;
  }

  /** A peer event a store applied (StoreObserver.peerEventApplied, with its node). */
  peerEvent(
    node: string,
    pubkey: string,
    online: boolean,
    eventTime: number,
    appliedTime: number,
    flapCount: number | undefined,
  ): void {
    const subscribers = this.peerSubscribers;
    if (subscribers.length === 0) return;
    let event: AppliedPeerEvent | undefined;
    // Indexed, not for-of: an iterator is allocated until the optimizing compiler removes it.
    // A subscriber dropped meanwhile replaces the array, never changes this one.
    for (let i = 0; i < subscribers.length; i++) {
      const stream = subscribers[i];
      if (stream === undefined || !stream.matches(node, pubkey)) continue;
      event ??= {
        node,
        pubkey,
        type: online ? 'PEER_ONLINE' : 'PEER_OFFLINE',
        time: appliedTime,
        reordered: appliedTime !== eventTime,
        tracked: flapCount !== undefined,
        flapCount: flapCount ?? null,
      };
      stream.push(event);
    }
  }

  /** A channel a store added or removed (StoreObserver.channelEventApplied, with its node). */
  channelEvent(
    node: string,
    opened: boolean,
    pubkey: string,
    channelPoint: string,
    eventTime: number,
    appliedTime: number,
    flapCount: number,
  ): void {
    const subscribers = this.channelSubscribers;
    if (subscribers.length === 0) return;
    let event: AppliedChannelEvent | undefined;
    for (let i = 0; i < subscribers.length; i++) {
      const stream = subscribers[i];
      if (stream === undefined || !stream.matches(node, pubkey)) continue;
      event ??= {
        node,
        pubkey,
        channelPoint,
        type: opened ? 'OPEN_CHANNEL' : 'CLOSED_CHANNEL',
        time: appliedTime,
        reordered: appliedTime !== eventTime,
        flapCount,
      };
      stream.push(event);
    }
  }

  /** Ends every stream (each client gets what it had queued, then the end) and refuses new ones. */
  close(): void {
    this.closed = true;
    const streams = [...this.peerSubscribers, ...this.channelSubscribers];
    this.peerSubscribers = [];
    this.channelSubscribers = [];
    for (const stream of streams) stream.end();
  }

  private admit(): void {
    if (this.closed) {
      throw new SubscriptionError('TOO_MANY_SUBSCRIPTIONS', 'the exporter is stopping');
    }
    const max = this.options.maxSubscriptions;
    if (this.openStreams >= max) {
      throw new SubscriptionError(
        'TOO_MANY_SUBSCRIPTIONS',
        `${max} subscriptions are open, the most this exporter serves at once: ` +
          'try again later, or raise --graphql.max-subscriptions (GRAPHQL_MAX_SUBSCRIPTIONS)',
      );
    }
    this.openStreams += 1;
  }

  /** Stops delivering to a stream (it was dropped or ended). */
  detach(stream: object): void {
    this.peerSubscribers = this.peerSubscribers.filter((s) => s !== stream);
    this.channelSubscribers = this.channelSubscribers.filter((s) => s !== stream);
  }

  /** A stream has ended: its place is free. */
  release(): void {
    this.openStreams -= 1;
  }

  /** A stream was dropped for reading too slowly. */
  droppedStream(subscription: SubscriptionInfo): void {
    this.droppedTotal += 1;
    this.options.dropped?.(subscription);
  }
}

/** The observer hooks that feed a node's applied events to the hub. */
export function hubObserver(
  node: string,
  hub: EventHub,
): Required<Pick<StoreObserver, 'peerEventApplied' | 'channelEventApplied'>> {
  return {
    peerEventApplied: (pubkey, online, eventTime, appliedTime, flapCount) => {
      hub.peerEvent(node, pubkey, online, eventTime, appliedTime, flapCount);
    },
    channelEventApplied: (opened, pubkey, channelPoint, eventTime, appliedTime, flapCount) => {
      hub.channelEvent(node, opened, pubkey, channelPoint, eventTime, appliedTime, flapCount);
    },
  };
}

type State = 'open' | 'dropped' | 'ending' | 'finished';

/**
 * Queued events handed over in a row before the next one waits for the event
 * loop: a client's whole queue is otherwise executed, serialized and written
 * in one run of promise callbacks, during which nothing else (ingestion,
 * /healthz) is served.
 */
const YIELD_EVERY = 16;

/**
 * One subscriber's events as an async iterator (what a GraphQL subscribe
 * resolver returns). Events wait in a bounded queue until the client takes
 * them; when the queue is full the stream is dropped: its queue is let go at
 * once, and it yields one SubscriptionError (SUBSCRIBER_TOO_SLOW) before it
 * ends.
 */
export class EventStream<T> implements AsyncIterableIterator<T | SubscriptionError> {
  private readonly queue: Ring<T>;
  private waiting: ((result: IteratorResult<T | SubscriptionError>) => void) | undefined;
  private state: State = 'open';
  private failure: SubscriptionError | undefined;
  /** Queued events handed over since the last wait for the event loop. */
  private streak = 0;
  private readonly node: string | undefined;
  private readonly pubkey: string | undefined;
  /** Called once when the stream is dropped (the GraphQL layer then bounds how long it lingers). */
  onDropped: (() => void) | undefined;

  constructor(
    private readonly hub: EventHub,
    readonly info: SubscriptionInfo,
    private readonly capacity: number,
  ) {
    this.node = info.filter.node;
    this.pubkey = info.filter.pubkey;
    this.queue = new Ring(capacity);
  }

  /** Events waiting for the client. */
  get queued(): number {
    return this.queue.size;
  }

  /** True once dropped for reading too slowly. */
  get wasDropped(): boolean {
    return this.failure !== undefined;
  }

  /** True once the stream has ended and its place is free. */
  get finished(): boolean {
    return this.state === 'finished';
  }

  matches(node: string, pubkey: string): boolean {
    return (
      (this.node === undefined || this.node === node) &&
      (this.pubkey === undefined || this.pubkey === pubkey)
    );
  }

  /** Delivers an event: to the client waiting for one, else to the queue, else drops the stream. */
  push(event: T): void {
    if (this.state !== 'open') return;
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting({ value: event, done: false });
      return;
    }
    if (this.queue.size >= this.capacity) {
      this.drop();
      return;
    }
    this.queue.push(event);
  }

  next(): Promise<IteratorResult<T | SubscriptionError>> {
    if (this.queue.size > 0) {
      const result: IteratorResult<T> = { value: this.queue.shift(), done: false };
      if (++this.streak < YIELD_EVERY) return Promise.resolve(result);
      this.streak = 0;
      return new Promise((resolve) => setImmediate(resolve, result));
    }
    this.streak = 0;
    const failure = this.failure;
    if (this.state === 'dropped' && failure !== undefined) {
      // The error is the last value; the stream ends at the next call.
      this.state = 'ending';
      return Promise.resolve({ value: failure, done: false });
    }
    if (this.state !== 'open') {
      this.finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** The client left (or the response was cut): the stream ends at once. */
  return(): Promise<IteratorResult<T | SubscriptionError>> {
    this.queue.clear();
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the stream after what is queued (the hub is closing). */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    this.hub.detach(this);
    this.wake();
  }

  private drop(): void {
    const lost = this.queue.size;
    this.queue.clear();
    this.state = 'dropped';
    this.failure = new SubscriptionError(
      'SUBSCRIBER_TOO_SLOW',
      `subscription dropped: the client read its events too slowly (${lost} were waiting, ` +
        'the most kept for one subscriber); subscribe again to go on',
    );
    this.hub.detach(this);
    this.hub.droppedStream(this.info);
    this.onDropped?.();
  }

  /** Resolves a pending next() (none while events were queued) with what comes next. */
  private wake(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    void this.next().then(waiting);
  }

  private finish(): void {
    if (this.state === 'finished') return;
    this.state = 'finished';
    this.hub.detach(this);
    this.hub.release();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.({ value: undefined, done: true });
  }
}

/**
 * A FIFO of at most `capacity` items in a circular array grown on demand:
 * memory follows what is waiting, never what went through.
 */
class Ring<T> {
  private items: (T | undefined)[] = [];
  private start = 0;
  size = 0;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.start + this.size) % this.items.length] = item;
    this.size += 1;
  }

  /** The oldest item; the ring must not be empty. */
  shift(): T {
    const item = this.items[this.start] as T;
    this.items[this.start] = undefined;
    this.start = (this.start + 1) % this.items.length;
    this.size -= 1;
    return item;
  }

  clear(): void {
    this.items = [];
    this.start = 0;
    this.size = 0;
  }

  private grow(): void {
    const length = Math.min(Math.max(16, this.items.length * 2), Math.max(this.capacity, 1));
    const items = new Array<T | undefined>(length);
    for (let i = 0; i < this.size; i++) items[i] = this.items[(this.start + i) % this.items.length];
    this.items = items;
    this.start = 0;
  }
}
