import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ConsumerInfo } from 'nats';
import { eventually } from '../support/eventually.js';
import { ExporterProcess } from '../support/exporter-process.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { PrivateRedisServer } from '../support/redis-server.js';
import {
  FlapScript,
  HOUR,
  peerEventsByPeer,
  sameCounts,
  scriptChannelPoint,
  scriptPubkey,
  sorted,
  type ScriptedEvent,
} from './support/flap-script.js';
import { jetStreamApi, ReliablePublisher, type JetStreamApi } from './support/jetstream.js';
import { Scrape } from './support/metrics.js';
import { readFlapKeys, tryReadCounts, unreadBytesTo } from './support/redis.js';

const NODE = 'carol';
const DURABLE = 'chanfitness-exporter';

/** NATS, Redis, the exporter (restartable with the same flags and durable) and a publisher. */
class CrashHarness {
  exporter: ExporterProcess | undefined;
  lastSeq = 0;
  readonly script: FlapScript;

  private constructor(
    readonly nats: PrivateNatsServer,
    readonly redis: PrivateRedisServer,
    readonly api: JetStreamApi,
    readonly publisher: ReliablePublisher,
    private readonly args: readonly string[],
    private readonly prefix: string,
    readonly stream: string,
    runId: string,
  ) {
    this.script = new FlapScript(NODE, Date.now() - HOUR, runId);
  }

  static async start(): Promise<CrashHarness> {
    const nats = await PrivateNatsServer.start();
    const redis = await PrivateRedisServer.start();
    const runId = randomBytes(4).toString('hex');
    const prefix = `faults${runId}`;
    const stream = `FAULTS_${runId}`;
    const args = [
      `--nats.url=${nats.url}`,
      `--nats.subject-prefix=${prefix}`,
      `--nats.stream=${stream}`,
      '--nats.create-stream',
      `--store.url=${redis.url}`,
      '--flap.flush-interval=1s',
      // lnd's persistence (flap records from live counts): history-restart.test.ts covers --history.
      '--no-history',
      // Longer than the whole crash sequence: a read or a flush stuck on the frozen Redis stays stuck.
      '--store.timeout=60s',
      '--log.level=info',
    ];
    const harness = new CrashHarness(
      nats,
      redis,
      await jetStreamApi(nats.url),
      await ReliablePublisher.connect(nats.url),
      args,
      prefix,
      stream,
      runId,
    );
    await harness.startExporter();
    return harness;
  }

  get url(): string {
    return this.exporter?.url ?? '';
  }

  async startExporter(): Promise<void> {
    const exporter = await ExporterProcess.start({ args: this.args });
    this.exporter = exporter;
    await eventually(
      async () => (await fetch(`${exporter.url}/readyz`)).status === 200,
      'readiness',
      20_000,
    );
  }

  async crash(): Promise<void> {
    const exporter = this.exporter;
    assert.ok(exporter);
    const { signal } = await exporter.stop('SIGKILL');
    assert.equal(signal, 'SIGKILL');
    await exporter.dispose();
    this.exporter = undefined;
  }

  async publish(events: readonly ScriptedEvent[]): Promise<void> {
    for (const e of events) {
      const ack = await this.publisher.publish(
        `${this.prefix}.${NODE}.${e.subject}`,
        e.payload,
        e.msgId,
      );
      this.lastSeq = ack.seq;
    }
  }

  consumer(): Promise<ConsumerInfo> {
    return this.api.consumer(this.stream, DURABLE);
  }

  /**
   * Every message up to the last published acknowledged, and none pending; not
   * yet while the exporter recreates its consumer (deleted, not yet added).
   */
  async acknowledgedUpTo(seq = this.lastSeq): Promise<boolean> {
    const info = await this.api.tryConsumer(this.stream, DURABLE);
    return info?.ack_floor.stream_seq === seq && info.num_ack_pending === 0;
  }

  /** Freezes Redis (SIGSTOP) once the exporter has a command in flight to it. */
  async freezeRedisWithFlushInFlight(): Promise<void> {
    this.redis.pause();
    const port = this.redis.port;
    await eventually(async () => (await unreadBytesTo(port)) > 0, 'a flush stuck on Redis', 20_000);
  }

  async dispose(): Promise<void> {
    await this.publisher.close();
    await this.api.close();
    await this.exporter?.dispose();
    await this.redis.dispose();
    await this.nats.dispose();
  }
}

