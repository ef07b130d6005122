import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { streamSubjects } from '../../src/nats/jetstream-consumer.js';
import { eventually } from '../support/eventually.js';
import { ExporterProcess } from '../support/exporter-process.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import {
  FlapScript,
  HOUR,
  scriptChannelPoint,
  scriptPubkey,
  type ScriptedEvent,
} from './support/flap-script.js';
import { jetStreamApi, ReliablePublisher, type JetStreamApi } from './support/jetstream.js';
import { Scrape } from './support/metrics.js';
import { TcpProxy } from './support/tcp-proxy.js';

const NODE = 'dave';
const DURABLE = 'chanfitness-exporter';

// Issue 7, opening line ("does not lie after a crash or a network blip") and SPEC 3.5
// ("nothing published while the exporter was ... disconnected is lost"): the connection
// between the exporter and NATS is cut while messages are on their way to it; NATS
// itself stays up. An addition to the five "Fault tests" bullets.
describe('fault: network blip between the exporter and NATS with messages in flight (JetStream)', function () {
  this.timeout(90_000);
  let nats: PrivateNatsServer | undefined;
  let proxy: TcpProxy | undefined;
  let exporter: ExporterProcess | undefined;
  let publisher: ReliablePublisher | undefined;
  let api: JetStreamApi | undefined;

  afterEach(async () => {
    await publisher?.close();
    await api?.close();
    await exporter?.dispose();
    await proxy?.close();
    await nats?.dispose();
    [nats, proxy, exporter, publisher, api] = [
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ];
  });

  it('applies every message exactly once and in order, those lost in transit included', async () => {
    nats = await PrivateNatsServer.start();
    proxy = await TcpProxy.start(nats.port);
    const runId = randomBytes(4).toString('hex');
    const prefix = `faults${runId}`;
    const stream = `FAULTS_${runId}`;
    api = await jetStreamApi(nats.url);
    const js = api;
    await (
      await js.nc.jetstreamManager()
    ).streams.add({ name: stream, subjects: streamSubjects(prefix) });

    exporter = await ExporterProcess.start({
      args: [
        `--nats.url=${proxy.url}`,
        `--nats.subject-prefix=${prefix}`,
        `--nats.stream=${stream}`,
        '--log.level=info',
      ],
    });
    const url = exporter.url;
    await eventually(
      async () => (await fetch(`${url}/readyz`)).status === 200,
      'the consumer set up',
      20_000,
    );

    // Hold what NATS sends the exporter, then publish 20 channels and 10 rounds of peer
    // events, 1 s apart: fewer than the exporter's pull (and max in flight), so NATS delivers
    // them all into the held connection (in transit: delivered, never received). Then the
    // connection is cut, and more events are published (lnd goes on).
    proxy.holdServerToClient();
    const pubkeys = Array.from({ length: 20 }, (_, i) => scriptPubkey(500 + i));
    const script = new FlapScript(NODE, Date.now() - HOUR, runId, 1_000);
    pubkeys.forEach((pk, i) => script.open(pk, scriptChannelPoint(500 + i)));
    script.peerRounds(pubkeys, 10);
    publisher = await ReliablePublisher.connect(nats.url);
    const publish = (events: readonly ScriptedEvent[]) =>
      publisher?.publishAll(
        events.map((e) => ({
          subject: `${prefix}.${NODE}.${e.subject}`,
          payload: e.payload,
          msgID: e.msgId,
        })),
      );
    await publish(script.events);
    const inTransit = script.events.length;
    let state = '';
    await eventually(
      async () => {
        const info = await js.tryConsumer(stream, DURABLE);
        if (info === undefined) return false;
        state = `acknowledged ${info.ack_floor.stream_seq}, delivered ${info.delivered.stream_seq}`;
        return info.delivered.stream_seq === inTransit && info.ack_floor.stream_seq === 0;
      },
      () => `messages in transit (${state})`,
      20_000,
    );
    const beforeCut = await Scrape.of(url);
    assert.equal(beforeCut.applied, 0, 'nothing received');
    proxy.cut();
    await publish(script.peerRounds(pubkeys, 10));
    const total = script.events.length;

    // Once reconnected, the exporter recreates the consumer from the first
    // unacknowledged message: what was in transit comes again at once, not after
    // its ack wait (30 s), which the bound (20 s) checks. (Between its deletion and
    // its creation there is no consumer to ask: not yet.)
    await eventually(
      async () => {
        const info = await js.tryConsumer(stream, DURABLE);
        return info?.ack_floor.stream_seq === total && info.num_ack_pending === 0;
      },
      'every message acknowledged',
      20_000,
    );
    const scrape = await Scrape.of(url);
    assert.equal(scrape.applied, total, 'every message applied once');
    assert.equal(scrape.rejected, 0);
    assert.equal(scrape.sum('chanfitness_events_reordered_total'), 0, 'in stream order');
    assert.deepEqual(
      new Map([...scrape.flapCounts(NODE)].sort()),
      new Map([...script.tally].sort()),
      'flap counts equal the publisher tally',
    );
  });
});
