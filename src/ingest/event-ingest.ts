import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import { decodeChannelEvent } from '../lnd/decode-channel-event.js';
import { DecodeError } from '../lnd/decode-error.js';
import { decodePeerEvent } from '../lnd/decode-peer-event.js';
import { decodeStatus } from '../lnd/decode-status.js';
import type {
  ChannelEventMessage,
  ListedChannel,
  PeerEventMessage,
  StatusMessage,
} from '../lnd/messages.js';
import type { RejectReason } from '../lnd/reject-reason.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import type { ApplyOutcome, ChannelEventStore, Settled } from '../store/channel-event-store.js';
import type { NodeStores } from '../store/node-stores.js';
import type { BootstrapPeers } from './bootstrap-peers.js';
import { eventTime, MAX_FUTURE_MS, plausiblePayloadTime } from './event-time.js';
import type { EventKind, IngestStats, NodeAppliedCounts } from './ingest-stats.js';
import type { LndListings } from './lnd-listings.js';
import { NodeAdmission, type NodeAdmissionOptions } from './node-admission.js';
import type { Bootstrap, NodeSnapshot } from './node-snapshot.js';

/**
 * The subjects of a node: `<prefix>.<node>.channel_events`, `.peer_events`,
 * and `.status` (its bridge's status of lnd).
 */
export type EventSubject = 'channel_events' | 'peer_events' | 'status';

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
  /** When a failed bootstrap is asked again: 5 s, doubling up to 5 min, by default. */
  readonly bootstrapRetry?: BootstrapRetry;
  /** History is kept: per peer, the JetStream sequence of its last applied message is tracked. */
  readonly trackSequences?: boolean;
  /** Which nodes' events are taken (--nats.nodes, --nats.max-nodes); at most 100 nodes by default. */
  readonly admission?: NodeAdmissionOptions;
  /**
   * lnd's own figures of the channels (ListChannels' uptime and lifetime):
   * given the bootstrap listings, told of closes and of lnd coming back
   * (listed again then), and stopped with the ingest.
   */
  readonly lndListings?: LndListings;
}

/** How restored history meets a node's first bootstrap. */
export type RestoredNodeMode =
  /** JetStream: the stream replays what the state misses; the node is not asked again. */
  | 'replay'
  /** Core NATS: the first bootstrap reconciles the state with the node's listings. */
  | 'reconcile';

/** Messages a restored JetStream consumer skips per node: those its state already includes. */
export interface ReplaySkipOf {
  readonly floor: number;
  readonly peers: ReadonlyMap<string, number>;
}

/** The backoff of a failed bootstrap: the first delay, doubled after each failure up to the max. */
export interface BootstrapRetry {
  readonly firstMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BOOTSTRAP_RETRY: BootstrapRetry = { firstMs: 5_000, maxMs: 5 * 60_000 };

/** An event held while its node bootstraps. */
interface HeldEvent {
  readonly kind: EventKind;
  readonly message: InboundEvent;
  readonly time: number;
  readonly done: (() => void) | undefined;
  readonly seq: number | undefined;
}

interface NodeState {
  /** Events that arrived while the node's bootstrap was in flight, in arrival order. */
  held: HeldEvent[] | undefined;
  /** A bootstrap request of the node is in flight. */
  asking: boolean;
  /** The next try of a failed bootstrap, while one is scheduled. */
  retry: ReturnType<typeof setTimeout> | undefined;
  /** How long after the next failure the bootstrap is tried again. */
  retryDelayMs: number;
  /** The node's store and counts, at hand for each of its events. */
  readonly store: ChannelEventStore;
  readonly counts: NodeAppliedCounts;
  /** What counts an event of each type once settled, for events nobody waits on (core NATS). */
  readonly settlers: Map<string, Settled>;
  /** History restored for the node: its first bootstrap reconciles (core NATS) or is skipped. */
  restored: RestoredNodeMode | undefined;
  /** JetStream: per peer, the sequence of its last applied message (history in JetStream mode). */
  readonly peerSeqs: Map<string, number> | undefined;
  /** Messages the restored state includes, skipped until the replay passes them. */
  skip: ReplaySkipOf | undefined;
  skipMax: number;
  /** The node's last status said lnd is down (a later `up` means lnd restarted). */
  lndDown: boolean;
}

/** A decoded message of any subject. */
type InboundEvent = ChannelEventMessage | PeerEventMessage | StatusMessage;

const DEFAULT_MAX_HELD_EVENTS = 50_000;
const BEFORE_GENESIS = "timestamp before Bitcoin's genesis block, 2009-01-03T18:15:05Z";

/**
 * Decodes lnd's event messages, gives them their event time and applies them to
 * the store of their node, in delivery order. Bad input is counted and logged
 * (rate-limited) and never stops the messages around it.
 *
 * The first message of a node that decodes starts its bootstrap (its open
 * channels and connected peers, as lnd's Start adds the channels it has before
 * consuming events); the node's events wait until the bootstrap has answered,
 * so that a close is never applied before the listing that still shows the
 * channel. A bootstrap that fails is tried again in the background, with a
 * backoff, while the node's events are applied as they come.
 */
export class EventIngest {
  private readonly nodes = new Map<string, NodeState>();
  private readonly rejectLog: RateLimitedLog;
  /** Bootstrap failures and retries: every node can fail every few seconds. */
  private readonly bootstrapLog: RateLimitedLog;
  private readonly admission: NodeAdmission;
  private readonly maxHeld: number;
  private readonly retryBackoff: BootstrapRetry;
  private stopped = false;
  /** Restored nodes not seen yet, with how their history meets their first bootstrap. */
  private readonly restoredModes = new Map<string, RestoredNodeMode>();
  private readonly skips = new Map<string, ReplaySkipOf>();
  /** Messages skipped because the restored history includes them. */
  skippedReplayed = 0;

