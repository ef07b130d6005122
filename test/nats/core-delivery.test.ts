import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { EventIngest, type BootstrapRetry } from '../../src/ingest/event-ingest.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { bootstrapRequests } from '../../src/nats/bootstrap-requests.js';
import { ConnectionState } from '../../src/nats/connection-state.js';
import { NatsClient } from '../../src/nats/nats-client.js';
import { subscribeEvents } from '../../src/nats/event-subscription.js';
import { systemScheduler } from '../../src/clock.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { captureLogger } from '../support/log-capture.js';
import {
  bytes,
  listChannelsJson,
  listPeersJson,
  openChannelJson,
  peerEventJson,
} from '../support/lnd-json.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { TcpProxy } from '../faults/support/tcp-proxy.js';
import { channelPoint, pubkey, RecordReader } from '../support/store-fixture.js';

const SHARED_NATS = 'nats://127.0.0.1:4222';

function pipeline(
  nc: NatsConnection,
  prefix: string,
  options: { bootstrapRetry?: BootstrapRetry } = {},
) {
  const log = captureLogger();
  const state = new ConnectionState();
  const reader = new RecordReader();
  const bootstrapPeers = new BootstrapPeers();
  const stores = new NodeStores(
    (node) =>
      new ChannelEventStore({
        node,
        clock: systemScheduler,
        bootstrapConnectivity: (pk) => bootstrapPeers.connectivity(node, pk),
      }),
  );
  const stats = new IngestStats();
  const gate = new RecordGate({ read: reader.readOf });
  const ingest = new EventIngest({
    stores,
    gate,
    bootstrapPeers,
    clock: systemScheduler,
    stats,
    logger: log.logger,
    bootstrap: bootstrapRequests(nc, { prefix, timeoutMs: 300, logger: log.logger, state }),
    ...(options.bootstrapRetry === undefined ? {} : { bootstrapRetry: options.bootstrapRetry }),
  });
  const subscriptions = subscribeEvents(nc, prefix, ingest, log.logger);
  ingests.push(ingest);
  return { log, state, stores, gate, stats, ingest, subscriptions };
}

/** Every pipeline's ingest, stopped after each test (no retry outlives its test). */
const ingests: EventIngest[] = [];

