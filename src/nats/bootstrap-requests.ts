import { ErrorCode, type NatsConnection, type NatsError } from 'nats';
import { systemScheduler, type Scheduler } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Bootstrap, ListChannels, NodeSnapshot } from '../ingest/node-snapshot.js';
import { decodeListChannels, decodeListPeers } from '../lnd/decode-rpc.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import { settleWithin } from '../promises.js';
import type { ConnectionState } from './connection-state.js';

const EMPTY_REQUEST = new TextEncoder().encode('{}');
/**
 * nats.js's own bound on a request, past ours: the scheduler's timeout decides,
 * this one only frees the request's slot should the scheduler's never come.
 */
const LIBRARY_TIMEOUT_MARGIN_MS = 1_000;

export interface BootstrapRequestsOptions {
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly state: ConnectionState;
  /** The requests' timeouts and the log's rate limit; the system scheduler by default. */
  readonly clock?: Scheduler;
}

function natsErrorCode(err: unknown): string | undefined {
  return (err as Partial<NatsError>).code;
}

/** Fields of a rate-limited line: how many like it were held back since the last one. */
const held = (suppressed: number) => (suppressed > 0 ? { suppressedSinceLast: suppressed } : {});

/** A node's rpc subjects asked over request/reply, with rate-limited warnings. */
interface Requester {
  /** The reply's data; undefined (counted and logged) without an answer. */
  readonly ask: (
    node: string,
    method: 'list_peers' | 'list_channels',
  ) => Promise<Uint8Array | undefined>;
  readonly warn: (key: string, fields: Record<string, unknown>, message: string) => void;
  /** The log's rate limiter, for lines other than warnings. */
  readonly limited: RateLimitedLog;
}

function requester(nc: NatsConnection, options: BootstrapRequestsOptions): Requester {
  const { prefix, timeoutMs, logger, state } = options;
  // Every tracked node fails its requests together when its bridge is down, and
  // again at every retry: at most five lines a minute per kind of failure.
  const clock = options.clock ?? systemScheduler;
  const limited = new RateLimitedLog(clock);
  const warn = (key: string, fields: Record<string, unknown>, message: string): void => {
    limited.log(key, (suppressed) => {
      logger.warn({ ...fields, ...held(suppressed) }, message);
    });
  };

  const ask = async (
    node: string,
    method: 'list_peers' | 'list_channels',
  ): Promise<Uint8Array | undefined> => {
    const subject = `${prefix}.${node}.rpc.${method}`;
    const request = nc.request(subject, EMPTY_REQUEST, {
      timeout: timeoutMs + LIBRARY_TIMEOUT_MARGIN_MS,
    });
    const settled = await settleWithin(clock, request, timeoutMs);
    if (settled.kind === 'done') return (await request).data;
    state.bootstrapFailures.set(node, (state.bootstrapFailures.get(node) ?? 0) + 1);
    const code = settled.kind === 'timeout' ? ErrorCode.Timeout : natsErrorCode(settled.err);
    const [key, why] =
      code === ErrorCode.NoResponders
        ? ['no_responder', 'no responder: is the lnd-to-NATS bridge of this node running?']
        : code === ErrorCode.Timeout || settled.kind === 'timeout'
          ? ['timeout', `no reply within ${timeoutMs} ms`]
          : ['request_error', errorMessage(settled.err)];
    warn(key, { node, subject }, `bootstrap request failed: ${why}`);
    return undefined;
  };
  return { ask, warn, limited };
}

/**
 * Decodes a list_channels reply; undefined (logged) when it is unusable. Bad
 * entries are skipped with a warning.
 */
function channelsOf(
  requests: Requester,
  node: string,
  reply: Uint8Array,
): NodeSnapshot['channels'] | undefined {
  try {
    const listed = decodeListChannels(reply);
    if (listed.skipped > 0) {
      requests.warn(
        'invalid_channels',
        { node, skipped: listed.skipped },
        'invalid channels in list_channels reply',
      );
    }
    return listed.channels;
  } catch (err) {
    requests.warn(
      'unusable_channels',
      { node, err: errorMessage(err) },
      'unusable list_channels reply',
    );
    return undefined;
  }
}

/** What a node's bridge is asked, over one rate-limited log. */
export interface NodeRequests {
  /** Its bootstrap: list_peers, then list_channels. */
  readonly bootstrap: Bootstrap;
  /**
   * Its list_channels alone: lnd's listing, for lnd's own uptime and lifetime
   * of each channel (refreshed after an lnd restart and periodically).
   */
  readonly listChannels: ListChannels;
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
  return nodeRequests(nc, options).bootstrap;
}

/**
 * The bootstrap (see bootstrapRequests) and the listing of channels alone,
 * whose failures are counted (chanfitness_bootstrap_failures_total) and logged
 * as the bootstrap's, in the same rate-limited lines.
 */
export function nodeRequests(nc: NatsConnection, options: BootstrapRequestsOptions): NodeRequests {
  const { logger } = options;
  const requests = requester(nc, options);
  const { ask, warn, limited } = requests;

  const bootstrap = async (node: string): Promise<NodeSnapshot | undefined> => {
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
          warn(
            'invalid_peers',
            { node, skipped: listed.skipped },
            'invalid peers in list_peers reply',
          );
      } catch (err) {
        incomplete = true;
        warn('unusable_peers', { node, err: errorMessage(err) }, 'unusable list_peers reply');
      }
    }
    const listedChannels =
      channelsReply === undefined ? undefined : channelsOf(requests, node, channelsReply);
    if (channelsReply !== undefined && listedChannels === undefined) incomplete = true;
    const channels = listedChannels ?? [];
    const fields = { node, channels: channels.length, onlinePeers: onlinePeers?.size, incomplete };
    if (incomplete) {
      // Asked again and again until complete: limited like the failures.
      limited.log('incomplete', (suppressed) => {
        logger.info({ ...fields, ...held(suppressed) }, 'bootstrapped node');
      });
    } else {
      // Once per node and connection, for at most --nats.max-nodes nodes.
      logger.info(fields, 'bootstrapped node');
    }
    return { channels, channelsListed: listedChannels !== undefined, onlinePeers, incomplete };
  };

  const listChannels = async (node: string): Promise<NodeSnapshot['channels'] | undefined> => {
    const reply = await ask(node, 'list_channels');
    return reply === undefined ? undefined : channelsOf(requests, node, reply);
  };
  return { bootstrap, listChannels };
}