  constructor(private readonly deps: EventIngestDeps) {
    this.rejectLog = new RateLimitedLog(deps.clock);
    this.bootstrapLog = new RateLimitedLog(deps.clock);
    this.admission = new NodeAdmission(deps.stores, deps.admission);
    this.maxHeld = deps.maxHeldEvents ?? DEFAULT_MAX_HELD_EVENTS;
    this.retryBackoff = deps.bootstrapRetry ?? DEFAULT_BOOTSTRAP_RETRY;
  }

  /** Handles one message; never throws. */
  handle(message: InboundMessage): void {
    this.handleParts(message.node, message.subject, message.data, message.streamTime, message.done);
  }

  /**
   * Nodes whose store was restored from history, before any of their events:
   * in 'replay' mode their first bootstrap is skipped (the stream replays what
   * the state misses, skipping what it includes); in 'reconcile' mode it
   * closes the channels the node no longer lists, adds the new ones and
   * applies the connectivity that changed, at the reply time.
   */
  restoredNodes(
    nodes: Iterable<string>,
    mode: RestoredNodeMode,
    skips?: ReadonlyMap<string, ReplaySkipOf>,
  ): void {
    for (const node of nodes) {
      const state = this.nodes.get(node);
      if (state !== undefined) state.restored = mode;
      else this.restoredModes.set(node, mode);
      const skip = skips?.get(node);
      if (skip !== undefined) {
        if (state !== undefined) this.setSkip(state, skip);
        else this.skips.set(node, skip);
      }
    }
  }

  /** The JetStream sequence of the last message applied for this peer of the node. */
  peerSequence(node: string, pubkey: string): number | undefined {
    return this.nodes.get(node)?.peerSeqs?.get(pubkey);
  }

