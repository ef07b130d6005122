import assert from 'node:assert/strict';
import { parseStoreUrl } from '../../src/config/store-url.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { FlapFlusher } from '../../src/persistence/flap-flusher.js';
import { FlushStats } from '../../src/persistence/flush-stats.js';
import {
  openFlapRecordStore,
  type KeyvFlapRecordStore,
} from '../../src/persistence/keyv-flap-record-store.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { PrivateRedisServer } from '../support/redis-server.js';
import { RecordReader, channelPoint, pubkey } from '../support/store-fixture.js';
import { HOUR, SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';
import { ProcessFailures, silentLogger } from './support/backends.js';

interface Harness {
  clock: TestClock;
  stores: NodeStores;
  gate: RecordGate;
  stats: FlushStats;
  flusher: FlapFlusher<ChannelEventStore>;
  readFailures: string[];
}

function harness(records: KeyvFlapRecordStore, retryDelayMs = 100): Harness {
  const clock = new TestClock(TEST_NOW);
  const readFailures: string[] = [];
  const stores = new NodeStores(
    (node) =>
      new ChannelEventStore({
        node,
        clock,
      }),
  );
  const gate = new RecordGate({
    read: (node, pk) => records.read(node, pk),
    readFailed: (_node, pk) => readFailures.push(pk),
  });
  const stats = new FlushStats();
  const flusher = new FlapFlusher({
    stores,
    retryRecordReads: (store) => gate.retryRecordReads(store),
    records,
    stats,
    logger: silentLogger,
    clock,
    intervalMs: HOUR,
    retryDelayMs,
  });
  return { clock, stores, gate, stats, flusher, readFailures };
}

/** Moves the clock to the flusher's next timer (a retry after a failure) and waits for its flush. */
async function nextRetry(h: Harness): Promise<void> {
  const due = h.clock.nextDue();
  assert.ok(due !== undefined, 'a retry is scheduled');
  await h.clock.tickAsync(due - h.clock.now());
  await h.flusher.idle();
}

describe('flap persistence through a store outage', () => {
  const failures = new ProcessFailures();
  let server: PrivateRedisServer | undefined;
  let records: KeyvFlapRecordStore | undefined;
  let flusher: FlapFlusher<ChannelEventStore> | undefined;

  beforeEach(() => {
    failures.install();
  });

  afterEach(async () => {
    await flusher?.stop();
    await records?.close();
    await server?.dispose();
    [server, records, flusher] = [undefined, undefined, undefined];
    failures.uninstall();
  });

  it('a store down from the start: reads reject, flushes fail and are counted, nothing crashes', async () => {
    const port = await freePort();
    records = await openFlapRecordStore(parseStoreUrl(`redis://127.0.0.1:${port}`), {
      logger: silentLogger,
      timeoutMs: 2_000,
    });
    const h = harness(records);
    flusher = h.flusher;
    const a = pubkey(1);
    await assert.rejects(records.read('alice', a), /failed/);

    // alice reads from the dead store; bob's records were read elsewhere (so merged) and are written to it.
    const alice = h.stores.getOrCreate('alice');
    h.gate.of(alice).openChannel(a, channelPoint(1), h.clock.now());
    const reader = new RecordReader();
    const bob = new ChannelEventStore({ node: 'bob', clock: h.clock });
    const bobGate = new RecordGate({ read: reader.readOf });
    bobGate.of(bob).openChannel(pubkey(2), channelPoint(2), h.clock.now());
    await Promise.all([h.gate.idle(), bobGate.idle()]);
    assert.deepEqual(h.readFailures, [a]);
    assert.equal(alice.peer(a)?.recordMerged, false);

    const stats = new FlushStats();
    const both = new FlapFlusher({
      stores: { values: () => [alice, bob] },
      retryRecordReads: (store) => (store === bob ? bobGate : h.gate).retryRecordReads(store),
      records,
      stats,
      logger: silentLogger,
      clock: h.clock,
      intervalMs: HOUR,
    });
    const outcome = await both.flushNow();
    assert.equal(outcome.ok, false);
    assert.equal(outcome.unmerged, 1);
    assert.deepEqual(outcome.failedNodes, ['bob']);
    assert.deepEqual([stats.success, stats.error], [0, 1]);
    assert.equal(await both.stop().then((o) => o?.ok), false);
    assert.deepEqual(failures.failures, []);
  });

  it('a Redis killed during a flush and started again: the retry writes the right counts', async () => {
    server = await PrivateRedisServer.start();
    records = await openFlapRecordStore(parseStoreUrl(server.url), {
      logger: silentLogger,
      timeoutMs: 5_000,
    });
    const h = harness(records);
    flusher = h.flusher;
    flusher.start();
    const alice = h.stores.getOrCreate('alice');
    const [a, b] = [pubkey(1), pubkey(2)];

    // a: created offline (1), online (2).
    h.gate.of(alice).openChannel(a, channelPoint(1), h.clock.now());
    h.gate.of(alice).peerEvent(a, true, h.clock.advance(SECOND));
    await h.gate.idle('alice');
    assert.equal((await flusher.flushNow()).ok, true);
    assert.deepEqual(await records.read('alice', a), { count: 2, lastFlap: TEST_NOW + SECOND });

    // Frozen, so that the flush is in flight when Redis dies.
    server.pause();
    h.gate.of(alice).peerEvent(a, false, h.clock.advance(SECOND));
    const inFlight = flusher.flushNow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.stop();
    const failed = await inFlight;
    assert.equal(failed.ok, false);
    assert.deepEqual(failed.failedNodes, ['alice']);
    assert.equal(h.stats.error, 1);

    // The retry (100 ms later on the clock) fails too while Redis is down.
    await nextRetry(h);
    assert.equal(h.stats.error, 2);

    // Events go on while it is down: a online (4); b is new and its read fails. (The
    // second moves the clock past the next retry, which fails as well.)
    const whileDown = h.clock.advance(SECOND);
    h.gate.of(alice).peerEvent(a, true, whileDown);
    h.gate.of(alice).openChannel(b, channelPoint(2), whileDown);
    await h.gate.idle('alice');
    assert.ok(h.readFailures.includes(b));
    await flusher.idle();
    assert.equal(h.stats.success, 1);

    // Back, empty (no persistence): a retry rewrites everything from memory, once the
    // client has reconnected (real I/O: polled, each try moving the clock to the next retry).
    await server.restart();
    await eventually(
      async () => {
        await nextRetry(h);
        return h.stats.success >= 2;
      },
      'a retry flush after Redis came back',
      30_000,
    );
    assert.deepEqual(await records.read('alice', a), { count: 4, lastFlap: whileDown });
    assert.deepEqual(await records.read('alice', b), { count: 1, lastFlap: whileDown });
    assert.equal(flusher.consecutiveFailures, 0);
    assert.ok(records.stats.backendErrors > 0);
    assert.deepEqual(failures.failures, []);
  });

  it('a peer whose first read failed (Redis hung) gets persisted + new once it answers', async () => {
    server = await PrivateRedisServer.start();
    records = await openFlapRecordStore(parseStoreUrl(server.url), {
      logger: silentLogger,
      timeoutMs: 300,
    });
    const h = harness(records);
    flusher = h.flusher;
    const alice = h.stores.getOrCreate('alice');
    const p = pubkey(3);
    await records.write('alice', new Map([[p, { count: 10, lastFlap: TEST_NOW - HOUR }]]));

    // Hung: the read times out, the monitor is created unmerged (1), then online (2).
    server.pause();
    h.gate.of(alice).openChannel(p, channelPoint(3), h.clock.now());
    h.gate.of(alice).peerEvent(p, true, h.clock.advance(SECOND));
    await h.gate.idle('alice');
    assert.deepEqual(h.readFailures, [p]);
    assert.equal(alice.peer(p)?.flapCount, 2);
    assert.ok(records.stats.timeouts >= 1);

    // Still hung: the retried read fails, and the peer is not written (it would overwrite 10 with 2).
    const stillDown = await flusher.flushNow();
    assert.equal(stillDown.ok, false);
    assert.equal(stillDown.unmerged, 1);
    assert.equal(stillDown.records, 0);

    server.resume();
    const back = await flusher.flushNow();
    assert.equal(back.ok, true);
    assert.equal(back.records, 1);
    assert.deepEqual(await records.read('alice', p), { count: 12, lastFlap: TEST_NOW + SECOND });
    assert.deepEqual([h.stats.success, h.stats.error], [1, 1]);
    assert.deepEqual(failures.failures, []);
  });
});
