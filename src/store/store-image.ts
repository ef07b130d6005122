import type { LogHeader } from './online-log.js';

/**
 * The state of a store as plain data, peer by peer: what history persistence
 * writes and restores. Times are milliseconds since the Unix epoch.
 */

/** A channel of a monitored peer. */
export interface ChannelImage {
  readonly channelPoint: string;
  readonly openedAt: number;
  /**
   * The peer's online time (its log's running total) at the opening, once
   * final: lifetime uptime stays exact after the events before it are compacted.
   */
  readonly atOpening: number | undefined;
  /** The node's unobserved time up to the opening; computed from the gaps when absent. */
  readonly unobservedAtOpening?: number | undefined;
}

/** A peer monitor, its log's events aside (they are written apart, in segments). */
export interface MonitorImage {
  readonly flapCount: number;
  readonly lastFlap: number | undefined;
  readonly online: boolean;
  readonly recordMerged: boolean;
  readonly createdAt: number;
  /** The node's unobserved time up to createdAt; computed from the gaps when absent. */
  readonly unobservedAtCreation?: number | undefined;
  readonly channels: readonly ChannelImage[];
  readonly log: LogHeader;
}

/** Everything the store knows of one peer. */
export interface PeerImage {
  readonly pubkey: string;
  /** State of the latest peer event seen; undefined before any. */
  readonly connectivity: boolean | undefined;
  /** Time of the latest applied event concerning the peer. */
  readonly latest: number;
  readonly monitor: MonitorImage | undefined;
}
