import type { Subscription } from 'nats';
import { recordReadFailedLog, storeObserver, subscriptionHub } from './app-logging.js';
import { STOP_BUDGET_MS, stopSequence } from './app-stop.js';
import { systemScheduler, type Scheduler } from './clock.js';
import type { Settings } from './config/settings.js';
import { errorMessage } from './errors.js';
import { createGraphQLServer, GRAPHQL_PATH, type GraphQLServer } from './graphql/server.js';
import { renderedBy } from './http/graphiql-page.js';
import { createHttpServer, type HttpServer, type Readiness } from './http/http-server.js';
import { BootstrapPeers } from './ingest/bootstrap-peers.js';
import { EventIngest } from './ingest/event-ingest.js';
import { IngestStats } from './ingest/ingest-stats.js';
import { LndListings } from './ingest/lnd-listings.js';
import type { Bootstrap, ListChannels } from './ingest/node-snapshot.js';
import { RecordGate } from './ingest/record-gate.js';
import type { Logger } from './log/logger.js';
import { Exposition } from './metrics/exposition.js';
import { nodeRequests } from './nats/bootstrap-requests.js';
import { ConnectionState } from './nats/connection-state.js';
import { connectionOptions } from './nats/connection-options.js';
import { subscribeEvents } from './nats/event-subscription.js';
import { JetStreamDelivery } from './nats/jetstream-delivery.js';
import { NatsClient, NatsClosedError } from './nats/nats-client.js';
import { HistoryKeeper, type RestoreResult } from './history/history-keeper.js';
import { keyvHistoryKv } from './history/history-kv.js';
import { HistoryStats } from './history/history-stats.js';
import { FlapFlusher } from './persistence/flap-flusher.js';
import { FlushStats } from './persistence/flush-stats.js';
import { openFlapRecordStore } from './persistence/keyv-flap-record-store.js';
import { later } from './promises.js';
import { ChannelEventStore } from './store/channel-event-store.js';
import { NodeStores } from './store/node-stores.js';

/**
 * How often the clock is asked about the nodes' observation: a gap's end and
 * a silence's start are recorded at their own times whatever this is; it only
 * bounds how late chanfitness_node_observed follows.
 */
const OBSERVE_INTERVAL_MS = 1_000;

export interface AppOptions {
  readonly settings: Settings;
  readonly logger: Logger;
  /** The time and every timer of the service; the system scheduler by default. */
  readonly clock?: Scheduler;
}

/** The running service. */
export interface App {
  readonly http: HttpServer;
  readonly stores: NodeStores;
  readiness(): Readiness;
  /** Stops consuming, applies what is in flight, flushes flap counts, closes everything. */
  stop(): Promise<void>;
}

/**
 * The composition root: the pure store wrapped by its adapters (NATS in,
 * Keyv persistence, Prometheus and GraphQL out over HTTP). HTTP serves at
 * once; NATS is connected in the background and retried for as long as it
 * takes.
 */
