import { ErrorCode, type NatsConnection, type NatsError } from 'nats';
import { errorMessage } from '../errors.js';
import type { Bootstrap, NodeSnapshot } from '../ingest/node-snapshot.js';
import { decodeListChannels, decodeListPeers } from '../lnd/decode-rpc.js';
import type { Logger } from '../log/logger.js';
import type { ConnectionState } from './connection-state.js';

const EMPTY_REQUEST = new TextEncoder().encode('{}');

export interface BootstrapRequestsOptions {
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly state: ConnectionState;
}

/**
 * Bootstraps a node through the request/reply subjects its NATS bridge serves:
 * `<prefix>.<node>.rpc.list_peers` (connectivity first, so that the channels are
 * added with it) then `.rpc.list_channels`. No responder or a timeout is a
 * warning and a count, never a failure; a snapshot missing a listing (not
 * answered, or not usable) is marked incomplete, and the node is asked again.
 */
export function bootstrapRequests(
  nc: NatsConnection,
  options: BootstrapRequestsOptions,
): Bootstrap {
  const { prefix, timeoutMs, logger, state } = options;

  const ask = async (
    node: string,
    method: 'list_peers' | 'list_channels',
  ): Promise<Uint8Array | undefined> => {
    const subject = `${prefix}.${node}.rpc.${method}`;
    try {
      const reply = await nc.request(subject, EMPTY_REQUEST, { timeout: timeoutMs });
      return reply.data;
    } catch (err) {
      state.bootstrapFailures.set(node, (state.bootstrapFailures.get(node) ?? 0) + 1);
      const code = (err as Partial<NatsError>).code;
      const why =
        code === ErrorCode.NoResponders
          ? 'no responder: is the lnd-to-NATS bridge of this node running?'
          : code === ErrorCode.Timeout
            ? `no reply within ${timeoutMs} ms`
            : errorMessage(err);
      logger.warn({ node, subject }, `bootstrap request failed: ${why}`);
      return undefined;
    }
  };

  return async (node: string): Promise<NodeSnapshot | undefined> => {
    const peersReply = await ask(node, 'list_peers');
    const channelsReply = await ask(node, 'list_channels');
    if (peersReply === undefined && channelsReply === undefined) return undefined;

    let incomplete = peersReply === undefined || channelsReply === undefined;
    let onlinePeers: Set<string> | undefined;
    if (peersReply !== undefined) {
      try {
        const listed = decodeListPeers(peersReply);
        onlinePeers = new Set(listed.peers);
        if (listed.skipped > 0)
          logger.warn({ node, skipped: listed.skipped }, 'invalid peers in list_peers reply');
      } catch (err) {
        incomplete = true;
        logger.warn({ node, err: errorMessage(err) }, 'unusable list_peers reply');
      }
    }
    let channels: NodeSnapshot['channels'] = [];
    if (channelsReply !== undefined) {
      try {
        const listed = decodeListChannels(channelsReply);
        channels = listed.channels;
        if (listed.skipped > 0) {
          logger.warn({ node, skipped: listed.skipped }, 'invalid channels in list_channels reply');
        }
      } catch (err) {
        incomplete = true;
        logger.warn({ node, err: errorMessage(err) }, 'unusable list_channels reply');
      }
    }
    logger.info(
      { node, channels: channels.length, onlinePeers: onlinePeers?.size, incomplete },
      'bootstrapped node',
    );
    return { channels, onlinePeers, incomplete };
  };
}
