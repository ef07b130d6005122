import { NodeObservation } from './node-observation.js';
import type { ChannelView, PeerMonitor } from './peer-monitor.js';
import type { ChannelEventStoreConfig, JournalEntry, PeerState } from './store-types.js';

/**
 * What every part of a node's store shares: its peers, monitors and
 * channels, the node's observation, and the bookkeeping of changes (the
 * dirty set of history snapshots, the journal of a late restore). The
 * store is built in layers over it, each in a file of its own:
 * observed time (store-observation.ts), lnd's events and flap counts
 * (store-events.ts), history images, restore, journal and compaction
 * (store-history.ts), then the queries and windows of ChannelEventStore
 * (channel-event-store.ts).
 */
export abstract class StoreState {
  readonly node: string;
  /** When the node was observed (SPEC 4.4): every log of the node counts time through it. */
  readonly observation: NodeObservation;
  /** The latest time any event was applied at: a gap found to start earlier is counted again. */
  protected latestApplied = -Infinity;
  protected readonly monitors = new Map<string, PeerMonitor>();
  protected readonly channelIndex = new Map<string, ChannelView>();
  protected readonly peerStates = new Map<string, PeerState>();
  protected reorderedCount = 0;
  /** Bumped whenever a channel is added or removed (ChannelUptimeIndex rebuilds then). */
  protected channelVersion = 0;
  /** Peers changed since the last takeDirty(), when history is kept (trackChanges). */
  protected dirty: Set<string> | undefined;
  /** Applied events while the restore is still to come (beginJournal), up to journalLimit. */
  protected journal: JournalEntry[] | undefined;
  protected journalLimit = 0;
  protected journalFull = false;
  /** True while rebase() applies journaled events again: the observer saw them the first time. */
  protected replaying = false;

  constructor(protected readonly config: ChannelEventStoreConfig) {
    this.node = config.node;
    this.observation = new NodeObservation(config.observation);
    if (config.trackChanges === true) this.dirty = new Set();
  }

  /** The latest peer event seen for the peer, else the bootstrap list, else offline. */
  connectivity(pubkey: string): boolean {
    return (
      this.peerStates.get(pubkey)?.online ?? this.config.bootstrapConnectivity?.(pubkey) ?? false
    );
  }

  /** The start of what is kept: now - retention, or undefined when everything is kept. */
  horizon(now: number = this.config.clock.now()): number | undefined {
    const retention = this.config.retentionMs;
    return retention === undefined || retention <= 0 ? undefined : now - retention;
  }

  /** Keeps an applied event while the restore is still to come (beginJournal), up to the limit. */
  protected record(entry: JournalEntry): void {
    const journal = this.journal;
    if (journal === undefined || this.journalFull) return;
    if (journal.length >= this.journalLimit) {
      // Past the limit, later events are not applied again on top of the restore.
      this.journalFull = true;
      return;
    }
    journal.push(entry);
  }

  /** The time to apply a peer's event at: never before its latest applied event. */
  protected advance(pubkey: string, eventTime: number): number {
    const state = this.peerStates.get(pubkey);
    if (state === undefined) {
      this.peerStates.set(pubkey, { online: undefined, latest: eventTime, monitor: undefined });
      if (eventTime > this.latestApplied) this.latestApplied = eventTime;
      return eventTime;
    }
    return this.advanceState(state, pubkey, eventTime);
  }

  protected advanceState(state: PeerState, pubkey: string, eventTime: number): number {
    if (eventTime >= state.latest) {
      state.latest = eventTime;
      if (eventTime > this.latestApplied) this.latestApplied = eventTime;
      return eventTime;
    }
    this.reorderedCount += 1;
    this.config.observer?.reordered?.(pubkey, eventTime, state.latest);
    return state.latest;
  }
}