export async function startApp(options: AppOptions): Promise<App> {
  const { settings, logger } = options;
  const clock = options.clock ?? systemScheduler;
  const ingestStats = new IngestStats();
  const flushStats = new FlushStats();
  const connection = new ConnectionState();
  // Before anything is opened: reading the credential files may fail.
  const natsOptions = await connectionOptions(settings.nats);

  // The address is bound before the store is touched: an exporter started on an address
  // already taken (a second instance, by mistake) exits without opening, creating or
  // writing the store of the one that runs there. Until everything is built, /readyz
  // says not ready and requests to /metrics and /graphql wait.
  const expositionBuilt = later<Exposition>();
  const graphqlBuilt = later<GraphQLServer>();
  let readinessNow = (): Readiness => ({
    ready: false,
    reasons: ['opening the flap record store'],
  });
  const http = await createHttpServer({
    listenAddress: settings.web.listen,
    exposition: expositionBuilt.promise,
    graphql: graphqlBuilt.promise,
    // Asked of yoga itself on the first browser visit: the GraphiQL options stay in src/graphql.
    graphiql: settings.graphql.graphiql
      ? async () => {
          const graphql = await graphqlBuilt.promise;
          return renderedBy(
            (url, init) => graphql.fetch(url, init),
            `http://localhost${GRAPHQL_PATH}`,
          );
        }
      : undefined,
    readiness: () => readinessNow(),
    logger,
    auth: settings.web.auth,
    tls: settings.web.tls,
    closeTimeoutMs: STOP_BUDGET_MS.http,
    clock,
    timeouts: {
      headerMs: settings.web.headerTimeoutMs,
      requestMs: settings.web.requestTimeoutMs,
    },
  });

  const records = await openFlapRecordStore(settings.store, {
    timeoutMs: settings.store.timeoutMs,
    logger,
    clock,
  }).catch(async (err: unknown) => {
    // Nothing else was started: the requests waiting get 503, and the address is let go.
    expositionBuilt.reject(err);
    graphqlBuilt.reject(err);
    await http.close();
    throw err;
  });

  const history = settings.history;
  const historyStats = new HistoryStats();
  historyStats.enabled = history.enabled;
  const bootstrapPeers = new BootstrapPeers();
  // GraphQL subscriptions: fed by the stores as they apply events, never slowing them.
  const events = subscriptionHub(settings.graphql.maxSubscriptions, logger, clock);
  const stores = new NodeStores((node) => {
    const store = new ChannelEventStore({
      node,
      clock,
      bootstrapConnectivity: (pubkey) => bootstrapPeers.connectivity(node, pubkey),
      observer: storeObserver(node, logger, clock, events),
      retentionMs: history.enabled ? history.retentionMs : undefined,
      trackChanges: history.enabled,
      observation: settings.observer,
    });
    // Events applied before the history could be read are applied again on top of it.
    if (history.enabled && !historyStats.restored) store.beginJournal(history.pendingLimit);
    return store;
  });

  // The stores are pure: the flap record a new monitor needs is read here, at the edge,
  // holding that peer's events meanwhile.
  const gate = new RecordGate({
    read: (node, pubkey) => records.read(node, pubkey),
    readFailed: recordReadFailedLog(logger, clock),
  });

  // Until NATS is connected there is nobody to ask (and no event to bootstrap for).
  let bootstrap: Bootstrap = () => Promise.resolve(undefined);
  let listChannels: ListChannels = () => Promise.resolve(undefined);
  // lnd's own uptime and lifetime of the channels, for comparing with ours.
  const lndListings = new LndListings({ clock, listChannels: (node) => listChannels(node) });
  const jetstreamMode = settings.nats.jetstream !== undefined;
  const ingest = new EventIngest({
    stores,
    gate,
    bootstrapPeers,
    bootstrap: (node) => bootstrap(node),
    clock,
    stats: ingestStats,
    logger,
    trackSequences: history.enabled && jetstreamMode,
    admission: { allowed: settings.nats.nodes, maxNodes: settings.nats.maxNodes },
    lndListings,
  });

  let jetstream: JetStreamDelivery | undefined;
  const keeper = history.enabled
    ? new HistoryKeeper({
        stores,
        kv: keyvHistoryKv(records),
        stats: historyStats,
        logger,
        clock,
        bootstrapPeers,
        intervalMs: history.snapshotIntervalMs,
        gate,
        jetstream: jetstreamMode
          ? {
              stream: settings.nats.jetstream.stream,
              durable: settings.nats.jetstream.durable,
              appliedThrough: () => jetstream?.appliedThrough() ?? 0,
              peerSequence: (node, pubkey) => ingest.peerSequence(node, pubkey),
            }
          : undefined,
      })
    : undefined;

  const flusher = new FlapFlusher({
    stores,
    retryRecordReads: (store) => gate.retryRecordReads(store),
    records,
    stats: flushStats,
    logger,
    clock,
    intervalMs: settings.flap.flushIntervalMs,
    stopTimeoutMs: STOP_BUDGET_MS.finalFlush,
    recordsOf:
      keeper === undefined ? undefined : (store) => keeper.committedFlapRecords(store.node),
  });
  flusher.start();

  // What the clock says of the nodes' observation (silence, the end of a gap),
  // while the input has caught up with the clock: in JetStream mode not while
  // a backlog is replayed (its statuses and events tell of that time).
  const observing = clock
    .every(OBSERVE_INTERVAL_MS, () => {
      if (jetstreamMode ? jetstream?.caughtUp === true : true) ingest.observe();
    })
    .unref();

  let stopping = false;
  const isStopping = (): boolean => stopping;
  /**
   * Restores the history, trying again (1 s doubling to 30 s) while the store
   * cannot be read; undefined when stopped first. Started at once: reading
   * overlaps setting up HTTP and connecting to NATS.
   */
  let firstRestoreTried: () => void = () => undefined;
  /** Resolves once the first try has succeeded or failed. */
  const firstRestoreTry = new Promise<void>((resolve) => {
    firstRestoreTried = resolve;
  });
  const restoring: Promise<RestoreResult | undefined> = (async () => {
    if (keeper === undefined) return undefined;
    let delayMs = 1_000;
    for (;;) {
      try {
        const result = await keeper.restore();
        keeper.start();
        return result;
      } catch (err) {
        firstRestoreTried();
        if (isStopping()) return undefined;
        logger.warn(
          { err: errorMessage(err), retryInMs: delayMs },
          jetstreamMode
            ? 'cannot read the history: nothing is consumed until it can be (the stream keeps the events)'
            : 'cannot read the history: consuming meanwhile, the events are joined to it once it can be read',
        );
        await clock.sleep(delayMs, { unref: true });
        if (isStopping()) return undefined;
        delayMs = Math.min(delayMs * 2, 30_000);
      }
    }
  })().finally(firstRestoreTried);
  if (keeper !== undefined && !jetstreamMode) {
    // Core NATS: restored nodes reconcile with their first listing after the restart.
    void restoring.then((result) => {
      if (result !== undefined) ingest.restoredNodes(result.nodes, 'reconcile');
    });
  }

  /**
   * Ready: NATS connected (in JetStream mode, the consumer consuming) and the
   * flap record store open. Not ready from the first moment of stop(), before
   * anything closes.
   */
  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (stopping) reasons.push('stopping');
    if (!records.isOpen) reasons.push('the flap record store is not open');
    if (keeper !== undefined && !historyStats.restored) {
      reasons.push(
        jetstreamMode
          ? 'restoring the history (the store cannot be read yet): nothing is consumed until it is'
          : 'restoring the history (the store cannot be read yet): events are kept to join to it',
      );
    }
    if (!connection.connected) reasons.push('NATS is not connected');
    if (settings.nats.jetstream !== undefined && jetstream?.consuming !== true) {
      reasons.push('the JetStream consumer is not set up');
    }
    // The store's state is shown, not required: events are consumed, counted and served
    // while it is down, and what it could not take is written once it is back.
    const store = records.stats;
    const since = store.downSince;
    const details = [
      store.up || since === undefined
        ? `store: up (${records.backend.kind})`
        : `store: down since ${new Date(since).toISOString()} (${records.backend.kind}; see the log and chanfitness_store_up)`,
    ];
    return { ready: reasons.length === 0, reasons, details };
  };

  const exposition = new Exposition(
    {
      stores,
      ingest: ingestStats,
      flush: flushStats,
      connection,
      clock,
      history: historyStats,
      store: records.stats,
      lnd: lndListings,
    },
    { windows: settings.metrics.windows },
  );
  const graphql = createGraphQLServer({
    stores,
    clock,
    readPersistedFlapRecord: (node, pubkey) => records.read(node, pubkey),
    heldChannelPeer: (node, channelPoint) => gate.heldChannelPeer(node, channelPoint),
    logger,
    limits: {
      maxDepth: settings.graphql.maxDepth,
      maxCost: settings.graphql.maxCost,
      maxAliases: settings.graphql.maxAliases,
    },
    introspection: settings.graphql.introspection,
    graphiql: settings.graphql.graphiql,
    corsOrigins: settings.web.corsOrigins ?? [],
    events,
  });

  expositionBuilt.resolve(exposition);
  graphqlBuilt.resolve(graphql);
  readinessNow = readiness;

  const natsSettings = settings.nats;
  const nats = new NatsClient(natsOptions, connection, logger, { clock });
  let subscriptions: Subscription[] = [];

  const consume = async (): Promise<void> => {
    // Connecting while the history is read.
    const connecting = nats.start();
    let resumeAfter: number | undefined;
    if (keeper !== undefined && jetstreamMode) {
      const result = await restoring;
      if (result === undefined || isStopping()) {
        await connecting;
        return;
      }
      resumeAfter = result.through;
      ingest.restoredNodes(
        result.nodes,
        result.through === undefined ? 'reconcile' : 'replay',
        result.skips,
      );
    } else if (keeper !== undefined) {
      // Core NATS: consumes once restored, or once a first try failed (events are then journaled).
      await firstRestoreTry;
    }
    const nc = await connecting;
    if (stopping) return;
    const requests = nodeRequests(nc, {
      prefix: natsSettings.subjectPrefix,
      timeoutMs: natsSettings.bootstrapTimeoutMs,
      logger,
      state: connection,
      clock,
    });
    bootstrap = requests.bootstrap;
    listChannels = requests.listChannels;
    for (const node of natsSettings.nodes) ingest.ensureNode(node);
    if (natsSettings.jetstream !== undefined) {
      const delivery = new JetStreamDelivery(nc, ingest, {
        settings: natsSettings.jetstream,
        prefix: natsSettings.subjectPrefix,
        logger,
        resumeAfter,
        clock,
      });
      jetstream = delivery;
      // Deliveries lost during the outage: take them again now, in order.
      nats.onReconnect(() => {
        delivery.reconnected();
      });
      await delivery.start();
    } else {
      subscriptions = subscribeEvents(nc, natsSettings.subjectPrefix, ingest, logger);
      // Core NATS keeps nothing for a disconnected subscriber: ask the nodes again.
      nats.onReconnect(() => {
        ingest.bootstrapAgain();
      });
      logger.info({ prefix: natsSettings.subjectPrefix }, 'subscribed to channel and peer events');
    }
  };
  const consuming = consume().catch((err: unknown) => {
    if (err instanceof NatsClosedError) return;
    logger.error({ err: errorMessage(err) }, 'cannot consume NATS events');
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    // Not ready from here on: readiness turns false before anything closes.
    stopping = true;
    stopped ??= stopSequence(
      {
        stopConsuming: () => {
          ingest.stop();
          observing.cancel();
          for (const subscription of subscriptions) subscription.unsubscribe();
        },
        jetstream: () => jetstream,
        gate,
        keeper,
        flusher,
        records,
        nats,
        consuming,
        events,
        http,
      },
      clock,
      logger,
    );
    return stopped;
  };

  return { http, stores, readiness, stop };
}