describe('NATS core delivery (real NATS)', function () {
  this.timeout(30_000);
  let nc: NatsConnection;
  let prefix: string;

  beforeEach(async () => {
    nc = await connect({ servers: SHARED_NATS });
    prefix = `test${randomBytes(4).toString('hex')}.lnd`;
  });
  afterEach(async () => {
    for (const ingest of ingests.splice(0)) ingest.stop();
    await nc.drain();
  });

  it('applies a node channel and peer events in publication order, with the node from the subject', async () => {
    const p = pipeline(nc, prefix);
    await nc.flush();
    const peer = pubkey(1);
    const publisher = await connect({ servers: SHARED_NATS });
    publisher.publish(
      `${prefix}.alice.channel_events`,
      bytes(openChannelJson(peer, channelPoint(1))),
    );
    for (let i = 0; i < 100; i++) {
      publisher.publish(`${prefix}.alice.peer_events`, bytes(peerEventJson(peer, i % 2 === 0)));
    }
    publisher.publish(`${prefix}.bob.peer_events`, bytes(peerEventJson(peer, true)));
    await publisher.drain();

    await eventually(
      () => p.stats.applied.get('alice')?.get('peer')?.get('PEER_OFFLINE') === 50,
      'events',
    );
    const store = p.stores.get('alice');
    assert.ok(store);
    await p.gate.idle('alice');
    assert.equal(store.channel(channelPoint(1))?.peer.pubkey, peer);
    // 1 flap at creation, then 100 events: the last one (i = 99) was offline.
    assert.equal(store.peer(peer)?.flapCount, 101);
    assert.equal(store.peer(peer)?.online, false);
    assert.ok(p.stores.get('bob'), 'a second node gets its own store');
    assert.equal(p.stores.get('bob')?.peer(peer), undefined);
  });

  it('bootstraps a node through its rpc subjects before applying its events', async () => {
    const peer = pubkey(2);
    const listed = channelPoint(2);
    const responder = await connect({ servers: SHARED_NATS });
    responder.subscribe(`${prefix}.carol.rpc.list_peers`, {
      callback: (_e, m) => m.respond(bytes(listPeersJson([peer]))),
    });
    responder.subscribe(`${prefix}.carol.rpc.list_channels`, {
      callback: (_e, m) =>
        m.respond(bytes({ result: listChannelsJson([{ pubkey: peer, channelPoint: listed }]) })),
    });
    await responder.flush();

    const p = pipeline(nc, prefix);
    await nc.flush();
    nc.publish(`${prefix}.carol.peer_events`, bytes(peerEventJson(peer, false)));

    await eventually(
      () => p.stats.applied.get('carol')?.get('peer')?.get('PEER_OFFLINE') === 1,
      'the peer event',
    );
    const store = p.stores.get('carol');
    assert.ok(store);
    assert.equal(store.channel(listed)?.peer.pubkey, peer);
    // Created online from the listing (1 flap), then the held offline event (2).
    assert.equal(store.peer(peer)?.flapCount, 2);
    assert.equal(store.peer(peer)?.online, false);
    await responder.drain();
  });

  it('treats a node without a responder as a warning, counts it, and still applies its events', async () => {
    const p = pipeline(nc, prefix);
    await nc.flush();
    nc.publish(`${prefix}.dave.channel_events`, bytes(openChannelJson(pubkey(3), channelPoint(3))));
    await eventually(
      () => p.stats.applied.get('dave')?.get('channel')?.get('OPEN_CHANNEL') === 1,
      'the open',
    );
    assert.equal(p.state.bootstrapFailures.get('dave'), 2);
    const warnings = p.log
      .lines()
      .filter((l) => l.level === 40 && String(l.msg).includes('no responder'));
    assert.equal(warnings.length, 2);
  });

  it('times out a responder that never answers', async () => {
    const silent = await connect({ servers: SHARED_NATS });
    silent.subscribe(`${prefix}.erin.rpc.>`, { callback: () => undefined });
    await silent.flush();
    const p = pipeline(nc, prefix);
    p.ingest.ensureNode('erin');
    await eventually(() => p.state.bootstrapFailures.get('erin') === 2, 'two timeouts');
    assert.ok(p.log.lines().some((l) => String(l.msg).includes('no reply within 300 ms')));
    await silent.drain();
  });

  it('bootstraps a named node whose bridge comes up after the first request, counting each failure', async () => {
    const peer = pubkey(4);
    const listed = channelPoint(4);
    const p = pipeline(nc, prefix, { bootstrapRetry: { firstMs: 50, maxMs: 200 } });
    p.ingest.ensureNode('frank');
    // Not up yet: no responder, asked again and again, each failed request counted.
    await eventually(() => (p.state.bootstrapFailures.get('frank') ?? 0) >= 6, 'three attempts');
    assert.equal(p.stores.get('frank')?.channelCount, 0);
    // Its events are not held meanwhile.
    nc.publish(`${prefix}.frank.peer_events`, bytes(peerEventJson(peer, true)));
    await eventually(
      () => p.stats.applied.get('frank')?.get('peer')?.get('PEER_ONLINE') === 1,
      'the peer event, applied while the bootstrap is failing',
    );

    const bridge = await connect({ servers: SHARED_NATS });
    bridge.subscribe(`${prefix}.frank.rpc.list_peers`, {
      callback: (_e, m) => m.respond(bytes(listPeersJson([peer]))),
    });
    bridge.subscribe(`${prefix}.frank.rpc.list_channels`, {
      callback: (_e, m) =>
        m.respond(bytes(listChannelsJson([{ pubkey: peer, channelPoint: listed }]))),
    });
    await bridge.flush();
    await eventually(
      () => p.stores.get('frank')?.channel(listed) !== undefined,
      'the listed channel, from a later attempt',
    );
    const store = p.stores.get('frank');
    await p.gate.idle('frank');
    assert.equal(store?.peer(peer)?.online, true);
    const bootstrapped = p.log.lines().filter((l) => l.msg === 'bootstrapped node');
    assert.equal(bootstrapped.at(-1)?.incomplete, false);
    await bridge.drain();
  });
});

