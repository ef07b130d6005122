import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import { decodeChannelEvent } from '../lnd/decode-channel-event.js';
import { DecodeError } from '../lnd/decode-error.js';
import { decodePeerEvent } from '../lnd/decode-peer-event.js';
import type { ChannelEventMessage, PeerEventMessage } from '../lnd/messages.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import type { ApplyOutcome } from '../store/channel-event-store.js';
import type { NodeStores } from '../store/node-stores.js';
import type { BootstrapPeers } from './bootstrap-peers.js';
import { eventTime, MAX_FUTURE_MS } from './event-time.js';
import type { IngestStats } from './ingest-stats.js';
import type { Bootstrap } from './node-snapshot.js';
import type { RejectReason } from './reject-reason.js';

/** The two event subjects of a node: `<prefix>.<node>.channel_events` and `.peer_events`. */
export type EventSubject = 'channel_events' | 'peer_events';

/** A message as the NATS adapter hands it over. */
export interface InboundMessage {
  readonly node: string;
  readonly subject: EventSubject;
  readonly data: Uint8Array;
  /** JetStream message time (ms), when consuming a stream. */
  readonly streamTime?: number;
  /** Called once the message is applied or rejected (JetStream acknowledges it then). */
  readonly done?: () => void;
}

export interface EventIngestDeps {
  readonly stores: NodeStores;
  readonly bootstrapPeers: BootstrapPeers;
  readonly bootstrap: Bootstrap;
  readonly clock: Clock;
  readonly stats: IngestStats;
  readonly logger: Logger;
  /** Events held while a node bootstraps, at most; past it they are applied at once. */
  readonly maxHeldEvents?: number;
}

type DecodedEvent =
  | { readonly kind: 'channel'; readonly message: ChannelEventMessage }
  | { readonly kind: 'peer'; readonly message: PeerEventMessage };

type HeldEvent = DecodedEvent & { readonly time: number; readonly done: (() => void) | undefined };

interface NodeState {
  /** Events that arrived while the node's bootstrap was in flight, in arrival order. */
  held: HeldEvent[] | undefined;
}

const DEFAULT_MAX_HELD_EVENTS = 50_000;

/**
 * Decodes lnd's event messages, gives them their event time and applies them to
 * the store of their node, in delivery order. Bad input is counted and logged
 * (rate-limited) and never stops the messages around it.
 *
 * The first message of a node starts its bootstrap (its open channels and
 * connected peers, as lnd's Start adds the channels it has before consuming
 * events); the node's events wait until the bootstrap has answered, so that a
 * close is never applied before the listing that still shows the channel.
 */
export class EventIngest {
  private readonly nodes = new Map<string, NodeState>();
  private readonly rejectLog: RateLimitedLog;
  private readonly maxHeld: number;

  constructor(private readonly deps: EventIngestDeps) {
    this.rejectLog = new RateLimitedLog(deps.clock);
    this.maxHeld = deps.maxHeldEvents ?? DEFAULT_MAX_HELD_EVENTS;
  }

  /** Handles one message; never throws. */
  handle(message: InboundMessage): void {
    const receipt = this.deps.clock.now();
    const node = this.nodeState(message.node);
    let decoded: DecodedEvent;
    try {
      decoded =
        message.subject === 'channel_events'
          ? { kind: 'channel', message: decodeChannelEvent(message.data) }
          : { kind: 'peer', message: decodePeerEvent(message.data) };
    } catch (err) {
      this.reject(message, err instanceof DecodeError ? err.code : 'invalid_shape', err);
      return;
    }
    const time = eventTime(decoded.message.timestamp, message.streamTime, receipt);
    if (time - receipt > MAX_FUTURE_MS) {
      this.reject(
        message,
        'future_timestamp',
        new Error(`event time ${new Date(time).toISOString()} is more than 5 minutes ahead`),
      );
      return;
    }
    const event: HeldEvent = { ...decoded, time, done: message.done };
    if (node.held !== undefined) {
      if (node.held.length < this.maxHeld) {
        node.held.push(event);
        return;
      }
      // A bootstrap that takes this long no longer gets to hold the node's events.
      this.release(message.node, node);
    }
    this.apply(message.node, event);
  }

  /** Starts tracking a node (named in the settings) before any of its events. */
  ensureNode(node: string): void {
    this.nodeState(node);
  }

  /**
   * Asks every known node for its snapshot again (after a reconnect: core NATS
   * loses what was published meanwhile, and channels opened then are listed).
   */
  bootstrapAgain(): void {
    for (const node of this.nodes.keys()) this.startBootstrap(node);
  }

  /** Nodes whose bootstrap is in flight. */
  get bootstrapping(): number {
    let n = 0;
    for (const state of this.nodes.values()) if (state.held !== undefined) n += 1;
    return n;
  }

  private nodeState(node: string): NodeState {
    let state = this.nodes.get(node);
    if (state === undefined) {
      state = { held: undefined };
      this.nodes.set(node, state);
      this.deps.stores.getOrCreate(node);
      this.startBootstrap(node);
    }
    return state;
  }

  private startBootstrap(node: string): void {
    const state = this.nodes.get(node);
    if (state === undefined || state.held !== undefined) return;
    const held: HeldEvent[] = [];
    state.held = held;
    void this.applySnapshot(node).finally(() => {
      if (state.held === held) this.release(node, state);
    });
  }

  /** Applies the events held during a bootstrap, in order, and stops holding. */
  private release(node: string, state: NodeState): void {
    const held = state.held ?? [];
    state.held = undefined;
    for (const event of held) this.apply(node, event);
  }

  private async applySnapshot(node: string): Promise<void> {
    try {
      const snapshot = await this.deps.bootstrap(node);
      if (snapshot === undefined) return;
      if (snapshot.onlinePeers !== undefined) {
        this.deps.bootstrapPeers.set(node, snapshot.onlinePeers);
      }
      const store = this.deps.stores.getOrCreate(node);
      const now = this.deps.clock.now();
      for (const channel of snapshot.channels) {
        store.openChannel(channel.pubkey, channel.channelPoint, now, 'bootstrap');
      }
    } catch (err) {
      this.deps.logger.warn({ node, err: errorMessage(err) }, 'bootstrap failed');
    }
  }

  private apply(node: string, event: HeldEvent): void {
    const store = this.deps.stores.getOrCreate(node);
    const { type } = event.message;
    const settled = (outcome: ApplyOutcome): void => {
      if (outcome === 'applied') this.deps.stats.countApplied(node, event.kind, type);
      else this.deps.stats.countRejected(outcome);
      event.done?.();
    };
    if (event.kind === 'peer') {
      const { pubkey } = event.message;
      store.peerEvent(pubkey, event.message.type === 'PEER_ONLINE', event.time, settled);
      return;
    }
    const message = event.message;
    switch (message.type) {
      case 'OPEN_CHANNEL':
        store.openChannel(message.pubkey, message.channelPoint, event.time, 'event', settled);
        return;
      case 'CLOSED_CHANNEL':
        store.closeChannel(message.pubkey, message.channelPoint, event.time, settled);
        return;
      default:
        // lnd's other channel events are valid and counted, and change nothing.
        settled('applied');
    }
  }

  private reject(message: InboundMessage, reason: RejectReason, err: unknown): void {
    this.deps.stats.countRejected(reason);
    message.done?.();
    this.rejectLog.log(reason, (suppressed) => {
      this.deps.logger.warn(
        {
          node: message.node,
          subject: message.subject,
          reason,
          err: errorMessage(err),
          ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}),
        },
        'rejected message',
      );
    });
  }
}
