import type { NatsConnection } from 'nats';
import { systemScheduler, type Scheduler } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { connectionOptions } from '../nats/connection-options.js';
import { ConnectionState } from '../nats/connection-state.js';
import { NatsClient } from '../nats/nats-client.js';
import type { BridgeSettings } from './config/bridge-settings.js';
import { LndRestClient, readCredentials } from './lnd/lnd-rest-client.js';
import { LndStatus } from './lnd-status.js';
import { CorePublisher, JetStreamPublisher, type Publisher } from './nats/publisher.js';
import { RpcResponder } from './nats/rpc-responder.js';
import { StreamRelay } from './stream-relay.js';

/** How long the shutdown waits for published events to leave or be acknowledged. */
const CLOSE_TIMEOUT_MS = 5_000;

export interface RunningBridge {
  readonly nc: NatsConnection;
  readonly channelEvents: StreamRelay;
  readonly peerEvents: StreamRelay;
  readonly rpc: RpcResponder;
  /** lnd's availability on `<prefix>.<node>.status`. */
  readonly status: LndStatus;
  readonly publisher: Publisher;
  /** Resolves once the bridge has stopped: stop(), or the NATS connection closed for good. */
  readonly done: Promise<'stopped' | 'nats-closed'>;
  /** Closes the lnd streams, stops answering, flushes and drains NATS. Idempotent. */
  stop(): Promise<void>;
}

/** The subjects the bridge publishes and answers. */
export function bridgeSubjects(prefix: string, node: string) {
  return {
    channelEvents: `${prefix}.${node}.channel_events`,
    peerEvents: `${prefix}.${node}.peer_events`,
    status: `${prefix}.${node}.status`,
    rpcBase: `${prefix}.${node}.rpc`,
  };
}

/**
 * Starts the bridge: connects to NATS (waiting and retrying forever), then
 * relays lnd's SubscribeChannelEvents and SubscribePeerEvents streams to
 * `<prefix>.<node>.channel_events` / `.peer_events` and answers
 * `<prefix>.<node>.rpc.list_channels` / `.list_peers` from lnd's ListChannels /
 * ListPeers, and publishes lnd's availability on `<prefix>.<node>.status`
 * (LndStatus). Only read permissions are used (info:read, offchain:read, peers:read).
 */
export async function startBridge(
  settings: BridgeSettings,
  logger: Logger,
  /** Every time and timer of the bridge; the system scheduler by default. */
  clock: Scheduler = systemScheduler,
): Promise<RunningBridge> {
  const subjects = bridgeSubjects(settings.nats.subjectPrefix, settings.node);
  const natsClient = new NatsClient(
    await connectionOptions(settings.nats),
    new ConnectionState(),
    logger,
    { clock },
  );
  const nc = await natsClient.start();

  const client = new LndRestClient({
    baseUrl: settings.lnd.restUrl,
    credentials: () => readCredentials(settings.lnd.macaroonFile, settings.lnd.tlsCertFile),
    clock,
  });
  const publisher: Publisher = settings.nats.jetstream
    ? new JetStreamPublisher(nc, logger, { clock })
    : new CorePublisher(nc, logger, clock);
  const relay = (name: string, path: string, subject: string): StreamRelay => {
    const created: StreamRelay = new StreamRelay({
      name,
      path,
      subject,
      client,
      publisher,
      logger,
      retryMinMs: settings.lnd.retryMinMs,
      retryMaxMs: settings.lnd.retryMaxMs,
      clock,
      // Called only once started, when `status` exists.
      onHealthChange: (change) => {
        status.onStreamChange(created, change);
      },
    });
    return created;
  };
  const channelEvents = relay('channel events', 'v1/channels/subscribe', subjects.channelEvents);
  const peerEvents = relay('peer events', 'v1/peers/subscribe', subjects.peerEvents);
  const status = new LndStatus({
    subject: subjects.status,
    publisher,
    getInfo: (signal) => client.get('v1/getinfo', settings.lnd.timeoutMs, signal),
    streams: [channelEvents, peerEvents],
    intervalMs: settings.status.intervalMs,
    logger,
    clock,
  });
  const abort = new AbortController();
  const rpc = new RpcResponder({
    nc,
    client,
    subjectBase: subjects.rpcBase,
    timeoutMs: settings.lnd.timeoutMs,
    logger,
    signal: abort.signal,
  });
  rpc.start();
  channelEvents.start();
  peerEvents.start();
  status.start();
  logger.info(
    {
      lnd: settings.lnd.restUrl.origin,
      node: settings.node,
      publishes: [subjects.channelEvents, subjects.peerEvents, subjects.status],
      answers: [`${subjects.rpcBase}.list_channels`, `${subjects.rpcBase}.list_peers`],
      jetstream: settings.nats.jetstream,
    },
    'lnd bridge started',
  );

  let resolveDone: (how: 'stopped' | 'nats-closed') => void = () => undefined;
  const done = new Promise<'stopped' | 'nats-closed'>((resolve) => {
    resolveDone = resolve;
  });
  let natsClosed = false;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      abort.abort();
      await status.stop();
      await Promise.all([channelEvents.stop(), peerEvents.stop(), rpc.stop()]);
      // From now on nobody observes lnd; a closed connection can carry nothing.
      if (!natsClosed) status.publishStopped();
      try {
        await publisher.close(CLOSE_TIMEOUT_MS);
      } catch (err) {
        logger.warn({ err: errorMessage(err) }, 'flushing NATS at shutdown');
      }
      await natsClient.close();
      logger.info(
        {
          published: publisher.published,
          dropped: publisher.dropped,
          answered: rpc.answered,
          statusPublished: status.published,
        },
        'lnd bridge stopped',
      );
      resolveDone(natsClosed ? 'nats-closed' : 'stopped');
    })();
    return stopping;
  };
  // A connection closed for good (say, credentials refused on reconnect) ends the bridge.
  void nc.closed().then(() => {
    if (stopping === undefined) natsClosed = true;
    return stop();
  });

  return { nc, channelEvents, peerEvents, rpc, status, publisher, done, stop };
}
