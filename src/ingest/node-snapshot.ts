import type { ListedChannel } from '../lnd/messages.js';

/** What a node's bootstrap request/reply subjects told: its open channels and connected peers. */
export interface NodeSnapshot {
  readonly channels: readonly ListedChannel[];
  /**
   * True when `channels` is lnd's listing (list_channels answered and usable),
   * not an empty stand-in for one that could not be had: only then are lnd's
   * own figures of the channels taken from it.
   */
  readonly channelsListed?: boolean;
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

/**
 * Asks a node for its open channels alone (lnd's ListChannels), for lnd's own
 * figures; resolves undefined when it could not (logged and counted by the asker).
 */
export type ListChannels = (node: string) => Promise<readonly ListedChannel[] | undefined>;
