import type { ListedChannel } from '../lnd/messages.js';

/** What a node's bootstrap request/reply subjects told: its open channels and connected peers. */
export interface NodeSnapshot {
  readonly channels: readonly ListedChannel[];
  /** Undefined when the peer listing could not be had (the channels may still be). */
  readonly onlinePeers: ReadonlySet<string> | undefined;
  /**
   * True when a part of it could not be had (a listing unanswered or unusable):
   * what it has is applied, and the node is asked again later.
   */
  readonly incomplete?: boolean;
}

/**
 * Asks a node for its snapshot; resolves undefined when it could not (logged by
 * the asker): the node is asked again later.
 */
export type Bootstrap = (node: string) => Promise<NodeSnapshot | undefined>;
