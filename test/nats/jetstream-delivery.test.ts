import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AckPolicy, connect, DeliverPolicy, nanos, type NatsConnection } from 'nats';
import { systemScheduler, type Scheduler } from '../../src/clock.js';
import type { JetStreamSettings } from '../../src/config/settings.js';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { EventIngest } from '../../src/ingest/event-ingest.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { consumerFilter, streamSubjects } from '../../src/nats/jetstream-consumer.js';
import { JetStreamDelivery } from '../../src/nats/jetstream-delivery.js';
import { parseAckSubject, type AckSubjectFields } from '../../src/nats/ordered-acks.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import type { FlapRecord } from '../../src/store/peer-monitor.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { eventually } from '../support/eventually.js';
import { captureLogger } from '../support/log-capture.js';
import { bytes, openChannelJson, peerEventJson } from '../support/lnd-json.js';
import { channelPoint, pubkey } from '../support/store-fixture.js';
import { HOUR, MINUTE, TestClock } from '../support/test-clock.js';

/** A stream message's time as the server gives it (RFC 3339, up to nanoseconds), in ms. */
function rfc3339NanosToMs(time: string): number {
  const match = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(time);
  assert.ok(match, `a UTC RFC 3339 time: ${time}`);
  const [, seconds = '', fraction = ''] = match;
  return Date.parse(`${seconds}Z`) + Number(fraction.padEnd(9, '0')) / 1e6;
}

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
    ingestClock: Scheduler = systemScheduler,
  ) {
    const log = captureLogger();
    const bootstrapPeers = new BootstrapPeers();
    const stores = new NodeStores(
      (node) => new ChannelEventStore({ node, clock: systemScheduler }),
    );
    const stats = new IngestStats();
    const ingest = new EventIngest({
      stores,
      gate: new RecordGate({ read: (_node, pk) => readFlapRecord(pk) }),
      bootstrapPeers,
      clock: ingestClock,
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
    // Every message handed to the ingest, redeliveries included.
    const handed = { count: 0 };
    const handleParts = ingest.handleParts.bind(ingest);
    ingest.handleParts = (...args) => {
      handed.count += 1;
      handleParts(...args);
    };
    return { log, stores, stats, delivery, handed };
  }

  /** The consumer's state (its probes retry: a consumer being recreated is briefly absent). */
  async function consumerInfo() {
    const jsm = await nc.jetstreamManager();
    return jsm.consumers.info(stream, 'chanfitness-test');
  }

  async function numAckPending(): Promise<number> {
    return (await consumerInfo()).num_ack_pending;
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

    // The time the stream stored the open at, to the nanosecond.
    const storedAt = rfc3339NanosToMs((await jsm.streams.getMessage(stream, { seq: 1 })).timestamp);
    assert.ok(storedAt >= published - 1_000 && storedAt <= Date.now());

    // Received an hour after it was stored (by the ingest's clock): the receipt
    // time cannot pass for the stream time.
    const p = pipeline(
      undefined,
      settings({ createStream: false }),
      undefined,
      undefined,
      new TestClock(Date.now() + HOUR),
    );
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
      Math.abs(openedAt - storedAt) < 0.001,
      `opened at its JetStream time to the microsecond: ${openedAt} vs ${storedAt}`,
    );
    assert.equal(store.peer(peer)?.flapCount, 21);
    await eventually(async () => (await numAckPending()) === 0, 'every message acknowledged', {
      limitMs: 15_000,
      retryErrors: true,
    });
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
    await eventually(async () => (await numAckPending()) === 0, 'the acknowledgements', {
      limitMs: 15_000,
      retryErrors: true,
    });
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
    await eventually(async () => (await numAckPending()) === 2, 'two unacknowledged deliveries', {
      limitMs: 15_000,
      retryErrors: true,
    });
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
    await eventually(async () => (await numAckPending()) === 0, 'everything acknowledged', {
      limitMs: 15_000,
      retryErrors: true,
    });
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

  it('creates the stream with the retention age of --nats.stream-max-age', async () => {
    const p = pipeline(undefined, settings({ streamMaxAgeMs: 90 * MINUTE }));
    await p.delivery.start();
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(stream);
    assert.equal(info.config.max_age, nanos(90 * MINUTE));
  });

  it('has no more than --nats.max-in-flight messages unacknowledged, and applies them all once released', async () => {
    let release: (() => void) | undefined;
    const heldRead = () =>
      new Promise<FlapRecord | undefined>((resolve) => {
        release = () => {
          resolve(undefined);
        };
      });
    const p = pipeline(heldRead, settings({ maxInFlight: 5 }));
    await p.delivery.start();
    assert.equal((await consumerInfo()).config.max_ack_pending, 5);

    // An open whose peer's record read is held, and 19 events of that peer behind it.
    const peer = pubkey(5);
    const js = nc.jetstream();
    await js.publish(
      `${prefix}.erin.channel_events`,
      bytes(openChannelJson(peer, channelPoint(5))),
    );
    for (let i = 0; i < 19; i++) {
      await js.publish(`${prefix}.erin.peer_events`, bytes(peerEventJson(peer, i % 2 === 0)));
    }

    // The consumer asks for more, 15 messages wait in the stream, and the server
    // withholds them: 5 delivered, none acknowledged.
    let state = '';
    await eventually(
      async () => {
        const info = await consumerInfo();
        state = `ack pending ${info.num_ack_pending}, pending ${info.num_pending}, waiting ${info.num_waiting}`;
        return info.num_ack_pending === 5 && info.num_pending === 15 && info.num_waiting > 0;
      },
      () => `5 in flight and the rest withheld (${state})`,
      { limitMs: 15_000, retryErrors: true },
    );
    assert.equal(p.handed.count, 5);
    assert.equal(p.stats.applied.get('erin')?.size ?? 0, 0, 'nothing applied');

    release?.();
    await eventually(
      async () => {
        const info = await consumerInfo();
        return info.ack_floor.stream_seq === 20 && info.num_ack_pending === 0;
      },
      'every message acknowledged',
      { limitMs: 15_000, retryErrors: true },
    );
    assert.equal(p.handed.count, 20, 'each message handed once');
    assert.equal(p.stats.applied.get('erin')?.get('channel')?.get('OPEN_CHANNEL'), 1);
    assert.equal(p.stats.applied.get('erin')?.get('peer')?.get('PEER_ONLINE'), 10);
    assert.equal(p.stats.applied.get('erin')?.get('peer')?.get('PEER_OFFLINE'), 9);
  });

  it('acknowledges a batch of deliveries by acknowledging its last message', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: streamSubjects(prefix) });
    const js = nc.jetstream();
    const peer = pubkey(6);
    await js.publish(
      `${prefix}.frank.channel_events`,
      bytes(openChannelJson(peer, channelPoint(6))),
    );
    for (let i = 0; i < 499; i++) {
      await js.publish(`${prefix}.frank.peer_events`, bytes(peerEventJson(peer, i % 2 === 0)));
    }
    // Acknowledgements as the server receives them, counted on their subjects.
    let acks = 0;
    const watcher = await connect({ servers: 'nats://127.0.0.1:4222' });
    watcher.subscribe(`$JS.ACK.${stream}.>`, {
      callback: () => {
        acks += 1;
      },
    });
    await watcher.flush();
    try {
      const p = pipeline(undefined, settings({ createStream: false }));
      await p.delivery.start();
      await eventually(
        async () => {
          const info = await consumerInfo();
          return info.ack_floor.stream_seq === 500 && info.num_ack_pending === 0;
        },
        'every message acknowledged',
        { limitMs: 15_000, retryErrors: true },
      );
      assert.equal(p.handed.count, 500);
      assert.equal((await consumerInfo()).config.ack_policy, AckPolicy.All);
      await watcher.flush();
      assert.ok(acks >= 1 && acks <= 100, `${acks} acknowledgements for 500 messages`);
    } finally {
      await watcher.close();
    }
  });

  it('consumes a stream wider than its subjects through a filter, never pulling the rest', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
    const js = nc.jetstream();
    const peer = pubkey(7);
    await js.publish(`${prefix}.grace.rpc.list_peers`, bytes('{}'));
    await js.publish(
      `${prefix}.grace.channel_events`,
      bytes(openChannelJson(peer, channelPoint(7))),
    );
    await js.publish(`${prefix}.grace.other.deeper.still`, bytes('{}'));
    await js.publish(`${prefix}.grace.peer_events`, bytes(peerEventJson(peer, true)));

    const p = pipeline(undefined, settings({ createStream: false }));
    await p.delivery.start();
    await eventually(
      async () => {
        const info = await consumerInfo();
        return info.ack_floor.stream_seq === 4 && info.num_ack_pending === 0;
      },
      'our messages acknowledged',
      { limitMs: 15_000, retryErrors: true },
    );
    const info = await consumerInfo();
    assert.equal(info.config.filter_subject, consumerFilter(prefix));
    assert.equal(info.delivered.consumer_seq, 2, 'only the two event messages delivered');
    assert.equal(p.handed.count, 2);
    assert.equal(p.stats.applied.get('grace')?.get('channel')?.get('OPEN_CHANNEL'), 1);
    assert.equal(p.stats.applied.get('grace')?.get('peer')?.get('PEER_ONLINE'), 1);
  });

  it('replaces a consumer of an earlier version (explicit acks, no filter) from its first unacknowledged message', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: streamSubjects(prefix) });
    await jsm.consumers.add(stream, {
      durable_name: 'chanfitness-test',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 100,
    });
    const js = nc.jetstream();
    const peer = pubkey(8);
    await js.publish(
      `${prefix}.heidi.channel_events`,
      bytes(openChannelJson(peer, channelPoint(8))),
    );
    await js.publish(`${prefix}.heidi.peer_events`, bytes(peerEventJson(peer, true)));
    // The earlier exporter applied and acknowledged those two.
    const old = await js.consumers.get(stream, 'chanfitness-test');
    for await (const m of await old.fetch({ max_messages: 2, expires: 5_000 })) {
      assert.ok(await m.ackAck());
    }
    assert.equal((await consumerInfo()).ack_floor.stream_seq, 2);
    await js.publish(`${prefix}.heidi.peer_events`, bytes(peerEventJson(peer, false)));

    const p = pipeline(undefined, settings({ createStream: false }));
    await p.delivery.start();
    await eventually(
      async () => {
        const info = await consumerInfo();
        return info.ack_floor.stream_seq === 3 && info.num_ack_pending === 0;
      },
      'the third message acknowledged',
      { limitMs: 15_000, retryErrors: true },
    );
    const info = await consumerInfo();
    assert.equal(info.config.ack_policy, AckPolicy.All);
    assert.equal(info.config.filter_subject, consumerFilter(prefix));
    assert.equal(p.handed.count, 1, 'only the message after the acknowledged ones');
    assert.equal(p.stats.applied.get('heidi')?.get('peer')?.get('PEER_OFFLINE'), 1);
    assert.equal(p.stats.applied.get('heidi')?.get('channel'), undefined);
    assert.equal(p.stats.applied.get('heidi')?.get('peer')?.get('PEER_ONLINE'), undefined);
    assert.equal(p.delivery.restarts, 1);
  });
});