describe('NatsClient against a server that goes away and comes back', function () {
  this.timeout(60_000);
  let server: PrivateNatsServer | undefined;
  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  it('waits for a server that is not there yet, saying how to start one', async () => {
    const port = await freePort();
    const log = captureLogger();
    const state = new ConnectionState();
    const client = new NatsClient(
      { servers: `nats://127.0.0.1:${port}`, maxReconnectAttempts: -1, reconnectTimeWait: 100 },
      state,
      log.logger,
    );
    const connected = client.start();
    await eventually(() => log.text().includes('nats-server -js'), 'the hint');
    assert.equal(state.connected, false);

    server = await PrivateNatsServer.startOn(port);
    await connected;
    assert.equal(state.connected, true);
    await client.close();
    assert.equal(state.connected, false);
  });

  it('keeps retrying refused credentials, says so, and connects once the server accepts them', async () => {
    const port = await freePort();
    const users = (password: string) => `authorization { user: exporter, password: "${password}" }`;
    server = await PrivateNatsServer.startOn(port, [], { config: users('old') });
    const log = captureLogger();
    const state = new ConnectionState();
    const client = new NatsClient(
      {
        servers: `nats://127.0.0.1:${port}`,
        user: 'exporter',
        pass: 'new',
        maxReconnectAttempts: -1,
        ignoreAuthErrorAbort: true,
        reconnectTimeWait: 100,
      },
      state,
      log.logger,
    );
    const connected = client.start();
    await eventually(() => log.text().includes('refused the credentials'), 'the reason');
    assert.ok(!log.text().includes('"new"'), 'the password is not logged');

    // The operator fixes the server side: the same client gets in.
    await server.dispose();
    server = await PrivateNatsServer.startOn(port, [], { config: users('new') });
    await connected;
    assert.equal(state.connected, true);
    await client.close();
  });

  it('reports the disconnection, reconnects to the restarted server, and tells its listeners', async () => {
    server = await PrivateNatsServer.start();
    const log = captureLogger();
    const state = new ConnectionState();
    const client = new NatsClient(
      {
        servers: server.url,
        maxReconnectAttempts: -1,
        waitOnFirstConnect: true,
        reconnectTimeWait: 100,
      },
      state,
      log.logger,
    );
    let reconnects = 0;
    client.onReconnect(() => {
      reconnects += 1;
    });
    const nc = await client.start();
    const received: string[] = [];
    nc.subscribe('lnd.x.peer_events', { callback: (_e, m) => received.push(m.string()) });
    await nc.flush();

    await server.stop();
    await eventually(() => !state.connected, 'the disconnection');
    await server.restart();
    await eventually(() => state.connected && reconnects === 1, 'the reconnection');

    // The subscription is back: a message published now arrives.
    const publisher = await connect({ servers: server.url });
    publisher.publish('lnd.x.peer_events', 'after');
    await publisher.drain();
    await eventually(() => received.includes('after'), 'a message after reconnecting');
    assert.ok(log.lines().some((l) => l.msg === 'disconnected from NATS, reconnecting'));
    await client.close();
  });

  it('closes within its limit when a drain is never answered (a hung server)', async () => {
    server = await PrivateNatsServer.start([], { jetstream: false });
    const proxy = await TcpProxy.start(server.port);
    try {
      const log = captureLogger();
      const state = new ConnectionState();
      const client = new NatsClient(
        { servers: proxy.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 },
        state,
        log.logger,
      );
      const nc = await client.start();
      nc.subscribe('lnd.x.peer_events', { callback: () => undefined });
      await nc.flush();
      proxy.holdServerToClient();

      const started = performance.now();
      await client.close(300);
      const took = performance.now() - started;
      // The limit, plus at most the forced close.
      assert.ok(took < 300 + 1_000, `closed after ${Math.round(took)} ms`);
      assert.equal(state.connected, false);
      assert.ok(nc.isClosed());
      assert.ok(log.lines().some((l) => String(l.msg).startsWith('NATS drain unfinished in time')));
    } finally {
      await proxy.close();
    }
  });

  it('closes within its limit when the server is gone', async () => {
    server = await PrivateNatsServer.start([], { jetstream: false });
    const log = captureLogger();
    const state = new ConnectionState();
    const client = new NatsClient(
      { servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 2_000 },
      state,
      log.logger,
    );
    const nc = await client.start();
    nc.subscribe('lnd.x.peer_events', { callback: () => undefined });
    await nc.flush();
    await server.stop();
    await eventually(() => !state.connected, 'the disconnection');

    const started = performance.now();
    await client.close(300);
    assert.ok(performance.now() - started < 300 + 1_000);
    assert.equal(state.connected, false);
  });
});
