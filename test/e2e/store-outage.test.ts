import assert from 'node:assert/strict';
import { pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { openChannelJson, peerEventJson } from '../support/lnd-json.js';
import { PrivateRedisServer } from '../support/redis-server.js';
import {
  appliedEvents,
  errorCodes,
  graphql,
  iso,
  MINUTE,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  redisAccess,
  sampleValue,
  scrape,
  startExporter,
  type RedisAccess,
  type RawFlapRecord,
} from './support.js';

/**
 * Issue 4, Tests, bullet 4: a backend stopped during flushes is survived and
 * caught up. A private redis-server (never the shared one) is killed while the
 * exporter flushes every second, then started again on the same port, empty.
 */

async function flushes(exporter: ExporterProcess, result: 'success' | 'error'): Promise<number> {
  return sampleValue(await scrape(exporter), 'chanfitness_flap_flushes_total', { result }) ?? 0;
}

describe('e2e: a Redis stopped during flushes', function () {
  this.timeout(40_000);

  const prefix = randomToken('e2eout');
  const node = randomToken('node');
  let redis: PrivateRedisServer;
  let access: RedisAccess;
  let exporter: ExporterProcess;
  let publisher: Publisher;

  before(async () => {
    redis = await PrivateRedisServer.start();
    access = await redisAccess(redis.url);
    exporter = await startExporter({
      prefix,
      // Flap records written by the flusher from live counts, as lnd (no history snapshots).
      args: [
        `--store.url=${redis.url}`,
        '--flap.flush-interval=1s',
        '--store.timeout=1s',
        '--no-history',
      ],
    });
    publisher = await Publisher.connect(prefix);
  });

  after(async () => {
    await publisher.close();
    await exporter.dispose();
    await redis.dispose();
    // The server was private, without persistence: its keys are gone with it.
    await access.close();
  });

  // Bullet 4: flushes fail while Redis is down, ingestion and /metrics go on, and the counts are caught up.
  it('keeps serving and ingesting while flushes fail, then writes the right counts', async () => {
    const now = Date.now();
    const p = randomPubkey();
    publisher.channel(node, openChannelJson(p, randomChannelPoint(), now - 30 * MINUTE));
    publisher.peer(node, peerEventJson(p, true, now - 20 * MINUTE));
    await publisher.flush();
    const stored = (pubkey: string, record: RawFlapRecord) => async () => {
      const value = await access.read(node, pubkey);
      return JSON.stringify(value) === JSON.stringify(record);
    };
    await pollUntil(
      stored(p, { count: 2, lastFlap: iso(now - 20 * MINUTE) }),
      (ok) => ok,
      'the first flush to store 2 flaps',
    );
    assert.ok((await flushes(exporter, 'success')) > 0);
    assert.equal(sampleValue(await scrape(exporter), 'chanfitness_store_up', {}), 1);
    assert.match(
      await (await fetch(`${exporter.url}/readyz`)).text(),
      /^ok\nstore: up \(redis\)\n$/,
    );

    await redis.stop();
    const errorsBefore = await flushes(exporter, 'error');
    publisher.peer(node, peerEventJson(p, false, now - 15 * MINUTE));
    publisher.peer(node, peerEventJson(p, true, now - 10 * MINUTE));
    // A peer first seen while Redis is down: its record read fails, its channel is still added.
    const p2 = randomPubkey();
    const c2 = randomChannelPoint();
    publisher.channel(node, openChannelJson(p2, c2, now - 5 * MINUTE));
    await publisher.flush();
    await pollUntil(
      () => flushes(exporter, 'error'),
      (n) => n >= errorsBefore + 2,
      'failed flushes',
    );

    // Still serving and ingesting.
    await pollUntil(
      () => appliedEvents(exporter, node),
      (n) => n === 5,
      'the events of the outage',
    );
    const families = await scrape(exporter);
    assert.equal(sampleValue(families, 'chanfitness_peer_flap_count', { node, peer: p }), 4);
    const data = await query<{ channel: { peer: { pubkey: string; flapCount: number } } }>(
      exporter,
      'query ($c: String!, $n: String) { channel(channelPoint: $c, node: $n) { peer { pubkey flapCount } } }',
      { c: c2, n: node },
    );
    assert.deepEqual(data.channel.peer, { pubkey: p2, flapCount: 1 });
    // Responsive while the store is down: /healthz within 500 ms.
    const asked = performance.now();
    assert.equal((await fetch(`${exporter.url}/healthz`)).status, 200);
    assert.ok(performance.now() - asked < 500, '/healthz within 500 ms');
    assert.ok(
      exporter
        .logs()
        .some((l) => l.msg === 'flap record flush failed; records are kept and written again'),
      'the failed flush is logged',
    );
    // The outage is visible: on /metrics, in /readyz's body (readiness stays with NATS),
    // and as a coded error for a peer only the store could know.
    assert.equal(sampleValue(families, 'chanfitness_store_up', {}), 0);
    const readyz = await fetch(`${exporter.url}/readyz`);
    assert.equal(readyz.status, 200);
    assert.match(await readyz.text(), /^ok\nstore: down since \d{4}-\d\d-\d\dT[^ ]+ \(redis; /);
    const unknown = await graphql(
      exporter,
      'query ($p: String!, $n: String) { peer(pubkey: $p, node: $n) { flapCount } }',
      {
        p: randomPubkey(),
        n: node,
      },
    );
    assert.deepEqual(errorCodes(unknown), ['STORE_UNAVAILABLE']);
    assert.match(unknown.errors?.[0]?.message ?? '', /cannot be read now/);

    // Back, empty (no persistence): a later flush writes every count again.
    const successBefore = await flushes(exporter, 'success');
    await redis.restart();
    await pollUntil(
      stored(p, { count: 4, lastFlap: iso(now - 10 * MINUTE) }),
      (ok) => ok,
      'the count of p written again',
      15_000,
    );
    await pollUntil(
      stored(p2, { count: 1, lastFlap: iso(now - 5 * MINUTE) }),
      (ok) => ok,
      'the count of p2 written after its record was merged',
    );
    assert.ok((await flushes(exporter, 'success')) > successBefore);
    await exporter.waitForLog((l) => l.msg === 'flap records flushed again');
    assert.equal(sampleValue(await scrape(exporter), 'chanfitness_store_up', {}), 1);
    assert.match(await (await fetch(`${exporter.url}/readyz`)).text(), /\nstore: up \(redis\)\n$/);
    assert.equal(exporter.child.exitCode, null, 'the exporter is still running');
  });

  // SPEC 4 under bullet 4: a read that failed (a hung Redis) is retried and merged, not overwritten.
  it('merges a persisted record whose read failed once the backend answers again', async () => {
    const now = Date.now();
    const p3 = randomPubkey();
    // Written as SPEC 4 documents the value, without Keyv's envelope.
    await access.writeRaw(
      node,
      p3,
      JSON.stringify({ count: 10, lastFlap: iso(now - 2 * 60 * MINUTE) }),
    );
    const errorsBefore = await flushes(exporter, 'error');
    redis.pause();
    try {
      const c3 = randomChannelPoint();
      publisher.channel(node, openChannelJson(p3, c3, now - MINUTE));
      await publisher.flush();
      // The read times out (--store.timeout=1s): the channel is added, the count starts at 1.
      const during = await pollUntil(
        () =>
          query<{ channel: { peer: { flapCount: number } } }>(
            exporter,
            'query ($c: String!, $n: String) { channel(channelPoint: $c, node: $n) { peer { flapCount } } }',
            { c: c3, n: node },
          ),
        () => true,
        'the channel opened while Redis hangs',
      );
      assert.equal(during.channel.peer.flapCount, 1);
      await pollUntil(
        () => flushes(exporter, 'error'),
        (n) => n > errorsBefore,
        'a failed flush',
      );
    } finally {
      redis.resume();
    }
    // Merged once readable: the persisted 10 (within 8 h: no cooldown) plus the creation flap.
    await pollUntil(
      () => access.read(node, p3),
      (record) =>
        JSON.stringify(record) === JSON.stringify({ count: 11, lastFlap: iso(now - MINUTE) }),
      'the merged record written',
      15_000,
    );
    const families = await scrape(exporter);
    assert.equal(sampleValue(families, 'chanfitness_peer_flap_count', { node, peer: p3 }), 11);
  });
});