describe('JetStream reply subjects (parseAckSubject)', () => {
  function parse(reply: string): AckSubjectFields | undefined {
    const fields: AckSubjectFields = { seq: -1, delivery: -1, timeMs: -1, pending: -2 };
    return parseAckSubject(reply, fields) ? fields : undefined;
  }

  it('reads the stream and delivery sequences and the stream time of the old format', () => {
    assert.deepEqual(parse('$JS.ACK.STREAM.durable.1.42.7.1764651131123456789.0'), {
      seq: 42,
      delivery: 7,
      timeMs: 1764651131123 + 0.456789,
      pending: 0,
    });
  });

  it('reads the format with a domain and an account hash, with and without the random token', () => {
    const expected = {
      seq: 9007199254740991,
      delivery: 3,
      timeMs: 1764651131000 + 0.000001,
      pending: 5,
    };
    assert.deepEqual(
      parse('$JS.ACK._.ACCHASH.STREAM.durable.2.9007199254740991.3.1764651131000000001.5'),
      expected,
    );
    assert.deepEqual(
      parse('$JS.ACK.hub.ACCHASH.STREAM.durable.2.9007199254740991.3.1764651131000000001.5.x7Yz'),
      expected,
    );
  });

  it('reads a time of fewer than seven digits', () => {
    assert.equal(parse('$JS.ACK.S.d.1.1.1.1234.0')?.timeMs, 0.001234);
  });

  it('refuses anything else, also after the head of a valid subject was seen', () => {
    assert.ok(parse('$JS.ACK.a.b.S.d.1.1.1.1234.0.r'));
    for (const reply of [
      '$JS.ACK.a.b.S.d.1.1.1.1234.0.r.extra',
      '$JS.ACK.a.b.S.d.1.1.1.1234',
      '$JS.ACK.a.b.S.d.1.1.x.1234.0',
      '',
      '_INBOX.abc.def',
      '$JS.ACK.S.d.1.1.1.1234',
      '$JS.ACK.S.d.1.x.1.1234.0',
      '$JS.ACK.S.d.1.1..1234.0',
      '$JS.ACK.a.b.S.d.1.1.1.1234.0.r.extra',
    ]) {
      assert.equal(parse(reply), undefined, reply);
    }
  });
});
