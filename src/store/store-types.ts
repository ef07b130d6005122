import type { Clock } from '../clock.js';
import type { StoreRejection } from '../lnd/reject-reason.js';
import type { ObservationImage, ObservationSettings } from './node-observation.js';
import type { LogEvents } from './online-log.js';
import type { OnlinePeriod } from './online-runs.js';
import type { FlapRecord, PeerMonitor } from './peer-monitor.js';
import type { PeerImage } from './store-image.js';

export type { StoreRejection } from '../lnd/reject-reason.js';

/** What became of an event: applied, or rejected by the store. */
export type ApplyOutcome = 'applied' | StoreRejection;

/** Notifications for the shell (logs, counters); the store never needs them to be there. */
export interface StoreObserver {
  rejected?(reason: StoreRejection, pubkey: string, channelPoint: string, message: string): void;
  reordered?(pubkey: string, eventTime: number, appliedTime: number): void;
  /**
   * A peer event was applied at `appliedTime` (its own time, or the peer's
   * latest when it came late); `flapCount` is the peer's count after it,
   * undefined for a peer without a monitor (no flap counted). Called on the hot
   * path, synchronously, with plain arguments: nothing is allocated for it.
   */
  peerEventApplied?(
    pubkey: string,
    online: boolean,
    eventTime: number,
    appliedTime: number,
    flapCount: number | undefined,
  ): void;
  /** A channel was added (`opened`) or removed, with its peer's flap count after it. */
  channelEventApplied?(
    opened: boolean,
    pubkey: string,
    channelPoint: string,
    eventTime: number,
    appliedTime: number,
    flapCount: number,
  ): void;
}

/**
 * What the store is given, as lnd's chanfitness.Config. The peers' persisted
 * flap records are not read through it: whoever opens a channel of a peer
 * without a monitor hands the peer's record over (a LoadedRecord), read
 * beforehand (src/ingest/record-gate.ts).
 */
export interface ChannelEventStoreConfig {
  /** The lnd node whose events these are. */
  readonly node: string;
  readonly clock: Clock;
  /** Connectivity from the node's bootstrap list of peers, when it has been read. */
  readonly bootstrapConnectivity?: (pubkey: string) => boolean | undefined;
  readonly observer?: StoreObserver;
  /**
   * History kept, ms (--history.retention): committed events older than this
   * may be compacted away, and windows are clamped to now - retention.
   * Undefined or 0: everything is kept.
   */
  readonly retentionMs?: number;
  /** Keep the set of changed peers for takeDirty() (history snapshots); off as lnd. */
  readonly trackChanges?: boolean;
  /** --observer.timeout and --observer.settle; 1 min and 2 min by default. */
  readonly observation?: ObservationSettings;
}

/**
 * A peer's persisted flap record as it was read for the monitor an open
 * creates: the record (undefined when none is persisted), merged; or, when
 * the read failed, no record and not merged (the monitor counts from zero,
 * is not flushed, and takes the record by mergeRecord() once it is read).
 */
export interface LoadedRecord {
  readonly record: FlapRecord | undefined;
  readonly merged: boolean;
}

/** A peer with no persisted record (and what an open of a new peer assumes when given none). */
export const NO_RECORD: LoadedRecord = Object.freeze({ record: undefined, merged: true });

/** What a restore knows of the node's observation. */
export interface RestoredObservation {
  /** The persisted gaps and status; none for a node whose history has none. */
  readonly image?: ObservationImage | undefined;
  /** Core NATS: the exporter did not run from this time (its last write) on: a gap starts there. */
  readonly exporterDownSince?: number | undefined;
}

/** A peer as persistence restores it: its image and the retained events of its log. */
export interface RestoredPeer {
  readonly image: PeerImage;
  /** The committed events from image.monitor.log.offset on; none without a monitor. */
  readonly events: LogEvents | undefined;
}

/** Uptime over a window already clamped to the channel's lifetime (or the peer's log). */
export interface UptimeWindow {
  readonly from: number;
  readonly to: number;
  readonly uptime: number;
  /** The part of [from, to] during which the node was observed: what the ratio is over. */
  readonly observed: number;
}

/** A peer's offline periods over a window (its log's, outside the node's gaps). */
export interface Outages {
  readonly from: number;
  readonly to: number;
  /** Every offline period in the window, clipped to it, oldest first. */
  readonly periods: readonly OnlinePeriod[];
}

/** A flap count as lnd's FlapCount answers it: in memory first, then persisted. */
export interface FlapCountAnswer {
  readonly count: number;
  readonly lastFlap: number | undefined;
  /** True when the peer is monitored in memory. */
  readonly tracked: boolean;
}

/** Where an added channel comes from: an open event, or the start-up list of channels. */
export type ChannelSource = 'event' | 'bootstrap';

/** An applied event as the journal keeps it, to apply it again on top of a late restore. */
export type JournalEntry =
  | {
      readonly kind: 'status';
      readonly up: boolean;
      readonly time: number;
    }
  | {
      /** A bootstrap reply (the node is back), or a bootstrap that failed. */
      readonly kind: 'bootstrap';
      readonly answered: boolean;
      readonly time: number;
    }
  | {
      readonly kind: 'open';
      readonly pubkey: string;
      readonly channelPoint: string;
      readonly time: number;
      readonly source: ChannelSource;
      /** The record the open was given (it serves the monitor the open creates). */
      readonly loaded: LoadedRecord;
    }
  | {
      readonly kind: 'close';
      readonly pubkey: string;
      readonly channelPoint: string;
      readonly time: number;
    }
  | {
      readonly kind: 'peer';
      readonly pubkey: string;
      readonly online: boolean;
      readonly time: number;
    };

/** What the store keeps of every peer it has seen, monitored or not. */
export interface PeerState {
  /** State of the latest peer event seen; undefined before any. */
  online: boolean | undefined;
  /** Time of the latest applied event concerning the peer: time never runs backwards. */
  latest: number;
  /** The peer's monitor once it has one (also in `monitors`): one lookup per peer event. */
  monitor: PeerMonitor | undefined;
}
