import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { eventually } from '../support/eventually.js';
import { ExporterProcess } from '../support/exporter-process.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { PrivateRedisServer } from '../support/redis-server.js';
import {
  FlapScript,
  HOUR,
  sameCounts,
  scriptChannelPoint,
  scriptPubkey,
  sorted,
  type ScriptedEvent,
} from './support/flap-script.js';
import { Scrape, tryScrape } from './support/metrics.js';
import { tryReadCounts, unreadBytesTo } from './support/redis.js';

const NODE = 'bob';
const PEERS = 8;

// Issue 7, "Fault tests", bullet 2: Redis stopped during a flush and started again:
// no crash, the error counted, the next flush writes the right counts.
describe('fault: Redis stopped during a flush and started again', function () {
  this.timeout(60_000);
  let nats: PrivateNatsServer | undefined;
  let redis: PrivateRedisServer | undefined;
  let exporter: ExporterProcess | undefined;
  let nc: NatsConnection | undefined;

  afterEach(async () => {
    await nc?.close();
    await exporter?.dispose();
    await redis?.dispose();
    await nats?.dispose();
    [nats, redis, exporter, nc] = [undefined, undefined, undefined, undefined];
  });

  it('counts the failed flush, keeps running, and the next flush after the restart writes every count', async () => {
    nats = await PrivateNatsServer.start();
    redis = await PrivateRedisServer.start();
    const prefix = `faults${randomBytes(4).toString('hex')}`;
    exporter = await ExporterProcess.start({
      args: [
        `--nats.url=${nats.url}`,
        `--nats.subject-prefix=${prefix}`,
        `--store.url=${redis.url}`,
        '--flap.flush-interval=1s',
        // Flap records from live counts, as lnd (no history snapshots).
        '--no-history',
        '--store.timeout=3s',
        '--log.level=info',
      ],
    });
    const url = exporter.url;
    const redisUrl = redis.url;
    await eventually(
      async () => (await fetch(`${url}/readyz`)).status === 200,
      'readiness',
      20_000,
    );
    nc = await connect({ servers: nats.url });
    const publish = async (events: readonly ScriptedEvent[]): Promise<void> => {
      for (const e of events) nc?.publish(`${prefix}.${NODE}.${e.subject}`, e.payload);
      await nc?.flush();
    };

    const pubkeys = Array.from({ length: PEERS }, (_, i) => scriptPubkey(100 + i));
    const script = new FlapScript(NODE, Date.now() - HOUR, 'redis');
    await publish(pubkeys.map((pk, i) => script.open(pk, scriptChannelPoint(100 + i))));
    await publish(script.peerRounds(pubkeys, 3));
    const firstTally = new Map(script.tally);
    await eventually(
      async () => (await tryScrape(url))?.applied === script.events.length,
      'the first events applied',
      20_000,
    );
    await eventually(
      async () => sameCounts(await tryReadCounts(redisUrl, NODE, pubkeys), firstTally),
      'a flush to write the first counts',
      20_000,
    );

    // Freeze Redis, wait until a flush has sent its write to it, and kill it then:
    // Redis goes away in the middle of that flush.
    const before = await Scrape.of(url);
    redis.pause();
    await eventually(
      async () => (await unreadBytesTo(redis?.port ?? 0)) > 0,
      'a flush in flight',
      20_000,
    );
    await redis.stop();
    await eventually(
      async () => ((await tryScrape(url))?.flushes('error') ?? 0) > before.flushes('error'),
      'the failed flush to be counted',
      20_000,
    );

    // Ingestion goes on while the store is down.
    await publish(script.peerRounds(pubkeys, 4));
    await eventually(
      async () => (await tryScrape(url))?.applied === script.events.length,
      'the events published during the outage applied',
      20_000,
    );
    const down = await Scrape.of(url);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.ok(down.flushes('error') > before.flushes('error'));
    assert.deepEqual(sorted(down.flapCounts(NODE)), sorted(script.tally));

    // A new, empty Redis (no persistence) on the same port: the next flush writes every count.
    await redis.restart();
    await eventually(
      async () => ((await tryScrape(url))?.flushes('success') ?? 0) > down.flushes('success'),
      'a successful flush after the restart',
      20_000,
    );
    assert.deepEqual(
      sorted((await tryReadCounts(redisUrl, NODE, pubkeys)) ?? new Map()),
      sorted(script.tally),
    );

    assert.equal(exporter.child.exitCode, null, 'the exporter did not crash');
    assert.ok(
      !exporter.logs().some((l) => /uncaught|unhandled/.test(String(l.msg))),
      'no uncaught exception or unhandled rejection',
    );
    const { code } = await exporter.stop('SIGTERM');
    assert.equal(code, 0);
  });
});
