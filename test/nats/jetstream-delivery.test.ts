import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { systemClock } from '../../src/clock.js';
import type { JetStreamSettings } from '../../src/config/settings.js';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { EventIngest } from '../../src/ingest/event-ingest.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import { JetStreamDelivery, streamSubjects } from '../../src/nats/jetstream-delivery.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import type { FlapRecord } from '../../src/store/peer-monitor.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { eventually } from '../support/eventually.js';
import { captureLogger } from '../support/log-capture.js';
import { bytes, openChannelJson, peerEventJson } from '../support/lnd-json.js';
import { channelPoint, pubkey } from '../support/store-fixture.js';
import { HOUR } from '../support/test-clock.js';

describe('JetStream delivery (real NATS with JetStream)', function () {
  this.timeout(60_000);
  let nc: NatsConnection;
  let prefix: string;
  let stream: string;
  let deliveries: JetStreamDelivery[];

  beforeEach(async () => {
    nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const id = randomBytes(4).toString('hex');
    prefix = `jstest${id}`;
    stream = `CHANFITNESS_TEST_${id}`;
    deliveries = [];
  });

  afterEach(async () => {
    for (const d of deliveries) await d.stop(100);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.drain();
  });

  function settings(overrides: Partial<JetStreamSettings> = {}): JetStreamSettings {
    return {
      stream,
      durable: 'chanfitness-test',
      createStream: true,
      streamMaxAgeMs: HOUR,
      maxInFlight: 100,
      ...overrides,
    };
  }

  function pipeline(
    readFlapRecord: (pk: string) => Promise<FlapRecord | undefined> = () =>
      Promise.resolve(undefined),
    jsSettings = settings(),
    ackWaitMs?: number,
    connection: NatsConnection = nc,
  ) {
    const log = captureLogger();
    const bootstrapPeers = new BootstrapPeers();
    const stores = new NodeStores(
      (node) => new ChannelEventStore({ node, clock: systemClock, readFlapRecord }),
    );
    const stats = new IngestStats();
    const ingest = new EventIngest({
      stores,
      bootstrapPeers,
      clock: systemClock,
      stats,
      logger: log.logger,
      bootstrap: () => Promise.resolve(undefined),
    });
    const delivery = new JetStreamDelivery(connection, ingest, {
      settings: jsSettings,
      prefix,
      logger: log.logger,
      retryMs: 100,
      ...(ackWaitMs === undefined ? {} : { ackWaitMs }),
    });
    deliveries.push(delivery);
    return { log, stores, stats, delivery };
  }

  async function numAckPending(): Promise<number> {
    const jsm = await nc.jetstreamManager();
    return (await jsm.consumers.info(stream, 'chanfitness-test')).num_ack_pending;
  }

  it('creates the stream on the event subjects only, leaving the rpc subjects to request/reply', async () => {
    const p = pipeline();
    await p.delivery.start();
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(stream);
    assert.deepEqual(info.config.subjects, streamSubjects(prefix));

    nc.subscribe(`${prefix}.alice.rpc.list_peers`, {
      callback: (_e, m) => m.respond('{"peers":[]}'),
    });
    const reply = await nc.request(`${prefix}.alice.rpc.list_peers`, '{}', { timeout: 2_000 });
    assert.equal(reply.string(), '{"peers":[]}');
  });

  it('applies what was published before it started, with the JetStream time as event time', async () => {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: streamSubjects(prefix) });
    const peer = pubkey(1);
    const published = Date.now();
    await js.publish(
      `${prefix}.alice.channel_events`,
      bytes(openChannelJson(peer, channelPoint(1))),
    );
    for (let i = 0; i < 20; i++) {
      await js.publish(`${prefix}.alice.peer_events`, bytes(peerEventJson(peer, i % 2 === 0)));
    }

    const p = pipeline(undefined, settings({ createStream: false }));
    await p.delivery.start();
    await eventually(
      () => p.stats.applied.get('alice')?.get('peer')?.get('PEER_OFFLINE') === 10,
      'events',
      15_000,
    );
    const store = p.stores.get('alice');
    assert.ok(store);
    const openedAt = store.channel(channelPoint(1))?.openedAt ?? 0;
    assert.ok(
      openedAt >= published - 1_000 && openedAt <= Date.now(),
      'opened at its JetStream time',
    );
    assert.equal(store.peer(peer)?.flapCount, 21);
    await eventually(
      async () => (await numAckPending()) === 0,
      'every message acknowledged',
      15_000,
    );
  });

  it('acknowledges a message only once applied, and never applies a redelivery twice', async () => {
    let release: (() => void) | undefined;
    const slowRead = () =>
      new Promise<FlapRecord | undefined>((resolve) => {
        release = () => {
          resolve(undefined);
        };
      });
    const p = pipeline(slowRead, settings(), 1_000);
    await p.delivery.start();

    const peer = pubkey(2);
    const js = nc.jetstream();
    await js.publish(`${prefix}.bob.channel_events`, bytes(openChannelJson(peer, channelPoint(2))));
    await js.publish(`${prefix}.bob.peer_events`, bytes(peerEventJson(peer, true)));

    // Both wait behind the record read: not acknowledged, and redelivered after 1 s.
    await eventually(() => p.delivery.duplicatesSkipped >= 2, 'redeliveries', 10_000);
    assert.equal(await numAckPending(), 2);
    assert.equal(p.stores.get('bob')?.peer(peer), undefined);

    release?.();
    await eventually(async () => (await numAckPending()) === 0, 'the acknowledgements', 15_000);
    assert.equal(p.stats.applied.get('bob')?.get('channel')?.get('OPEN_CHANNEL'), 1);
    assert.equal(p.stats.applied.get('bob')?.get('peer')?.get('PEER_ONLINE'), 1);
    assert.equal(p.stores.get('bob')?.peer(peer)?.flapCount, 2);
  });

  it('resumes a durable consumer where the previous process stopped', async () => {
    const first = pipeline();
    await first.delivery.start();
    const js = nc.jetstream();
    const peer = pubkey(3);
    await js.publish(
      `${prefix}.carol.channel_events`,
      bytes(openChannelJson(peer, channelPoint(3))),
    );
    await eventually(() => first.stores.get('carol')?.channelCount === 1, 'the first open', 15_000);
    await first.delivery.stop();

    // Published while no exporter consumes.
    await js.publish(`${prefix}.carol.peer_events`, bytes(peerEventJson(peer, true)));

    const second = pipeline();
    await second.delivery.start();
    await eventually(
      () => second.stats.applied.get('carol')?.get('peer')?.get('PEER_ONLINE') === 1,
      'the missed event',
      15_000,
    );
    // The open was acknowledged by the first process: not delivered again.
    assert.equal(second.stats.applied.get('carol')?.get('channel'), undefined);
  });

  it('applies, in order and once, what a crashed process received but never acknowledged', async () => {
    // Process A receives an open and a peer event, but its record read never answers:
    // nothing is applied or acknowledged when it dies.
    const ncA = await connect({ servers: 'nats://127.0.0.1:4222' });
    const crashed = pipeline(() => new Promise(() => undefined), settings(), undefined, ncA);
    await crashed.delivery.start();
    const peer = pubkey(4);
    const js = nc.jetstream();
    await js.publish(
      `${prefix}.dave.channel_events`,
      bytes(openChannelJson(peer, channelPoint(4))),
    );
    await js.publish(`${prefix}.dave.peer_events`, bytes(peerEventJson(peer, true)));
    await eventually(
      async () => (await numAckPending()) === 2,
      'two unacknowledged deliveries',
      15_000,
    );
    await ncA.close();

    await js.publish(`${prefix}.dave.peer_events`, bytes(peerEventJson(peer, false)));
    const restarted = pipeline();
    await restarted.delivery.start();
    await eventually(
      () => restarted.stats.applied.get('dave')?.get('peer')?.get('PEER_OFFLINE') === 1,
      'the last event',
      15_000,
    );
    const store = restarted.stores.get('dave');
    assert.ok(store);
    // Creation, online, offline: three flaps in stream order, the channel there, nothing reordered.
    assert.equal(store.channel(channelPoint(4))?.peer.pubkey, peer);
    assert.equal(store.peer(peer)?.flapCount, 3);
    assert.equal(store.peer(peer)?.online, false);
    assert.equal(store.reorderedTotal, 0);
    await eventually(async () => (await numAckPending()) === 0, 'everything acknowledged', 15_000);
  });

  it('keeps retrying while the stream is missing and it may not create it', async () => {
    const p = pipeline(undefined, settings({ createStream: false }));
    const started = p.delivery.start();
    await eventually(
      () => p.log.text().includes('--nats.create-stream'),
      'the error naming the setting',
      15_000,
    );
    assert.equal(p.delivery.consuming, false);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: streamSubjects(prefix) });
    await started;
    assert.equal(p.delivery.consuming, true);
  });
});
