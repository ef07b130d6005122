import assert from 'node:assert/strict';
import { keyvHistoryKv } from '../../src/history/history-kv.js';
import type { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { ALL_BACKENDS, type TestStore } from '../persistence/support/backends.js';
import { seededRandom } from '../support/seeded-random.js';
import { MINUTE, TestClock, TEST_NOW } from '../support/test-clock.js';
import { keptStores, pictureOf } from './support.js';

const pubkeyOf = (n: number): string => `03${n.toString(16).padStart(64, '0')}`;
const pointOf = (n: number): string => `${n.toString(16).padStart(64, 'e')}:1`;

/** Lets what is due settle (the store itself applies every event at once). */
async function settle(_store: ChannelEventStore): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

for (const backend of ALL_BACKENDS) {
  describe(`history on ${backend.name}`, function () {
    this.timeout(30_000);
    let handle: TestStore;

    beforeEach(async () => {
      handle = await backend.open();
    });

    afterEach(async () => {
      await handle.cleanup();
    });

    it('restores two nodes exactly after full and incremental snapshots', async () => {
      const clock = new TestClock(TEST_NOW);
      const kv = keyvHistoryKv(handle.store);
      const live = keptStores(kv, clock);
      live.stats.restored = true;
      const random = seededRandom(3);
      const nodes = ['alice', 'bob'].map((node) => live.stores.getOrCreate(node));
      for (const [i, store] of nodes.entries()) {
        for (let c = 0; c < 40; c++)
          store.openChannel(pubkeyOf(c % 25), pointOf(i * 100 + c), clock.now());
      }
      for (const store of nodes) await settle(store);
      for (let round = 0; round < 3; round++) {
        // Enough events that some logs seal segments of their own.
        for (let e = 0; e < 6_000; e++) {
          clock.advance(Math.floor(random() * 3 * MINUTE) + 1);
          const store = nodes[e % 2] as ChannelEventStore;
          store.peerEvent(pubkeyOf(Math.floor(random() * 25)), random() < 0.5, clock.now());
        }
        const outcome = await live.keeper.snapshotNow();
        assert.equal(outcome.ok, true);
        assert.ok(outcome.bytes > 0);
        const restarted = keptStores(kv, clock);
        const result = await restarted.keeper.restore();
        assert.deepEqual([...result.nodes].sort(), ['alice', 'bob']);
        for (const store of nodes) {
          const restored = restarted.stores.get(store.node);
          assert.ok(restored !== undefined);
          assert.deepEqual(
            pictureOf(restored, [[TEST_NOW, clock.now()]]),
            pictureOf(store, [[TEST_NOW, clock.now()]]),
          );
        }
      }
    });
  });
}
