import assert from 'node:assert/strict';
import { HISTORY_FORMAT, historyKeys, SEGMENT_EVENTS } from '../../src/history/history-codec.js';
import type { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { seededRandom } from '../support/seeded-random.js';
import { HOUR, MINUTE, SECOND, TestClock, TEST_NOW } from '../support/test-clock.js';
import { keptStores, MemoryKv, pictureOf } from './support.js';

const hex = (n: number): string => n.toString(16).padStart(64, '0');
const pubkeyOf = (n: number): string => `02${hex(n)}`;
const pointOf = (n: number): string => `${hex(n + 1_000_000)}:${n % 3}`;

/**
 * A random history: peers flapping at random intervals, channels opening and
 * closing, some peers seen without channels. Applies `steps` events to the
 * store, advancing the clock; returns the next channel number to use.
 */
function play(
  store: ChannelEventStore,
  clock: TestClock,
  random: () => number,
  steps: number,
  peers = 12,
): void {
  let nextChannel = Math.floor(random() * 1_000_000);
  for (let i = 0; i < steps; i++) {
    clock.advance(Math.floor(random() * 20 * MINUTE) + 1);
    const r = random();
    const pubkey = pubkeyOf(Math.floor(random() * peers));
    if (r < 0.08) {
      store.openChannel(pubkey, pointOf(nextChannel++), clock.now());
    } else if (r < 0.1) {
      const channels = [...store.channels()];
      const channel = channels[Math.floor(random() * channels.length)];
      if (channel !== undefined)
        store.closeChannel(channel.peer.pubkey, channel.channelPoint, clock.now());
    } else {
      store.peerEvent(pubkey, random() < 0.5, clock.now());
    }
  }
}

/** Lets what is due settle (the store itself applies every event at once). */
async function settle(_store: ChannelEventStore): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe('history: snapshots and restore', () => {
  it('restores every figure exactly, after a full and after incremental snapshots', async () => {
    const clock = new TestClock(TEST_NOW);
    const kv = new MemoryKv();
    const random = seededRandom(7);
    const live = keptStores(kv, clock);
    live.stats.restored = true;
    const store = live.stores.getOrCreate('alice');
    for (let round = 0; round < 4; round++) {
      play(store, clock, random, 400);
      await settle(store);
      const outcome = await live.keeper.snapshotNow();
      assert.equal(outcome.ok, true);
      const restarted = keptStores(kv, clock);
      const result = await restarted.keeper.restore();
      assert.deepEqual(result.nodes, ['alice']);
      const restored = restarted.stores.get('alice');
      assert.ok(restored !== undefined);
      const windows: [number, number][] = [
        [TEST_NOW, clock.now()],
        [clock.now() - 6 * HOUR, clock.now() - HOUR],
      ];
      assert.deepEqual(pictureOf(restored, windows), pictureOf(store, windows));
      // And they go on alike.
      const a = seededRandom(100 + round);
      const b = seededRandom(100 + round);
      const forkClock = new TestClock(clock.now());
      const t = clock.now();
      play(restored, forkClock, a, 50);
      const saved = clock.now();
      clock.set(t);
      const copy = keptStores(kv, clock);
      await copy.keeper.restore();
      const again = copy.stores.get('alice');
      assert.ok(again !== undefined);
      play(again, clock, b, 50);
      assert.equal(clock.now(), forkClock.now());
      await settle(again);
      await settle(restored);
      assert.deepEqual(pictureOf(again), pictureOf(restored));
      clock.set(saved);
    }
    assert.ok(store.channelCount > 0 && store.peerCount > 5);
  });

  it('writes only the buckets of changed peers, and sealed segments once', async () => {
    const clock = new TestClock(TEST_NOW);
    const kv = new MemoryKv();
    const live = keptStores(kv, clock, { bucketCount: 16 });
    live.stats.restored = true;
    const store = live.stores.getOrCreate('n');
    for (let p = 0; p < 32; p++) store.openChannel(pubkeyOf(p), pointOf(p), clock.now());
    await settle(store);
    await live.keeper.snapshotNow();
    const keysAfterFirst = new Set(kv.data.keys());
    // One peer flaps long enough to seal segments; nobody else changes.
    const busy = pubkeyOf(3);
    for (let i = 0; i < SEGMENT_EVENTS * 3; i++) {
      clock.advance(2 * MINUTE);
      store.peerEvent(busy, i % 2 === 0, clock.now());
    }
    const writesBefore = kv.writes;
    const outcome = await live.keeper.snapshotNow();
    assert.equal(outcome.ok, true);
    assert.equal(outcome.peers > 0 && outcome.peers < 32, true, `${outcome.peers} peers rewritten`);
    const segments = [...kv.data.keys()].filter((k) => k.startsWith(`hist:n:s:${busy}:`));
    assert.ok(segments.length >= 2, `segments ${segments.length}`);
    assert.ok(kv.writes - writesBefore <= 3);
    // Only the busy peer's bucket got a new key; the old one is gone.
    const buckets = (keys: Iterable<string>) => [...keys].filter((k) => k.startsWith('hist:n:b:'));
    const changed = buckets(kv.data.keys()).filter((k) => !keysAfterFirst.has(k));
    assert.equal(changed.length, 1);
    assert.equal(buckets(kv.data.keys()).length, buckets(keysAfterFirst).length);
    // A second snapshot writes no segment again.
    clock.advance(SECOND);
    store.peerEvent(busy, true, clock.now());
    const before = new Map(kv.data);
    await live.keeper.snapshotNow();
    for (const key of segments) assert.equal(kv.data.get(key), before.get(key));
    const restarted = keptStores(kv, clock, { bucketCount: 16 });
    await restarted.keeper.restore();
    assert.deepEqual(pictureOf(restarted.stores.get('n') as ChannelEventStore), pictureOf(store));
  });

  it('leaves the previous snapshot usable when a write fails at any point', async () => {
    const clock = new TestClock(TEST_NOW);
    const random = seededRandom(11);
    const kv = new MemoryKv();
    const live = keptStores(kv, clock, { bucketCount: 8 });
    live.stats.restored = true;
    const store = live.stores.getOrCreate('n');
    play(store, clock, random, 300);
    await settle(store);
    await live.keeper.snapshotNow();
    const committedCopy = kv.copy();

    play(store, clock, random, 300);
    await settle(store);
    const committed = keptStores(committedCopy, clock, { bucketCount: 8 });
    await committed.keeper.restore();
    const before = pictureOf(committed.stores.get('n') as ChannelEventStore);
    // A crash after each write of a snapshot.
    let crashes = 0;
    for (let failAt = 1; ; failAt++) {
      const crashed = kv.copy();
      crashed.failAfter = failAt;
      const writer = keptStores(crashed, clock, { bucketCount: 8 });
      await writer.keeper.restore();
      // The writer's store plays the same new events as the live one did.
      const w = writer.stores.get('n') as ChannelEventStore;
      w.markDirty(w.knownPeers());
      const outcome = await writer.keeper.snapshotNow();
      if (outcome.ok) break;
      crashes += 1;
      crashed.failAfter = Infinity;
      const reader = keptStores(crashed, clock, { bucketCount: 8 });
      await reader.keeper.restore();
      assert.deepEqual(
        pictureOf(reader.stores.get('n') as ChannelEventStore),
        before,
        `crash at write ${failAt}`,
      );
    }
    assert.ok(crashes >= 2, `${crashes} crash points`);
    // The failed changes are written by the next snapshot.
    kv.failAfter = kv.writes + 1;
    assert.equal((await live.keeper.snapshotNow()).ok, false);
    assert.equal(live.stats.writeError, 1);
    kv.failAfter = Infinity;
    assert.equal((await live.keeper.snapshotNow()).ok, true);
    const after = keptStores(kv, clock, { bucketCount: 8 });
    await after.keeper.restore();
    assert.deepEqual(pictureOf(after.stores.get('n') as ChannelEventStore), pictureOf(store));
  });

  it('ignores state of another format or that does not decode, counting it', async () => {
    const clock = new TestClock(TEST_NOW);
    const kv = new MemoryKv();
    const live = keptStores(kv, clock);
    live.stats.restored = true;
    live.stores.getOrCreate('good').openChannel(pubkeyOf(1), pointOf(1), clock.now());
    live.stores.getOrCreate('old').openChannel(pubkeyOf(2), pointOf(2), clock.now());
    live.stores.getOrCreate('bad').openChannel(pubkeyOf(3), pointOf(3), clock.now());
    for (const store of live.stores.values()) await settle(store);
    await live.keeper.snapshotNow();
    const manifest = JSON.parse(kv.data.get(historyKeys.manifest('old')) as string) as Record<
      string,
      unknown
    >;
    kv.data.set(
      historyKeys.manifest('old'),
      JSON.stringify({ ...manifest, v: HISTORY_FORMAT + 1 }),
    );
    const badManifest = JSON.parse(kv.data.get(historyKeys.manifest('bad')) as string) as {
      buckets: Record<string, number>;
      gen: number;
    };
    const [bucket, gen] = Object.entries(badManifest.buckets)[0] as [string, number];
    kv.data.set(
      historyKeys.bucket('bad', Number(bucket), gen),
      '{"v":1,"peers":[{"k":"x","c":7}]}',
    );
    const restarted = keptStores(kv, clock);
    const result = await restarted.keeper.restore();
    assert.deepEqual(result.nodes, ['good']);
    assert.equal(restarted.stats.rejected.format, 1);
    assert.equal(restarted.stats.rejected.corrupt, 1);
    assert.equal(restarted.stores.get('good')?.channelCount, 1);
    assert.equal(restarted.stores.get('old'), undefined);
    // Writing that node again keeps the state it could not use aside, untouched.
    const oldManifest = kv.data.get(historyKeys.manifest('old'));
    restarted.stores.getOrCreate('old').openChannel(pubkeyOf(9), pointOf(9), clock.now());
    await settle(restarted.stores.getOrCreate('old'));
    assert.equal((await restarted.keeper.snapshotNow()).ok, true);
    const aside = [...kv.data.keys()].filter((k) => k.startsWith('hist:old:m:unused:'));
    assert.equal(aside.length, 1);
    assert.equal(kv.data.get(aside[0] as string), oldManifest);
    const fourth = keptStores(kv, clock);
    await fourth.keeper.restore();
    assert.equal(fourth.stores.get('old')?.channelCount, 1);
    // A node index that is not JSON at all: nothing restored, nothing thrown.
    kv.data.set(historyKeys.nodes, '"garbage"');
    const third = keptStores(kv, clock);
    assert.deepEqual((await third.keeper.restore()).nodes, []);
    assert.equal(third.stats.rejected.corrupt, 1);
  });

  it('with an unusable node index, keeps aside the manifest of every node it then writes', async () => {
    const clock = new TestClock(TEST_NOW);
    const kv = new MemoryKv();
    const live = keptStores(kv, clock);
    live.stats.restored = true;
    live.stores.getOrCreate('n1').openChannel(pubkeyOf(1), pointOf(1), clock.now());
    await settle(live.stores.getOrCreate('n1'));
    await live.keeper.snapshotNow();
    const manifest = kv.data.get(historyKeys.manifest('n1'));
    assert.ok(manifest !== undefined);
    const index = kv.data.get(historyKeys.nodes);
    // The index no longer decodes: the restart cannot know that n1 had state.
    kv.data.set(historyKeys.nodes, '{"v":1,"nodes":"not a list"}');
    clock.advance(MINUTE);
    const restarted = keptStores(kv, clock);
    assert.deepEqual((await restarted.keeper.restore()).nodes, []);
    assert.equal(restarted.stats.rejected.corrupt, 1);
    // n1 comes again with other state: its first write must not lose the manifest it replaces.
    restarted.stores.getOrCreate('n1').openChannel(pubkeyOf(2), pointOf(2), clock.now());
    await settle(restarted.stores.getOrCreate('n1'));
    assert.equal((await restarted.keeper.snapshotNow()).ok, true);
    const asideManifests = [...kv.data.keys()].filter((k) => k.startsWith('hist:n1:m:unused:'));
    assert.equal(asideManifests.length, 1);
    assert.equal(kv.data.get(asideManifests[0] as string), manifest);
    const asideIndex = [...kv.data.keys()].filter((k) =>
      k.startsWith(`${historyKeys.nodes}:unused:`),
    );
    assert.equal(asideIndex.length, 1);
    assert.notEqual(kv.data.get(asideIndex[0] as string), index);
    assert.equal(kv.data.get(asideIndex[0] as string), '{"v":1,"nodes":"not a list"}');
    // The new state restores, and the copies stay where they are.
    const third = keptStores(kv, clock);
    assert.deepEqual((await third.keeper.restore()).nodes, ['n1']);
    assert.equal(third.stores.get('n1')?.channel(pointOf(2))?.channelPoint, pointOf(2));
    assert.equal(third.stores.get('n1')?.channel(pointOf(1)), undefined);
  });

  it('rejects while the store is down, and joins events applied meanwhile to the restore', async () => {
    const clock = new TestClock(TEST_NOW);
    const random = seededRandom(5);
    const kv = new MemoryKv();
    const before = keptStores(kv, clock);
    before.stats.restored = true;
    const reference = before.stores.getOrCreate('n');
    play(reference, clock, random, 200);
    await settle(reference);
    const writtenAt = clock.now();
    await before.keeper.snapshotNow();

    kv.down = true;
    const restarted = keptStores(kv, clock);
    await assert.rejects(restarted.keeper.restore());
    assert.equal(restarted.stats.restoreFailures, 1);
    assert.equal(restarted.stats.restored, false);
    // Snapshots are not written over history that was not restored.
    kv.down = false;
    const writes = kv.writes;
    assert.equal((await restarted.keeper.snapshotNow()).ok, false);
    assert.equal(kv.writes, writes);
    // Events arrive meanwhile (journaled); the reference gets the same ones.
    const live = restarted.stores.getOrCreate('n');
    live.beginJournal(1_000);
    const closes = [...reference.channels()].slice(0, 3);
    const t0 = clock.now();
    const apply = (store: ChannelEventStore): void => {
      let t = t0;
      for (const channel of closes)
        store.closeChannel(channel.peer.pubkey, channel.channelPoint, (t += MINUTE));
      store.openChannel(pubkeyOf(40), pointOf(4040), (t += MINUTE));
      store.openChannel(pubkeyOf(1), pointOf(4041), (t += MINUTE));
      for (let i = 0; i < 30; i++)
        store.peerEvent(pubkeyOf(i % 14), i % 3 === 0, (t += 7 * MINUTE));
      clock.set(t + HOUR);
    };
    apply(live);
    // Core NATS: nobody observed the node from the last write on (the restore says so).
    reference.exporterDown(writtenAt);
    apply(reference);
    // The events kept to be joined, as the metrics show them.
    assert.ok(restarted.stats.pendingEvents >= 30, `${restarted.stats.pendingEvents} pending`);
    await settle(live);
    await settle(reference);
    await restarted.keeper.restore();
    assert.equal(restarted.stats.pendingEvents, 0);
    assert.deepEqual(pictureOf(live), pictureOf(reference));
  });

  it('restores the bootstrap list of connected peers', async () => {
    const clock = new TestClock(TEST_NOW);
    const kv = new MemoryKv();
    const live = keptStores(kv, clock);
    live.stats.restored = true;
    live.bootstrapPeers.set('n', new Set([pubkeyOf(1), pubkeyOf(2)]));
    live.stores.getOrCreate('n');
    await live.keeper.snapshotNow();
    const restarted = keptStores(kv, clock);
    await restarted.keeper.restore();
    assert.equal(restarted.bootstrapPeers.connectivity('n', pubkeyOf(2)), true);
    assert.equal(restarted.bootstrapPeers.connectivity('n', pubkeyOf(3)), false);
  });

  it("paces the timer's snapshots with breaks, and not the final one", async () => {
    const clock = new TestClock(TEST_NOW);
    const kv = new MemoryKv();
    const breaks: number[] = [];
    // The breaks are the clock's sleeps: recorded, and run through by runUntil.
    const sleep = clock.sleep.bind(clock);
    clock.sleep = (ms, options) => {
      breaks.push(ms);
      return sleep(ms, options);
    };
    const live = keptStores(kv, clock);
    live.stats.restored = true;
    const store = live.stores.getOrCreate('n');
    play(store, clock, seededRandom(2), 500, 40);
    await settle(store);
    assert.equal((await live.keeper.snapshotNow()).ok, true);
    const unpacedBreaks = breaks.length;
    assert.equal(unpacedBreaks, 0, 'unpaced: no breaks');
    play(store, clock, seededRandom(3), 500, 40);
    await settle(store);
    const capturedAt = clock.now();
    assert.equal((await clock.runUntil(live.keeper.snapshotNow({ paced: true }))).ok, true);
    // The breaks took the clock's time; compared at the capture (a restart later is a gap).
    clock.set(capturedAt);
    assert.ok(breaks.length >= 2, `${breaks.length} breaks`);
    // Each break is about 19 times its step (5% of the time), at least 1 ms, at most 1 s.
    for (const ms of breaks) assert.ok(ms >= 1 && ms <= 1_000, `break of ${ms} ms`);
    const restarted = keptStores(kv, clock);
    await restarted.keeper.restore();
    assert.deepEqual(pictureOf(restarted.stores.get('n') as ChannelEventStore), pictureOf(store));
  });

  it('resumes a JetStream consumer only from a mark of the same stream and durable', async () => {
    const clock = new TestClock(TEST_NOW);
    const kv = new MemoryKv();
    const position = (stream: string) => ({
      stream,
      durable: 'd',
      appliedThrough: () => 42,
      peerSequence: () => undefined,
    });
    const live = keptStores(kv, clock, { jetstream: position('EVENTS') });
    live.stats.restored = true;
    live.stores.getOrCreate('n').openChannel(pubkeyOf(1), pointOf(1), clock.now());
    await settle(live.stores.getOrCreate('n'));
    assert.equal((await live.keeper.snapshotNow()).ok, true);
    const same = keptStores(kv, clock, { jetstream: position('EVENTS') });
    const resumed = await same.keeper.restore();
    assert.equal(resumed.through, 42);
    assert.equal(resumed.skips.get('n')?.floor, 42);
    // Stopped before consuming anything (delivery at 0): the point written stays 42.
    const idle = keptStores(kv, clock, {
      jetstream: { ...position('EVENTS'), appliedThrough: () => 0 },
    });
    await idle.keeper.restore();
    assert.equal((await idle.keeper.stop())?.ok, true);
    const again = keptStores(kv, clock, { jetstream: position('EVENTS') });
    assert.equal((await again.keeper.restore()).through, 42);
    assert.equal((await again.keeper.restore()).skips.get('n')?.floor, 42);
    const other = keptStores(kv, clock, { jetstream: position('OTHER') });
    const reconciled = await other.keeper.restore();
    assert.equal(reconciled.through, undefined);
    assert.equal(reconciled.skips.size, 0);
    assert.equal(other.stores.get('n')?.channelCount, 1);
  });

  it('writes everything again when the store lost what it had (a restarted Redis without persistence)', async () => {
    const clock = new TestClock(TEST_NOW);
    const kv = new MemoryKv();
    const live = keptStores(kv, clock);
    live.stats.restored = true;
    live.bootstrapPeers.set('n', new Set([pubkeyOf(3)]));
    const store = live.stores.getOrCreate('n');
    play(store, clock, seededRandom(21), 2_000, 6);
    await settle(store);
    assert.equal((await live.keeper.snapshotNow()).ok, true);
    kv.data.clear();
    // One more event: an incremental write alone would name buckets the store no longer has.
    clock.advance(MINUTE);
    store.peerEvent(pubkeyOf(1), true, clock.now());
    assert.equal((await live.keeper.snapshotNow()).ok, true);
    const restarted = keptStores(kv, clock);
    assert.deepEqual((await restarted.keeper.restore()).nodes, ['n']);
    assert.deepEqual(pictureOf(restarted.stores.get('n') as ChannelEventStore), pictureOf(store));
    assert.equal(restarted.bootstrapPeers.connectivity('n', pubkeyOf(3)), true);
  });
});
