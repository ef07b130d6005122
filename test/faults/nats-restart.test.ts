import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { delay, eventually } from '../support/eventually.js';
import { ExporterProcess } from '../support/exporter-process.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { FlapScript, HOUR, scriptChannelPoint, scriptPubkey } from './support/flap-script.js';
import { jetStreamApi, ReliablePublisher, type JetStreamApi } from './support/jetstream.js';
import { Scrape, tryScrape } from './support/metrics.js';

const NODE = 'alice';
const PEERS = 20;
const ROUNDS = 60;
/** How long each outage lasts: the publisher keeps retrying through it. */
const OUTAGE_MS = 1_500;

// Issue 7, "Fault tests", bullet 1: NATS killed and restarted while a publisher keeps
// publishing into the stream; after recovery every event is applied exactly once
// (the flap counts equal the publisher's own tally).
describe('fault: NATS killed and restarted while a publisher keeps publishing (JetStream)', function () {
  this.timeout(90_000);
  let nats: PrivateNatsServer | undefined;
  let exporter: ExporterProcess | undefined;
  let publisher: ReliablePublisher | undefined;
  let api: JetStreamApi | undefined;

  afterEach(async () => {
    await publisher?.close();
    await api?.close();
    await exporter?.dispose();
    await nats?.dispose();
    [nats, exporter, publisher, api] = [undefined, undefined, undefined, undefined];
  });

  it('applies every event exactly once through two NATS crashes: flap counts equal the tally', async () => {
    nats = await PrivateNatsServer.start();
    const runId = randomBytes(4).toString('hex');
    const prefix = `faults${runId}`;
    const stream = `FAULTS_${runId}`;
    exporter = await ExporterProcess.start({
      args: [
        `--nats.url=${nats.url}`,
        `--nats.subject-prefix=${prefix}`,
        `--nats.stream=${stream}`,
        '--nats.create-stream',
        '--log.level=info',
      ],
    });
    const url = exporter.url;
    await eventually(
      async () => (await fetch(`${url}/readyz`)).status === 200,
      'the exporter to be ready (consumer set up)',
      20_000,
    );

    // 20 channels, then 60 rounds of peer events: 1220 messages, 2 s apart in event time,
    // ending in the past, 41 minutes in all (no cooldown, no rate-limit effect on counts).
    const pubkeys = Array.from({ length: PEERS }, (_, i) => scriptPubkey(i + 1));
    const total = PEERS * (1 + ROUNDS);
    const script = new FlapScript(NODE, Date.now() - 2 * HOUR, runId);
    pubkeys.forEach((pk, i) => script.open(pk, scriptChannelPoint(i + 1)));
    script.peerRounds(pubkeys, ROUNDS);
    assert.equal(script.events.length, total);

    publisher = await ReliablePublisher.connect(nats.url);
    const server = nats;
    const crashAt = new Set([Math.floor(total / 3), Math.floor((2 * total) / 3)]);
    const outages: Promise<void>[] = [];
    for (const event of script.events) {
      if (crashAt.has(event.index)) {
        // Crash while the exporter consumes (connected again after the previous crash).
        const index = event.index;
        await eventually(
          async () => ((await tryScrape(url))?.applied ?? 0) >= index - 50,
          'the exporter to consume before the crash',
          20_000,
        );
        // The publish below runs into the crash and is retried until the server is back.
        outages.push(
          (async () => {
            await server.stop();
            await delay(OUTAGE_MS);
            await server.restart();
          })(),
        );
      }
      await publisher.publish(`${prefix}.${NODE}.${event.subject}`, event.payload, event.msgId);
      // A steady publisher, not a burst: the crashes land mid-stream for the consumer too.
      if (event.index % 20 === 0) await delay(5);
    }
    await Promise.all(outages);
    assert.ok(publisher.failedAttempts > 0, 'publishes failed during the outages and were retried');
    const disconnects = exporter
      .logs()
      .filter((l) => l.msg === 'disconnected from NATS, reconnecting');
    assert.equal(disconnects.length, 2, 'the exporter lived through both crashes');

    api = await jetStreamApi(server.url);
    const info = await api.stream(stream);
    assert.equal(info.state.messages, total, 'each event is in the stream exactly once');

    await eventually(
      async () => (await tryScrape(url))?.applied === total,
      `${total} events applied`,
      30_000,
    );
    const jsApi = api;
    await eventually(
      async () => {
        const consumer = await jsApi.tryConsumer(stream, 'chanfitness-exporter');
        return consumer?.num_ack_pending === 0 && consumer.ack_floor.stream_seq === total;
      },
      'every message acknowledged',
      60_000,
    );

    const scrape = await Scrape.of(url);
    assert.equal(scrape.applied, total);
    assert.equal(scrape.rejected, 0);
    // Stream order kept through the crashes: no redelivery was applied out of place.
    assert.equal(scrape.sum('chanfitness_events_reordered_total'), 0);
    assert.deepEqual(
      new Map([...scrape.flapCounts(NODE)].sort()),
      new Map([...script.tally].sort()),
      'flap counts equal the publisher tally',
    );
    assert.equal(exporter.child.exitCode, null, 'the exporter kept running');
  });
});