// Issue 7, "Fault tests", bullet 3: the exporter killed with SIGKILL mid-stream and
// restarted (JetStream, same durable): everything after its last acknowledgement is
// applied, and what the crash loses is exactly the flap counts since the last flush.
describe('fault: the exporter killed with SIGKILL mid-stream and restarted (JetStream)', function () {
  this.timeout(90_000);
  let h: CrashHarness | undefined;

  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('loses exactly the flaps since the last flush, and applies once what came after the last ack', async () => {
    h = await CrashHarness.start();
    const { script } = h;
    const peers = Array.from({ length: 6 }, (_, i) => scriptPubkey(200 + i));

    // Batch 1: a channel with each peer and their events: applied, acknowledged, flushed.
    const batch1 = [
      ...peers.map((pk, i) => script.open(pk, scriptChannelPoint(200 + i))),
      ...script.peerRounds(peers, 4),
    ];
    await h.publish(batch1);
    await eventually(() => h?.acknowledgedUpTo() ?? false, 'batch 1 acknowledged', 20_000);
    const flushed = new Map(script.tally);
    const redisUrl = h.redis.url;
    await eventually(
      async () => sameCounts(await tryReadCounts(redisUrl, NODE, peers), flushed),
      'a flush to write the batch 1 counts',
      20_000,
    );

    // Redis frozen while a flush (of batch 1's counts) waits on it: flushes never overlap,
    // so no later count can be written. That flush is the last one before the crash.
    await h.freezeRedisWithFlushInFlight();

    // Batch 2: applied (monitored peers need no store read) and acknowledged, never flushed.
    const batch2 = script.peerRounds(peers, 3);
    await h.publish(batch2);
    await eventually(() => h?.acknowledgedUpTo() ?? false, 'batch 2 acknowledged', 20_000);
    const ackedSeq = h.lastSeq;
    const beforeCrash = await Scrape.of(h.url);
    assert.equal(beforeCrash.applied, batch1.length + batch2.length);
    assert.deepEqual(sorted(beforeCrash.flapCounts(NODE)), sorted(script.tally));

    await h.crash();
    h.redis.resume();

    // What survived: the counts of the last flush, none of batch 2's flaps.
    const persisted = await readFlapKeys(redisUrl, NODE, peers);
    assert.deepEqual(
      sorted(new Map([...persisted].map(([pk, r]) => [pk, r.count]))),
      sorted(flushed),
    );
    assert.equal((await h.consumer()).ack_floor.stream_seq, ackedSeq);

    // Batch 3, published while no exporter runs: a new channel with each peer (a new
    // monitor: the persisted count + its creation flap), then more events.
    const batch3 = [
      ...peers.map((pk, i) => script.open(pk, scriptChannelPoint(200 + i, 1))),
      ...script.peerRounds(peers, 3),
    ];
    await h.publish(batch3);
    await h.startExporter();
    await eventually(() => h?.acknowledgedUpTo() ?? false, 'batch 3 acknowledged', 20_000);

    const after = await Scrape.of(h.url);
    assert.equal(after.applied, batch3.length, 'everything after the last acknowledgement, once');
    assert.equal(after.rejected, 0);
    const lost = peerEventsByPeer(batch2);
    const since = peerEventsByPeer(batch3);
    const expected = new Map<string, number>();
    for (const pk of peers) {
      expected.set(pk, (flushed.get(pk) ?? 0) + 1 + (since.get(pk) ?? 0));
      // Against an exporter that never crashed: exactly batch 2's flaps are missing
      // (and the monitor's second creation flap added).
      assert.equal(expected.get(pk), (script.tally.get(pk) ?? 0) - (lost.get(pk) ?? 0) + 1);
    }
    assert.deepEqual(sorted(after.flapCounts(NODE)), sorted(expected));
  });

  it('applies the messages delivered but not acknowledged at the crash, once and in stream order', async () => {
    h = await CrashHarness.start();
    const { script } = h;
    const acked = [scriptPubkey(400), scriptPubkey(401)];
    const waiting = Array.from({ length: 3 }, (_, i) => scriptPubkey(300 + i));

    // Peers with a channel, applied and acknowledged before the crash.
    await h.publish([
      ...acked.map((pk, i) => script.open(pk, scriptChannelPoint(400 + i))),
      ...script.peerRounds(acked, 2),
    ]);
    await eventually(() => h?.acknowledgedUpTo() ?? false, 'the first events acknowledged', 20_000);
    const ackedSeq = h.lastSeq;

    // New peers whose monitors wait for a record read on the frozen Redis: their messages
    // are delivered to the exporter, neither applied nor acknowledged when it is killed.
    await h.freezeRedisWithFlushInFlight();
    const unacked = [
      ...waiting.map((pk, i) => script.open(pk, scriptChannelPoint(300 + i))),
      ...script.peerRounds(waiting, 2),
    ];
    await h.publish(unacked);
    await eventually(
      async () => {
        const info = await h?.api.tryConsumer(h.stream, DURABLE);
        return (
          info?.delivered.stream_seq === h?.lastSeq && info?.num_ack_pending === unacked.length
        );
      },
      'the new peers delivered and unacknowledged',
      20_000,
    );
    await h.crash();
    h.redis.resume();
    assert.equal((await h.consumer()).ack_floor.stream_seq, ackedSeq);

    // More events of those peers while no exporter runs; then the restart.
    const later = script.peerRounds(waiting, 3);
    await h.publish(later);
    await h.startExporter();
    // The restarted exporter finds the messages handed to the killed process
    // unacknowledged and recreates the consumer from the first of them: they come
    // again at once, not after their ack wait (30 s), which the bound (20 s) checks.
    await eventually(() => h?.acknowledgedUpTo() ?? false, 'every message acknowledged', 20_000);

    const after = await Scrape.of(h.url);
    assert.equal(
      after.applied,
      unacked.length + later.length,
      'every unacknowledged message, once',
    );
    assert.equal(after.rejected, 0);
    assert.equal(after.sum('chanfitness_events_reordered_total'), 0, 'in stream order');
    const expected = new Map(waiting.map((pk) => [pk, script.tally.get(pk) ?? 0]));
    assert.deepEqual(sorted(after.flapCounts(NODE)), sorted(expected));
  });
});
