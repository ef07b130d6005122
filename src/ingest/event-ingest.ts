import type { Scheduler } from '../clock.js';
import { errorMessage } from '../errors.js';
import { decodeChannelEvent } from '../lnd/decode-channel-event.js';
import { DecodeError } from '../lnd/decode-error.js';
import { decodePeerEvent } from '../lnd/decode-peer-event.js';
import { decodeStatus } from '../lnd/decode-status.js';
import type { ChannelEventMessage, PeerEventMessage, StatusMessage } from '../lnd/messages.js';
import type { RejectReason } from '../lnd/reject-reason.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import type { ApplyOutcome } from '../store/channel-event-store.js';
import type { NodeStores } from '../store/node-stores.js';
import type { BootstrapPeers } from './bootstrap-peers.js';
import { eventTime, MAX_FUTURE_MS, plausiblePayloadTime } from './event-time.js';
import {
  DEFAULT_BOOTSTRAP_RETRY,
  replayIncludes,
  setReplaySkip,
  type BootstrapRetry,
  type InboundEvent,
  type NodeState,
  type ReplaySkipOf,
  type RestoredNodeMode,
} from './ingest-node-state.js';
import type { EventKind, IngestStats, NodeAppliedCounts } from './ingest-stats.js';
import type { LndListings } from './lnd-listings.js';
import { NodeAdmission, type NodeAdmissionOptions } from './node-admission.js';
import { NodeBootstraps } from './node-bootstrap.js';
import type { Bootstrap } from './node-snapshot.js';
import type { RecordGate, Settled } from './record-gate.js';

export {
  DEFAULT_BOOTSTRAP_RETRY,
  type BootstrapRetry,
  type ReplaySkipOf,
  type RestoredNodeMode,
} from './ingest-node-state.js';

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
  /** Every event reaches its store through it: the first open of a peer waits for the peer's flap record. */
  readonly gate: RecordGate;
  readonly bootstrapPeers: BootstrapPeers;
  readonly bootstrap: Bootstrap;
  /** Receipt times, and the timers of the bootstrap retries. */
  readonly clock: Scheduler;
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

const DEFAULT_MAX_HELD_EVENTS = 50_000;
const BEFORE_GENESIS = "timestamp before Bitcoin's genesis block, 2009-01-03T18:15:05Z";

/**
 * Decodes lnd's event messages, gives them their event time and applies them to
 * the store of their node, in delivery order, through the node's record gate
 * (the first open of a peer waits there for the peer's flap record). Bad
 * input is counted and logged (rate-limited) and never stops the messages
 * around it.
 *
 * The first message of a node that decodes starts its bootstrap
 * (NodeBootstraps): the node's events wait until it has answered, so that a
 * close is never applied before the listing that still shows the channel.
 */
export class EventIngest {
  private readonly nodes = new Map<string, NodeState>();
  private readonly rejectLog: RateLimitedLog;
  private readonly bootstraps: NodeBootstraps;
  private readonly admission: NodeAdmission;
  private readonly maxHeld: number;
  private readonly retryBackoff: BootstrapRetry;
  /** Restored nodes not seen yet, with how their history meets their first bootstrap. */
  private readonly restoredModes = new Map<string, RestoredNodeMode>();
  private readonly skips = new Map<string, ReplaySkipOf>();
  /** Messages skipped because the restored history includes them. */
  skippedReplayed = 0;

  constructor(private readonly deps: EventIngestDeps) {
    this.rejectLog = new RateLimitedLog(deps.clock);
    this.admission = new NodeAdmission(deps.stores, deps.admission);
    this.maxHeld = deps.maxHeldEvents ?? DEFAULT_MAX_HELD_EVENTS;
    this.retryBackoff = deps.bootstrapRetry ?? DEFAULT_BOOTSTRAP_RETRY;
    this.bootstraps = new NodeBootstraps({
      bootstrap: deps.bootstrap,
      bootstrapPeers: deps.bootstrapPeers,
      clock: deps.clock,
      logger: deps.logger,
      retry: this.retryBackoff,
      lndListings: deps.lndListings,
      applyHeld: (state, event) => {
        this.apply(state, event.kind, event.message, event.time, event.done, event.seq);
      },
    });
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
        if (state !== undefined) setReplaySkip(state, skip);
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
    if (seq !== undefined && node.skip !== undefined && replayIncludes(node, decoded, seq)) {
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
      this.bootstraps.release(node);
    }
    this.apply(node, kind, decoded, time, done, seq);
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
    for (const [node, state] of this.nodes) this.bootstraps.start(node, state);
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
    this.bootstraps.stop(this.nodes.values());
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
      const store = this.deps.stores.getOrCreate(node);
      state = {
        held: undefined,
        asking: false,
        retry: undefined,
        retryDelayMs: this.retryBackoff.firstMs,
        store,
        gate: this.deps.gate.of(store),
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
        setReplaySkip(state, skip);
      }
      this.nodes.set(node, state);
      // lnd's figures: listed by the bootstrap, or at once when there is none.
      this.deps.lndListings?.track(node, state.restored === 'replay');
      // A restored node in replay mode: the stream brings what its state misses.
      if (state.restored !== 'replay') this.bootstraps.start(node, state);
    }
    return state;
  }

  private apply(
    node: NodeState,
    kind: EventKind,
    message: InboundEvent,
    time: number,
    done: (() => void) | undefined,
    seq?: number,
  ): void {
    const { store, gate } = node;
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
      gate.peerEvent(pubkey, type === 'PEER_ONLINE', time, settled);
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
        gate.openChannel(channel.pubkey, channel.channelPoint, time, 'event', settled);
        this.deps.lndListings?.opened(store.node, channel.channelPoint);
        return;
      case 'CLOSED_CHANNEL':
        this.deps.lndListings?.closed(
          store.node,
          channel.channelPoint,
          store.channel(channel.channelPoint) !== undefined,
        );
        gate.closeChannel(channel.pubkey, channel.channelPoint, time, settled);
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
