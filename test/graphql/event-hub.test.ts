import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  EventHub,
  SubscriptionError,
  type AppliedPeerEvent,
  type EventHubOptions,
  type EventStream,
  type SubscriptionInfo,
} from '../../src/graphql/event-hub.js';
import { pubkey } from '../support/store-fixture.js';

const P1 = pubkey(1);
const P2 = pubkey(2);
const CP = `${'c'.repeat(64)}:0`;

function hub(options: Partial<EventHubOptions> = {}): EventHub {
  return new EventHub({ maxSubscriptions: 10, queueSize: 100, ...options });
}

/** Everything queued on a stream, without waiting. */
async function drain<T>(stream: EventStream<T>): Promise<(T | SubscriptionError)[]> {
  const out: (T | SubscriptionError)[] = [];
  while (stream.queued > 0) {
    const result = await stream.next();
    if (result.done === true) break;
    out.push(result.value);
  }
  return out;
}

/** Feeds n peer events of `pk` on node `alice`, at times 1..n. */
function feed(h: EventHub, n: number, pk = P1, node = 'alice'): void {
  for (let i = 1; i <= n; i++) h.peerEvent(node, pk, i % 2 === 1, i, i, i);
}

describe('EventHub', () => {
  describe('filters', () => {
    it('gives each subscriber the events of its node and peer only', async () => {
      const h = hub();
      const all = h.subscribePeers({});
      const alice = h.subscribePeers({ node: 'alice' });
      const aliceP1 = h.subscribePeers({ node: 'alice', pubkey: P1 });
      const anyP2 = h.subscribePeers({ pubkey: P2 });
      h.peerEvent('alice', P1, true, 1, 1, 1);
      h.peerEvent('alice', P2, true, 2, 2, 1);
      h.peerEvent('bob', P1, false, 3, 3, undefined);
      h.peerEvent('bob', P2, false, 4, 4, 7);
      const times = async (s: EventStream<AppliedPeerEvent>): Promise<number[]> =>
        (await drain(s)).map((e) => (e as AppliedPeerEvent).time);
      assert.deepEqual(await times(all), [1, 2, 3, 4]);
      assert.deepEqual(await times(alice), [1, 2]);
      assert.deepEqual(await times(aliceP1), [1]);
      assert.deepEqual(await times(anyP2), [2, 4]);
    });

    it('keeps peer and channel events apart', async () => {
      const h = hub();
      const peers = h.subscribePeers({});
      const channels = h.subscribeChannels({ node: 'alice' });
      h.peerEvent('alice', P1, true, 1, 1, 1);
      h.channelEvent('alice', true, P1, CP, 2, 2, 1);
      h.channelEvent('bob', false, P1, CP, 3, 3, 1);
      assert.equal(peers.queued, 1);
      assert.deepEqual(await drain(channels), [
        {
          node: 'alice',
          pubkey: P1,
          channelPoint: CP,
          type: 'OPEN_CHANNEL',
          time: 2,
          reordered: false,
          flapCount: 1,
        },
      ]);
    });

    it('describes each event as applied: its type, time, reordering and flap count', async () => {
      const h = hub();
      const stream = h.subscribePeers({});
      h.peerEvent('alice', P1, false, 5, 9, 3);
      h.peerEvent('alice', P2, true, 7, 7, undefined);
      h.channelEvent('alice', false, P1, CP, 10, 12, 3);
      assert.deepEqual(await drain(stream), [
        {
          node: 'alice',
          pubkey: P1,
          type: 'PEER_OFFLINE',
          time: 9,
          reordered: true,
          tracked: true,
          flapCount: 3,
        },
        {
          node: 'alice',
          pubkey: P2,
          type: 'PEER_ONLINE',
          time: 7,
          reordered: false,
          tracked: false,
          flapCount: null,
        },
      ]);
      const closes = h.subscribeChannels({});
      h.channelEvent('alice', false, P1, CP, 10, 12, 3);
      const [close] = await drain(closes);
      assert.deepEqual(close, {
        node: 'alice',
        pubkey: P1,
        channelPoint: CP,
        type: 'CLOSED_CHANNEL',
        time: 12,
        reordered: true,
        flapCount: 3,
      });
    });

    it('builds one event for every subscriber it matches', async () => {
      const h = hub();
      const a = h.subscribePeers({});
      const b = h.subscribePeers({ pubkey: P1 });
      h.peerEvent('alice', P1, true, 1, 1, 1);
      const [fromA] = await drain(a);
      const [fromB] = await drain(b);
      assert.equal(fromA, fromB);
    });
  });

  describe('delivery', () => {
    it('hands an event to a waiting reader at once, queueing nothing', async () => {
      const h = hub();
      const stream = h.subscribePeers({});
      const next = stream.next();
      h.peerEvent('alice', P1, true, 1, 1, 1);
      assert.equal(stream.queued, 0);
      const result = await next;
      assert.equal(result.done, false);
      assert.equal((result.value as AppliedPeerEvent).time, 1);
    });

    it('lets the event loop run while a reader takes a full queue', async () => {
      const h = hub();
      const stream = h.subscribePeers({});
      feed(h, 64);
      let taken = 0;
      let takenWhenTheLoopRan: number | undefined;
      setImmediate(() => {
        takenWhenTheLoopRan = taken;
      });
      while (stream.queued > 0) {
        await stream.next();
        taken += 1;
      }
      assert.equal(taken, 64);
      // Without a pause the 64 would all be taken in one run of promise callbacks.
      assert.ok(
        takenWhenTheLoopRan !== undefined && takenWhenTheLoopRan <= 16,
        `the loop ran after ${takenWhenTheLoopRan} events`,
      );
    });

    it('ends on return(): no more events, its place free', async () => {
      const h = hub({ maxSubscriptions: 1 });
      const stream = h.subscribePeers({});
      const pending = stream.next();
      await stream.return();
      assert.deepEqual(await pending, { value: undefined, done: true });
      assert.equal(h.open, 0);
      feed(h, 3);
      assert.equal(stream.queued, 0);
      assert.deepEqual(await stream.next(), { value: undefined, done: true });
      h.subscribePeers({});
    });

    it('close() ends every stream after what it had queued, and refuses new ones', async () => {
      const h = hub();
      const stream = h.subscribePeers({});
      const waiting = h.subscribeChannels({});
      const pending = waiting.next();
      feed(h, 2);
      h.close();
      assert.equal((await stream.next()).done, false);
      assert.equal((await stream.next()).done, false);
      assert.deepEqual(await stream.next(), { value: undefined, done: true });
      assert.deepEqual(await pending, { value: undefined, done: true });
      assert.equal(h.open, 0);
      assert.throws(() => h.subscribePeers({}), { code: 'TOO_MANY_SUBSCRIPTIONS' });
    });
  });

  describe('bounds', () => {
    it('refuses a subscription past maxSubscriptions with TOO_MANY_SUBSCRIPTIONS naming the setting', async () => {
      const h = hub({ maxSubscriptions: 2 });
      const a = h.subscribePeers({});
      h.subscribeChannels({});
      assert.throws(
        () => h.subscribePeers({ node: 'alice' }),
        (err: unknown) =>
          err instanceof SubscriptionError &&
          err.code === 'TOO_MANY_SUBSCRIPTIONS' &&
          /2 subscriptions are open/.test(err.message) &&
          /--graphql\.max-subscriptions \(GRAPHQL_MAX_SUBSCRIPTIONS\)/.test(err.message),
      );
      await a.return();
      assert.equal(h.open, 1);
      h.subscribePeers({});
      assert.equal(h.open, 2);
    });

    it('drops a subscriber whose queue is full: its queue is let go, its stream ends with SUBSCRIBER_TOO_SLOW', async () => {
      const dropped: SubscriptionInfo[] = [];
      const h = hub({ queueSize: 3, dropped: (info) => dropped.push(info) });
      const slow = h.subscribePeers({ node: 'alice' });
      const fast = h.subscribePeers({});
      let onDropped = 0;
      slow.onDropped = () => (onDropped += 1);
      feed(h, 3);
      assert.equal(slow.queued, 3);
      assert.equal(slow.wasDropped, false);
      await drain(fast);
      feed(h, 1);
      // The fourth event found the queue full.
      assert.equal(slow.wasDropped, true);
      assert.equal(slow.queued, 0);
      assert.equal(h.dropped, 1);
      assert.equal(onDropped, 1);
      assert.deepEqual(dropped, [{ field: 'peerEvents', filter: { node: 'alice' } }]);
      // Nothing more reaches it; the other subscriber goes on.
      await drain(fast);
      feed(h, 2);
      assert.equal(slow.queued, 0);
      assert.equal(fast.queued, 2);
      assert.equal(fast.wasDropped, false);
      const last = await slow.next();
      assert.ok(last.value instanceof SubscriptionError);
      assert.equal(last.value.code, 'SUBSCRIBER_TOO_SLOW');
      assert.match(last.value.message, /read its events too slowly \(3 were waiting/);
      // Its place is held until its stream has ended.
      assert.equal(h.open, 2);
      assert.deepEqual(await slow.next(), { value: undefined, done: true });
      assert.equal(slow.finished, true);
      assert.equal(h.open, 1);
      assert.equal(h.dropped, 1);
    });

    it('keeps memory to what waits: a reader that keeps up is never dropped', async () => {
      const h = hub({ queueSize: 10 });
      const stream = h.subscribePeers({});
      for (let round = 0; round < 1_000; round++) {
        feed(h, 7);
        assert.equal((await drain(stream)).length, 7);
      }
      assert.equal(stream.wasDropped, false);
      assert.equal(h.dropped, 0);
    });
  });

  describe('cost when nobody listens', () => {
    /** V8's gc(), without --expose-gc on the command line. */
    function exposedGc(): () => void {
      setFlagsFromString('--expose-gc');
      return runInNewContext('gc') as () => void;
    }

    /**
     * Bytes run() allocated: the heap's growth from a collected start, garbage
     * included (a few hundred KB stay below the young generation's first scavenge).
     */
    function allocated(gc: () => void, run: () => void): number {
      // The least of a few runs: code the compiler installs meanwhile is no per-event cost.
      let least = Infinity;
      for (let i = 0; i < 5; i++) {
        gc();
        const before = process.memoryUsage().heapUsed;
        run();
        least = Math.min(least, process.memoryUsage().heapUsed - before);
      }
      return least;
    }

    it('builds no event for a node or peer nobody subscribed to', async () => {
      const h = hub();
      // No subscriber at all: nothing to walk.
      feed(h, 10);
      // Subscribers of other nodes and peers: a filter test each, and no event.
      const other = h.subscribePeers({ node: 'bob' });
      const otherPeer = h.subscribePeers({ node: 'alice', pubkey: P2 });
      const channels = h.subscribeChannels({ node: 'alice' });
      feed(h, 10);
      assert.equal(other.queued + otherPeer.queued + channels.queued, 0);
      await other.return();
      await otherPeer.return();
      await channels.return();
    });

    it('allocates nothing per event without a matching subscriber (a matching one does)', () => {
      const gc = exposedGc();
      const h = hub({ queueSize: 100_000 });
      const events = 5_000;
      const run = (): void => {
        for (let i = 0; i < events; i++) h.peerEvent('alice', P1, i % 2 === 0, i, i, i);
      };
      // Warm up: compilation is no per-event cost.
      for (let i = 0; i < 20; i++) run();
      const idle = allocated(gc, run);
      h.subscribePeers({ node: 'bob' });
      for (let i = 0; i < 20; i++) run();
      const unmatched = allocated(gc, run);
      // The control: a matching subscriber gets an event each, which the measure must see.
      h.subscribePeers({ node: 'alice' });
      const matched = allocated(gc, run);
      const perEvent = (bytes: number): number => bytes / events;
      assert.ok(perEvent(matched) > 40, `a kept event measured ${perEvent(matched)} bytes`);
      assert.ok(perEvent(idle) < 4, `${perEvent(idle)} bytes per event with no subscriber`);
      assert.ok(perEvent(unmatched) < 4, `${perEvent(unmatched)} bytes per event not matched`);
    });
  });
});