  /**
   * handle() with the message's parts as arguments: the NATS adapters call
   * this, so that a busy stream costs no message object per message.
   */
  handleParts(
    nodeName: string,
    subject: EventSubject,
    data: Uint8Array,
    streamTime?: number,
    done?: () => void,
    seq?: number,
  ): void {
    const receipt = this.deps.clock.now();
    let node = this.nodes.get(nodeName);
    if (node === undefined) {
      // Before decoding: a refused node costs a lookup and a count, nothing else.
      const refusal = this.admission.refusal(nodeName);
      if (refusal !== undefined) {
        this.reject(nodeName, subject, done, refusal, this.admission.explain(refusal));
        return;
      }
    }
    // The hot path: no wrapper object, no copy (an object spread per message
    // cost more than the decoding); an event object only while it is held.
    const kind: EventKind =
      subject === 'channel_events' ? 'channel' : subject === 'peer_events' ? 'peer' : 'status';
    let decoded: InboundEvent;
    try {
      decoded =
        kind === 'channel'
          ? decodeChannelEvent(data)
          : kind === 'peer'
            ? decodePeerEvent(data)
            : decodeStatus(data);
    } catch (err) {
      this.reject(
        nodeName,
        subject,
        done,
        err instanceof DecodeError ? err.code : 'invalid_shape',
        err,
      );
      return;
    }
    if (!plausiblePayloadTime(decoded.timestamp)) {
      this.reject(nodeName, subject, done, 'invalid_timestamp', BEFORE_GENESIS);
      return;
    }
    const time = eventTime(decoded.timestamp, streamTime, receipt);
    if (time - receipt > MAX_FUTURE_MS) {
      this.reject(
        nodeName,
        subject,
        done,
        'future_timestamp',
        new Error(`event time ${new Date(time).toISOString()} is more than 5 minutes ahead`),
      );
      return;
    }
    // Created by its first message that decodes: garbage names no node.
    node ??= this.nodeState(nodeName);
    if (seq !== undefined && node.skip !== undefined && this.included(node, decoded, seq)) {
      this.skippedReplayed += 1;
      done?.();
      return;
    }
    if (node.held !== undefined) {
      if (node.held.length < this.maxHeld) {
        node.held.push({ kind, message: decoded, time, done, seq });
        return;
      }
      // A bootstrap that takes this long no longer gets to hold the node's events.
      this.release(node);
    }
    this.apply(node, kind, decoded, time, done, seq);
  }

  /** Whether the restored state already includes this message (a JetStream replay). */
  private included(node: NodeState, message: InboundEvent, seq: number): boolean {
    const skip = node.skip as ReplaySkipOf;
    if (seq > node.skipMax) {
      // Past everything the state includes: no more look-ups.
      node.skip = undefined;
      return false;
    }
    if (seq <= skip.floor) return true;
    const pubkey = (message as { pubkey?: string }).pubkey;
    const through = pubkey === undefined ? undefined : skip.peers.get(pubkey);
    return through !== undefined && seq <= through;
  }

  private setSkip(state: NodeState, skip: ReplaySkipOf): void {
    let max = skip.floor;
    for (const through of skip.peers.values()) if (through > max) max = through;
    state.skip = skip;
    state.skipMax = max;
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

  /**
   * What the clock says of every node's observation at now (a node's
   * silence, a gap's end): called on a timer while the input has caught up
   * with the clock (never while a JetStream backlog is replayed).
   */
  observe(now: number = this.deps.clock.now()): void {
    for (const store of this.deps.stores.values()) store.tick(now);
  }

  /** Asks nothing any more (shutdown): scheduled retries are cancelled. */
  stop(): void {
    this.stopped = true;
    for (const state of this.nodes.values()) this.cancelRetry(state);
    this.deps.lndListings?.stop();
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
      state = {
        held: undefined,
        asking: false,
        retry: undefined,
        retryDelayMs: this.retryBackoff.firstMs,
        store: this.deps.stores.getOrCreate(node),
        counts: this.deps.stats.nodeCounts(node),
        settlers: new Map(),
        restored: this.restoredModes.get(node),
        peerSeqs: this.deps.trackSequences === true ? new Map() : undefined,
        skip: undefined,
        skipMax: 0,
        lndDown: false,
      };
      this.restoredModes.delete(node);
      const skip = this.skips.get(node);
      if (skip !== undefined) {
        this.skips.delete(node);
        this.setSkip(state, skip);
      }
      this.nodes.set(node, state);
      // lnd's figures: listed by the bootstrap, or at once when there is none.
      this.deps.lndListings?.track(node, state.restored === 'replay');
      // A restored node in replay mode: the stream brings what its state misses.
      if (state.restored !== 'replay') this.startBootstrap(node);
    }
    return state;
  }

  /**
   * Asks a node for its snapshot, holding its events meanwhile; a retry that
   * was scheduled is replaced (and the backoff starts over).
   */
  private startBootstrap(node: string): void {
    const state = this.nodes.get(node);
    if (state === undefined || state.asking || this.stopped) return;
    this.cancelRetry(state);
    state.retryDelayMs = this.retryBackoff.firstMs;
    const held: HeldEvent[] = [];
    state.held = held;
    void this.ask(node, state, held);
  }

