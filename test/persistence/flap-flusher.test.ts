import assert from 'node:assert/strict';
import sinon from 'sinon';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { FlapFlusher, type FlushableStore } from '../../src/persistence/flap-flusher.js';
import type { FlapRecordStore } from '../../src/persistence/flap-record-store.js';
import { FlushStats } from '../../src/persistence/flush-stats.js';
import type { KeyvFlapRecordStore } from '../../src/persistence/keyv-flap-record-store.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import type { FlapRecord } from '../../src/store/peer-monitor.js';
import { channelPoint, pubkey } from '../support/store-fixture.js';
import { HOUR, SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';
import { silentLogger, sqliteBackend, type TestStore } from './support/backends.js';

class Deferred {
  resolve!: () => void;
  reject!: (err: Error) => void;
  readonly promise = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** Settles the promises and I/O callbacks already due. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('FlapFlusher on a real store (SQLite), on the TestClock', () => {
  let handle: TestStore;
  let records: KeyvFlapRecordStore;
  let clock: TestClock;
  let stores: NodeStores;
  let gate: RecordGate;
  let stats: FlushStats;
  let flusher: FlapFlusher<ChannelEventStore>;

  beforeEach(async () => {
    handle = await sqliteBackend.open();
    records = handle.store;
    clock = new TestClock(TEST_NOW);
    stores = new NodeStores(
      (node) =>
        new ChannelEventStore({
          node,
          clock,
        }),
    );
    gate = new RecordGate({ read: (node, pk) => records.read(node, pk) });
    stats = new FlushStats();
    flusher = new FlapFlusher({
      stores,
      retryRecordReads: (store) => gate.retryRecordReads(store),
      records,
      stats,
      logger: silentLogger,
      clock,
      intervalMs: HOUR,
    });
  });

  afterEach(async () => {
    await flusher.stop();
    sinon.restore();
    await handle.cleanup();
  });

  it('flushes every interval and once more at stop, with the right counts', async () => {
    const write = sinon.spy(records, 'write');
    const alice = stores.getOrCreate('alice');
    const bob = stores.getOrCreate('bob');
    const [a, b] = [pubkey(1), pubkey(2)];
    flusher.start();

    // a: creation (offline) counts 1, then online 2.
    gate.of(alice).openChannel(a, channelPoint(1), clock.now());
    gate.of(alice).peerEvent(a, true, clock.advance(SECOND));
    gate.of(bob).peerEvent(b, true, clock.now());
    gate.of(bob).openChannel(b, channelPoint(2), clock.now());
    await gate.idle();

    // The first flush is due an hour after start (the clock is a second past it).
    await clock.tickAsync(HOUR - SECOND - 1);
    await flusher.idle();
    assert.equal(write.callCount, 0, 'nothing before the interval');
    assert.equal(stats.success, 0);
    assert.equal(await records.read('alice', a), undefined);

    await clock.tickAsync(1);
    await flusher.idle();
    assert.equal(stats.success, 1);
    assert.equal(stats.error, 0);
    assert.equal(stats.lastSuccessAt, clock.now());
    assert.deepEqual(await records.read('alice', a), { count: 2, lastFlap: TEST_NOW + SECOND });
    assert.deepEqual(await records.read('bob', b), { count: 1, lastFlap: TEST_NOW + SECOND });
    assert.equal(write.callCount, 2);

    // a goes offline: 3. The next flush comes one interval later.
    gate.of(alice).peerEvent(a, false, clock.advance(SECOND));
    await clock.tickAsync(HOUR - SECOND - 1);
    await flusher.idle();
    assert.equal(stats.success, 1);
    await clock.tickAsync(1);
    await flusher.idle();
    assert.equal(stats.success, 2);
    assert.equal((await records.read('alice', a))?.count, 3);

    // Stop: the final flush writes what came since.
    gate.of(alice).peerEvent(a, true, clock.advance(SECOND));
    const outcome = await flusher.stop();
    assert.equal(outcome?.ok, true);
    assert.equal(outcome.records, 2);
    assert.equal(stats.success, 3);
    assert.equal((await records.read('alice', a))?.count, 4);

    // No timer after stop.
    await clock.tickAsync(2 * HOUR);
    await flusher.idle();
    assert.equal(stats.success, 3);
  });

  it('merges a persisted count before writing: persisted + new', async () => {
    const a = pubkey(1);
    await records.write('alice', new Map([[a, { count: 10, lastFlap: TEST_NOW - HOUR }]]));
    const alice = stores.getOrCreate('alice');
    gate.of(alice).openChannel(a, channelPoint(1), clock.now());
    gate.of(alice).peerEvent(a, true, clock.advance(SECOND));
    await gate.idle('alice');
    await flusher.flushNow();
    assert.deepEqual(await records.read('alice', a), { count: 12, lastFlap: TEST_NOW + SECOND });
  });

  it('serves the persisted record of a peer (and node) not in memory', async () => {
    await records.write('carol', new Map([[pubkey(5), { count: 7, lastFlap: TEST_NOW }]]));
    assert.equal(stores.has('carol'), false);
    assert.deepEqual(await records.read('carol', pubkey(5)), { count: 7, lastFlap: TEST_NOW });
    const dave = stores.getOrCreate('dave');
    await records.write('dave', new Map([[pubkey(6), { count: 3, lastFlap: TEST_NOW }]]));
    assert.deepEqual(await gate.flapCount(dave, pubkey(6)), {
      count: 3,
      lastFlap: TEST_NOW,
      tracked: false,
    });
  });
});

describe('FlapFlusher scheduling, on the TestClock', () => {
  let clock: TestClock;
  let stats: FlushStats;
  const node: FlushableStore = {
    node: 'alice',
    flapRecordsToFlush: () => new Map([[pubkey(1), { count: 1, lastFlap: TEST_NOW }]]),
  };

  function flusherWith(
    write: (node: string, records: ReadonlyMap<string, FlapRecord>) => Promise<void>,
    options: { stopTimeoutMs?: number } = {},
  ): FlapFlusher {
    const records: Pick<FlapRecordStore, 'write'> = { write };
    return new FlapFlusher({
      stores: { values: () => [node] },
      retryRecordReads: () => Promise.resolve(0),
      records,
      stats,
      logger: silentLogger,
      clock,
      intervalMs: HOUR,
      retryDelayMs: 5 * SECOND,
      ...options,
    });
  }

  beforeEach(() => {
    clock = new TestClock(TEST_NOW);
    stats = new FlushStats();
  });

  it('never overlaps flushes: a slow flush delays the next', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let hold = true;
    const pending: Deferred[] = [];
    const write = sinon.spy(() => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const d = new Deferred();
      pending.push(d);
      if (!hold) d.resolve();
      return d.promise.finally(() => {
        inFlight -= 1;
      });
    });
    const flusher = flusherWith(write);
    flusher.start();

    await clock.tickAsync(HOUR);
    assert.equal(write.callCount, 1);
    // The flush hangs for two more intervals: no second one starts.
    await clock.tickAsync(2 * HOUR);
    assert.equal(write.callCount, 1);
    // Asked for meanwhile: queued behind it, and shared.
    const first = flusher.flushNow();
    const second = flusher.flushNow();
    assert.equal(first, second);
    await settle();
    assert.equal(write.callCount, 1);

    pending[0]?.resolve();
    await settle();
    assert.equal(write.callCount, 2);
    pending[1]?.resolve();
    assert.equal((await first).ok, true);
    assert.equal(maxInFlight, 1);
    assert.equal(stats.success, 2);

    // The next timer flush is one interval after the last one ended.
    await clock.tickAsync(HOUR - 1);
    assert.equal(write.callCount, 2);
    await clock.tickAsync(1);
    assert.equal(write.callCount, 3);
    hold = false;
    pending[2]?.resolve();
    await flusher.stop();
    assert.equal(write.callCount, 4);
    assert.equal(maxInFlight, 1);
  });

  it('retries a failed flush sooner, doubling up to the interval, and counts each outcome', async () => {
    let failing = true;
    const write = sinon.spy(() =>
      failing ? Promise.reject(new Error('store down')) : Promise.resolve(),
    );
    const flusher = flusherWith(write);
    flusher.start();

    await clock.tickAsync(HOUR);
    await flusher.idle();
    assert.equal(write.callCount, 1);
    assert.deepEqual([stats.success, stats.error], [0, 1]);

    // Retries after 5 s, 10 s, 20 s.
    for (const [delay, calls] of [
      [5, 2],
      [10, 3],
      [20, 4],
    ] as const) {
      await clock.tickAsync(delay * SECOND - 1);
      assert.equal(write.callCount, calls - 1);
      await clock.tickAsync(1);
      await flusher.idle();
      assert.equal(write.callCount, calls);
    }
    assert.deepEqual([stats.success, stats.error], [0, 4]);
    assert.equal(flusher.consecutiveFailures, 4);

    failing = false;
    await clock.tickAsync(40 * SECOND);
    await flusher.idle();
    assert.deepEqual([stats.success, stats.error], [1, 4]);
    assert.equal(stats.lastSuccessAt, clock.now());
    assert.equal(flusher.consecutiveFailures, 0);

    // Back to the interval.
    await clock.tickAsync(HOUR - 1);
    assert.equal(write.callCount, 5);
    await clock.tickAsync(1);
    await flusher.idle();
    assert.equal(write.callCount, 6);
    await flusher.stop();
  });

  it('caps the retry delay at the interval', async () => {
    const write = sinon.spy(() => Promise.reject(new Error('store down')));
    const flusher = flusherWith(write);
    flusher.start();
    await clock.tickAsync(HOUR);
    // 5 s · 2^n passes an hour after 10 retries; from then on, one an hour.
    for (let i = 0; i < 12; i++) {
      await clock.tickAsync(HOUR);
      await flusher.idle();
    }
    const before = write.callCount;
    await clock.tickAsync(HOUR);
    await flusher.idle();
    assert.equal(write.callCount, before + 1);
    await flusher.stop();
  });

  it('counts a flush with unreadable records as failed, writing what it can', async () => {
    const write = sinon.spy(() => Promise.resolve());
    const flusher = new FlapFlusher({
      stores: { values: () => [node] },
      retryRecordReads: () => Promise.resolve(3),
      records: { write },
      stats,
      logger: silentLogger,
      clock,
      intervalMs: HOUR,
    });
    const outcome = await flusher.flushNow();
    assert.equal(outcome.ok, false);
    assert.equal(outcome.unmerged, 3);
    assert.equal(write.callCount, 1);
    assert.deepEqual([stats.success, stats.error], [0, 1]);
    await flusher.stop();
  });

  it('stop waits for the flush in flight, then flushes once more', async () => {
    const pending: Deferred[] = [];
    const write = sinon.spy(() => {
      const d = new Deferred();
      pending.push(d);
      return d.promise;
    });
    const flusher = flusherWith(write);
    flusher.start();
    await clock.tickAsync(HOUR);
    assert.equal(write.callCount, 1);

    const stopped = flusher.stop();
    await settle();
    assert.equal(write.callCount, 1, 'the final flush waits for the one in flight');
    pending[0]?.resolve();
    await settle();
    assert.equal(write.callCount, 2);
    pending[1]?.resolve();
    assert.equal((await stopped)?.ok, true);
    assert.equal(stats.success, 2);
  });

  it('stop gives up after its timeout when the store hangs', async () => {
    const write = sinon.spy(() => new Promise<void>(() => undefined));
    const flusher = flusherWith(write, { stopTimeoutMs: 10 * SECOND });
    const stopped = flusher.stop();
    let result: unknown = 'pending';
    void stopped.then((r) => (result = r));
    await clock.tickAsync(10 * SECOND - 1);
    assert.equal(result, 'pending');
    await clock.tickAsync(1);
    assert.equal(result, undefined);
  });
});
