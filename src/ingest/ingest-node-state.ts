import type { Timer } from '../clock.js';
import type { ChannelEventMessage, PeerEventMessage, StatusMessage } from '../lnd/messages.js';
import type { ChannelEventStore } from '../store/channel-event-store.js';
import type { EventKind, NodeAppliedCounts } from './ingest-stats.js';
import type { NodeRecordGate, Settled } from './record-gate.js';

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

/** A decoded message of any subject. */
export type InboundEvent = ChannelEventMessage | PeerEventMessage | StatusMessage;

/** An event held while its node bootstraps. */
export interface BootstrapHeldEvent {
  readonly kind: EventKind;
  readonly message: InboundEvent;
  readonly time: number;
  readonly done: (() => void) | undefined;
  readonly seq: number | undefined;
}

/** What the ingest keeps of one node. */
export interface NodeState {
  /** Events that arrived while the node's bootstrap was in flight, in arrival order. */
  held: BootstrapHeldEvent[] | undefined;
  /** A bootstrap request of the node is in flight. */
  asking: boolean;
  /** The next try of a failed bootstrap, while one is scheduled. */
  retry: Timer | undefined;
  /** How long after the next failure the bootstrap is tried again. */
  retryDelayMs: number;
  /** The node's store, its record gate (every event goes through it) and counts, at hand for each of its events. */
  readonly store: ChannelEventStore;
  readonly gate: NodeRecordGate;
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

/** Whether the restored state already includes this message (a JetStream replay). */
export function replayIncludes(node: NodeState, message: InboundEvent, seq: number): boolean {
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

/** Skips the messages a restored state includes, until the replay passes them. */
export function setReplaySkip(state: NodeState, skip: ReplaySkipOf): void {
  let max = skip.floor;
  for (const through of skip.peers.values()) if (through > max) max = through;
  state.skip = skip;
  state.skipMax = max;
}