  /**
   * One try. Events held for it (none for a retry) are released when it has
   * answered, whatever the answer; a failure schedules the next try.
   */
  private async ask(node: string, state: NodeState, held: HeldEvent[] | undefined): Promise<void> {
    state.asking = true;
    let complete = false;
    try {
      complete = await this.applySnapshot(node, state, held);
    } finally {
      state.asking = false;
      if (held !== undefined && state.held === held) this.release(state);
      if (complete) state.retryDelayMs = this.retryBackoff.firstMs;
      else this.scheduleRetry(node, state);
    }
  }

  private scheduleRetry(node: string, state: NodeState): void {
    if (this.stopped) return;
    this.cancelRetry(state);
    const delayMs = state.retryDelayMs;
    state.retryDelayMs = Math.min(delayMs * 2, this.retryBackoff.maxMs);
    this.bootstrapLog.log('retry', (suppressed) => {
      this.deps.logger.info(
        {
          node,
          retryInMs: delayMs,
          ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}),
        },
        'bootstrap incomplete: asking the node again later, applying its events meanwhile',
      );
    });
    const timer = setTimeout(() => {
      state.retry = undefined;
      if (!this.stopped && !state.asking) void this.ask(node, state, undefined);
    }, delayMs);
    // A retry alone keeps nothing running.
    timer.unref();
    state.retry = timer;
  }

  private cancelRetry(state: NodeState): void {
    if (state.retry === undefined) return;
    clearTimeout(state.retry);
    state.retry = undefined;
  }

  /** Applies the events held during a bootstrap, in order, and stops holding. */
  private release(state: NodeState): void {
    const held = state.held ?? [];
    state.held = undefined;
    for (const event of held) {
      this.apply(state, event.kind, event.message, event.time, event.done, event.seq);
    }
  }

  /**
   * Asks for the node's snapshot and applies what it got; true when it got
   * all of it. The listed channels are added at the reply time, or at the
   * time of the first event held for this bootstrap when that is earlier (a
   * JetStream backlog): the store resumes where its input resumes, and the
   * held events then apply at their own times, none of them reordered.
   */
  private async applySnapshot(
    node: string,
    state: NodeState,
    held: readonly HeldEvent[] | undefined,
  ): Promise<boolean> {
    // lnd's figures come with the listing: closes applied meanwhile are kept out of it.
    const listing = this.deps.lndListings?.begin(node);
    let listed: readonly ListedChannel[] | undefined;
    try {
      const snapshot = await this.deps.bootstrap(node);
      if (snapshot?.channelsListed === true) listed = snapshot.channels;
      if (snapshot === undefined) {
        state.store.bootstrapped(false, this.deps.clock.now());
        return false;
      }
      if (snapshot.onlinePeers !== undefined) {
        this.deps.bootstrapPeers.set(node, snapshot.onlinePeers);
      }
      const replyTime = this.deps.clock.now();
      // Still there when the hold overflowed and let them go: they were applied from that time.
      const firstHeld = held?.[0]?.time;
      const time = firstHeld !== undefined && firstHeld < replyTime ? firstHeld : replyTime;
      // The node answered: it is back (a gap it was in ends the settle time later).
      state.store.bootstrapped(true, replyTime);
      if (state.restored === 'reconcile') {
        if (snapshot.incomplete === true) return false;
        state.restored = undefined;
        this.reconcile(node, state, snapshot, replyTime);
        return true;
      }
      for (const channel of snapshot.channels) {
        state.store.openChannel(channel.pubkey, channel.channelPoint, time, 'bootstrap');
      }
      return snapshot.incomplete !== true;
    } catch (err) {
      state.store.bootstrapped(false, this.deps.clock.now());
      this.bootstrapLog.log('failed', (suppressed) => {
        this.deps.logger.warn(
          {
            node,
            err: errorMessage(err),
            ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}),
          },
          'bootstrap failed',
        );
      });
      return false;
    } finally {
      // Before the held events are released: a close among them drops its channel's figures.
      if (listing !== undefined) this.deps.lndListings?.end(listing, listed, this.deps.clock.now());
    }
  }

  /**
   * The first listing after a restore (core NATS, where what happened while
   * the exporter was down is lost): channels the node no longer lists are
   * closed, listed channels the store lacks are added, and peers whose listed
   * connectivity differs from the restored one get it, all at the reply time.
   */
  private reconcile(node: string, state: NodeState, snapshot: NodeSnapshot, time: number): void {
    const { store } = state;
    const listed = new Set(snapshot.channels.map((c) => c.channelPoint));
    let closed = 0;
    let opened = 0;
    let changed = 0;
    for (const channel of [...store.channels()]) {
      if (listed.has(channel.channelPoint)) continue;
      store.closeChannel(channel.peer.pubkey, channel.channelPoint, time);
      closed += 1;
    }
    const online = snapshot.onlinePeers;
    if (online !== undefined) {
      for (const pubkey of [...store.knownPeers()]) {
        const listed = online.has(pubkey);
        // The restored state: a monitor's own, else the last peer event's (the
        // listing just read is already the fallback of connectivity()).
        const restored = store.peer(pubkey)?.online ?? store.connectivity(pubkey);
        if (restored === listed) continue;
        store.peerEvent(pubkey, listed, time);
        changed += 1;
      }
    }
    for (const channel of snapshot.channels) {
      if (store.channel(channel.channelPoint) !== undefined) continue;
      store.openChannel(channel.pubkey, channel.channelPoint, time, 'bootstrap');
      opened += 1;
    }
    this.deps.logger.info(
      { node, closed, opened, connectivityChanged: changed },
      'restored history reconciled with the node listings',
    );
  }

  private apply(
    node: NodeState,
    kind: EventKind,
    message: InboundEvent,
    time: number,
    done: (() => void) | undefined,
    seq?: number,
  ): void {
    const { store } = node;
    const { type } = message;
    const peerSeqs = node.peerSeqs;
    // Core NATS: nobody waits on the event, its type's settler counts it (no
    // closure per event). JetStream: a closure acknowledges this message.
    const settled =
      done === undefined
        ? (node.settlers.get(type) ?? this.settlerOf(node, kind, type))
        : peerSeqs !== undefined && seq !== undefined
          ? (outcome: ApplyOutcome) => {
              const { pubkey } = message as { pubkey?: string };
              if (pubkey !== undefined) peerSeqs.set(pubkey, seq);
              this.settle(node.counts, kind, type, outcome, done);
            }
          : (outcome: ApplyOutcome) => {
              this.settle(node.counts, kind, type, outcome, done);
            };
    if (kind === 'peer') {
      const { pubkey } = message as PeerEventMessage;
      store.peerEvent(pubkey, type === 'PEER_ONLINE', time, settled);
      return;
    }
    if (kind === 'status') {
      const { up } = message as StatusMessage;
      // lnd back after a down (or after a silence: a gap still open): lnd
      // restarted, or may have, and its own figures with it; list them again.
      const back =
        up && (node.lndDown || (!store.observed && store.observation.closesAt === Infinity));
      node.lndDown = !up;
      store.status(up, time);
      settled('applied');
      if (back) this.deps.lndListings?.refresh(store.node);
      return;
    }
    const channel = message as ChannelEventMessage;
    switch (channel.type) {
      case 'OPEN_CHANNEL':
        store.openChannel(channel.pubkey, channel.channelPoint, time, 'event', settled);
        this.deps.lndListings?.opened(store.node, channel.channelPoint);
        return;
      case 'CLOSED_CHANNEL':
        this.deps.lndListings?.closed(
          store.node,
          channel.channelPoint,
          store.channel(channel.channelPoint) !== undefined,
        );
        store.closeChannel(channel.pubkey, channel.channelPoint, time, settled);
        return;
      default:
        // lnd's other channel events are valid and counted, and change nothing.
        settled('applied');
    }
  }

  private settlerOf(node: NodeState, kind: EventKind, type: string): Settled {
    const settler = (outcome: ApplyOutcome): void => {
      this.settle(node.counts, kind, type, outcome, undefined);
    };
    node.settlers.set(type, settler);
    return settler;
  }

  /** Counts what became of an event, then lets its deliverer know (JetStream acknowledges). */
  private settle(
    counts: NodeAppliedCounts,
    kind: EventKind,
    type: string,
    outcome: ApplyOutcome,
    done: (() => void) | undefined,
  ): void {
    if (outcome === 'applied') counts.count(kind, type);
    else this.deps.stats.countRejected(outcome);
    done?.();
  }

  private reject(
    node: string,
    subject: EventSubject,
    done: (() => void) | undefined,
    reason: RejectReason,
    err: unknown,
  ): void {
    this.deps.stats.countRejected(reason);
    done?.();
    this.rejectLog.log(reason, (suppressed) => {
      this.deps.logger.warn(
        {
          node,
          subject,
          reason,
          err: errorMessage(err),
          ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}),
        },
        'rejected message',
      );
    });
  }
}
