import assert from 'node:assert/strict';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { EventIngest, type EventSubject } from '../../src/ingest/event-ingest.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import type { NodeSnapshot } from '../../src/ingest/node-snapshot.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { captureLogger, type CapturedLog } from '../support/log-capture.js';
import { bytes, closedChannelJson, openChannelJson, peerEventJson } from '../support/lnd-json.js';
import { channelPoint, pubkey, RecordReader, nodeStores } from '../support/store-fixture.js';
import { HOUR, MINUTE, SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';

const NODE = 'alice';
const PEER = pubkey(1);
const CHAN = channelPoint(1);

interface Harness {
  clock: TestClock;
  stores: NodeStores;
  gate: RecordGate;
  stats: IngestStats;
  ingest: EventIngest;
  log: CapturedLog;
  reader: RecordReader;
  /** Resolves the pending bootstrap of a node. */
  answer: (node: string, snapshot: NodeSnapshot | undefined) => void;
  /** The nodes asked for their snapshot, in the order they were asked. */
  bootstraps: string[];
  send: (
    subject: EventSubject,
    payload: unknown,
    extra?: { streamTime?: number; done?: () => void },
  ) => void;
  store: () => ChannelEventStore;
}

function harness(
  options: {
    maxHeldEvents?: number;
    autoBootstrap?: boolean;
    bootstrapRetry?: { firstMs: number; maxMs: number };
  } = {},
): Harness {
  const clock = new TestClock(TEST_NOW);
  const reader = new RecordReader();
  const bootstrapPeers = new BootstrapPeers();
  const stores = nodeStores(clock, bootstrapPeers);
  const gate = new RecordGate({ read: reader.readOf });
  const stats = new IngestStats();
  const log = captureLogger();
  const waiting = new Map<string, (s: NodeSnapshot | undefined) => void>();
  const bootstraps: string[] = [];
  const ingest = new EventIngest({
    stores,
    gate,
    bootstrapPeers,
    clock,
    stats,
    logger: log.logger,
    ...(options.maxHeldEvents === undefined ? {} : { maxHeldEvents: options.maxHeldEvents }),
    ...(options.bootstrapRetry === undefined ? {} : { bootstrapRetry: options.bootstrapRetry }),
    bootstrap: (node) => {
      bootstraps.push(node);
      return options.autoBootstrap === false
        ? new Promise((resolve) => waiting.set(node, resolve))
        : Promise.resolve(undefined);
    },
  });
  return {
    clock,
    stores,
    gate,
    stats,
    ingest,
    log,
    reader,
    answer: (node, snapshot) => {
      const resolve = waiting.get(node);
      assert.ok(resolve, `a bootstrap of ${node} is asking`);
      waiting.delete(node);
      resolve(snapshot);
    },
    bootstraps,
    send: (subject, payload, extra = {}) => {
      ingest.handle({ node: NODE, subject, data: bytes(payload), ...extra });
    },
    store: () => {
      const store = stores.get(NODE);
      assert.ok(store, 'node store created');
      return store;
    },
  };
}

/** Lets the bootstrap promise and record reads settle. */
const settle = async (h: Harness) => {
  await new Promise(setImmediate);
  await h.gate.idle(h.store().node);
};

const applied = (h: Harness, kind: 'channel' | 'peer', type: string) =>
  h.stats.applied.get(NODE)?.get(kind)?.get(type) ?? 0;

describe('EventIngest', () => {
  it('applies a channel whose peer was online 1 h of its 3 h, by payload timestamps', async () => {
    const h = harness();
    // Delivered now, three hours after the channel opened.
    h.clock.set(TEST_NOW + 3 * HOUR);
    h.send('channel_events', openChannelJson(PEER, CHAN, TEST_NOW));
    h.send('peer_events', peerEventJson(PEER, true, TEST_NOW + HOUR));
    h.send('peer_events', peerEventJson(PEER, false, TEST_NOW + 2 * HOUR));
    await settle(h);
    assert.deepEqual(h.store().getChanInfo(CHAN, PEER), { lifetime: 3 * HOUR, uptime: HOUR });
    assert.equal(applied(h, 'channel', 'OPEN_CHANNEL'), 1);
    assert.equal(applied(h, 'peer', 'PEER_ONLINE'), 1);
    assert.equal(applied(h, 'peer', 'PEER_OFFLINE'), 1);
  });

  it('takes the payload timestamp, else the stream time, else the time of receipt', async () => {
    const h = harness();
    h.send('channel_events', openChannelJson(PEER, channelPoint(1), TEST_NOW - HOUR), {
      streamTime: TEST_NOW - 2 * HOUR,
    });
    h.send('channel_events', openChannelJson(PEER, channelPoint(2)), {
      streamTime: TEST_NOW - HOUR / 2,
    });
    h.send('channel_events', openChannelJson(PEER, channelPoint(3)));
    await settle(h);
    // Per-peer time never runs backwards: the second open is applied at the first one's time.
    assert.equal(h.store().channel(channelPoint(1))?.openedAt, TEST_NOW - HOUR);
    assert.equal(h.store().channel(channelPoint(2))?.openedAt, TEST_NOW - HOUR / 2);
    assert.equal(h.store().channel(channelPoint(3))?.openedAt, TEST_NOW);
  });

  it('rejects events more than 5 minutes in the future, accepts 5 minutes exactly', async () => {
    const h = harness();
    h.send('peer_events', peerEventJson(PEER, true, TEST_NOW + 5 * MINUTE + 1));
    h.send('peer_events', peerEventJson(PEER, true, TEST_NOW + 5 * MINUTE));
    await settle(h);
    assert.equal(h.stats.rejected.get('future_timestamp'), 1);
    assert.equal(applied(h, 'peer', 'PEER_ONLINE'), 1);
  });

  it('counts every class of bad input by reason and still applies the good events after it', async () => {
    const h = harness();
    const bad: [EventSubject, unknown, string][] = [
      ['peer_events', '{"pub_key": "02', 'invalid_json'],
      ['peer_events', '[1,2,3]', 'invalid_shape'],
      ['peer_events', { pub_key: PEER, type: 'PEER_DANCING' }, 'unknown_type'],
      ['peer_events', { pub_key: 42, type: 'PEER_ONLINE' }, 'invalid_pubkey'],
      ['peer_events', { pub_key: '04' + 'ab'.repeat(32) }, 'invalid_pubkey'],
      ['channel_events', openChannelJson(PEER, 'zz:1'), 'invalid_channel_point'],
      ['peer_events', { pub_key: PEER, timestamp: 'yesterday' }, 'invalid_timestamp'],
      ['peer_events', { pub_key: PEER, pad: 'x'.repeat(70_000) }, 'too_large'],
      ['channel_events', closedChannelJson(PEER, channelPoint(9)), 'unknown_channel'],
    ];
    for (const [subject, payload] of bad) h.send(subject, payload);
    h.send('channel_events', openChannelJson(PEER, CHAN));
    h.send('channel_events', openChannelJson(PEER, CHAN));
    h.send('peer_events', peerEventJson(PEER, true));
    await settle(h);

    const expected = new Map<string, number>();
    for (const [, , reason] of bad) expected.set(reason, (expected.get(reason) ?? 0) + 1);
    expected.set('duplicate_channel', 1);
    for (const [reason, count] of h.stats.rejected) {
      assert.equal(count, expected.get(reason) ?? 0, `rejected{reason="${reason}"}`);
    }
    assert.equal(h.store().channelCount, 1);
    assert.equal(h.store().peer(PEER)?.online, true);
    assert.equal(applied(h, 'channel', 'OPEN_CHANNEL'), 1);
    assert.equal(applied(h, 'peer', 'PEER_ONLINE'), 1);
  });

  it('counts lnd other channel events without changing the store', async () => {
    const h = harness();
    h.send('channel_events', {
      type: 'ACTIVE_CHANNEL',
      active_channel: { funding_txid_str: 'ab'.repeat(32), output_index: 0 },
    });
    h.send('channel_events', {
      result: {
        type: 'INACTIVE_CHANNEL',
        inactive_channel: { funding_txid_str: 'ab'.repeat(32), output_index: 0 },
      },
    });
    await settle(h);
    assert.equal(applied(h, 'channel', 'ACTIVE_CHANNEL'), 1);
    assert.equal(applied(h, 'channel', 'INACTIVE_CHANNEL'), 1);
    assert.equal(h.store().channelCount, 0);
  });

  it('logs rejected messages without flooding the log', async () => {
    const h = harness();
    for (let i = 0; i < 1_000; i++) h.send('peer_events', 'not json');
    await new Promise(setImmediate);
    assert.equal(h.stats.rejected.get('invalid_json'), 1_000);
    // Nothing but garbage: no node.
    assert.equal(h.stores.get(NODE), undefined);
    const lines = h.log.lines().filter((l) => l.msg === 'rejected message');
    assert.ok(lines.length <= 5, `${lines.length} lines for 1000 rejections`);
    assert.equal(lines[0]?.reason, 'invalid_json');

    h.clock.advance(2 * MINUTE);
    h.send('peer_events', 'not json');
    const last = h.log
      .lines()
      .filter((l) => l.msg === 'rejected message')
      .at(-1);
    assert.equal(last?.suppressedSinceLast, 995);
  });

  it('calls done for every message once applied or rejected, after a record read when it waited', async () => {
    const h = harness();
    const done: string[] = [];
    h.send('channel_events', openChannelJson(PEER, CHAN), { done: () => done.push('open') });
    h.send('peer_events', 'bad', { done: () => done.push('bad') });
    h.send('peer_events', peerEventJson(PEER, true), { done: () => done.push('online') });
    assert.deepEqual(done, ['bad']);
    await settle(h);
    assert.deepEqual(done, ['bad', 'open', 'online']);
  });
});

describe('EventIngest bootstrap', () => {
  it('holds a node events until its snapshot is applied, then applies them in order', async () => {
    const h = harness({ autoBootstrap: false });
    const listed = channelPoint(5);
    h.send('channel_events', closedChannelJson(PEER, listed, TEST_NOW + SECOND));
    h.send('peer_events', peerEventJson(PEER, false, TEST_NOW + 2 * SECOND));
    assert.equal(h.store().channelCount, 0);
    assert.equal(h.ingest.bootstrapping, 1);

    h.answer(NODE, {
      channels: [
        { pubkey: PEER, channelPoint: listed },
        { pubkey: pubkey(2), channelPoint: channelPoint(6) },
      ],
      onlinePeers: new Set([PEER]),
    });
    await settle(h);
    assert.equal(h.ingest.bootstrapping, 0);
    // The listed channel was added first, then closed by the held event.
    assert.equal(h.store().channel(listed), undefined);
    assert.equal(h.store().channel(channelPoint(6))?.peer.pubkey, pubkey(2));
    assert.equal(h.stats.rejected.get('unknown_channel'), 0);
    // The peer was listed online: created online (1 flap), then the offline event (2).
    assert.equal(h.store().peer(PEER)?.flapCount, 2);
    assert.equal(h.store().peer(PEER)?.online, false);
    // Bootstrap channels are not counted as events.
    assert.equal(applied(h, 'channel', 'OPEN_CHANNEL'), 0);
  });

  it('applies the held events when the bootstrap fails', async () => {
    const h = harness({ autoBootstrap: false });
    h.send('channel_events', openChannelJson(PEER, CHAN));
    h.answer(NODE, undefined);
    await settle(h);
    assert.equal(h.store().channelCount, 1);
  });

  it('stops holding past the limit, keeping the order', async () => {
    const h = harness({ autoBootstrap: false, maxHeldEvents: 2 });
    h.send('channel_events', openChannelJson(PEER, CHAN, TEST_NOW));
    h.send('peer_events', peerEventJson(PEER, true, TEST_NOW + 1));
    h.send('peer_events', peerEventJson(PEER, false, TEST_NOW + 2));
    await settle(h);
    assert.equal(h.ingest.bootstrapping, 0);
    assert.equal(h.store().peer(PEER)?.online, false);
    assert.equal(h.store().reorderedTotal, 0);
    h.answer(NODE, { channels: [{ pubkey: PEER, channelPoint: CHAN }], onlinePeers: undefined });
    await settle(h);
    assert.equal(h.stats.rejected.get('duplicate_channel'), 0);
  });

  it('bootstraps named nodes before any event, and again on demand', async () => {
    const h = harness({ autoBootstrap: false });
    h.ingest.ensureNode('bob');
    assert.ok(h.stores.get('bob'));
    h.answer('bob', { channels: [{ pubkey: PEER, channelPoint: CHAN }], onlinePeers: new Set() });
    await new Promise(setImmediate);
    await h.gate.idle('bob');
    assert.equal(h.stores.get('bob')?.channelCount, 1);

    h.ingest.bootstrapAgain();
    assert.equal(h.ingest.bootstrapping, 1);
    h.answer('bob', {
      channels: [
        { pubkey: PEER, channelPoint: CHAN },
        { pubkey: PEER, channelPoint: channelPoint(7) },
      ],
      onlinePeers: new Set(),
    });
    await new Promise(setImmediate);
    await h.gate.idle('bob');
    assert.equal(h.stores.get('bob')?.channelCount, 2);
  });
});

describe('EventIngest node creation', () => {
  const typo = (h: Harness, subject: EventSubject, payload: unknown) => {
    h.ingest.handle({ node: 'typo', subject, data: bytes(payload) });
  };

  it('creates no node for messages that do not decode or are refused: no store, no bootstrap', async () => {
    const h = harness();
    typo(h, 'channel_events', 'not json {');
    typo(h, 'peer_events', { pub_key: PEER, type: 'PEER_DANCING' });
    typo(h, 'channel_events', openChannelJson(PEER, 'zz:1'));
    typo(h, 'peer_events', peerEventJson(PEER, true, TEST_NOW + HOUR));
    await new Promise(setImmediate);
    assert.equal(h.stores.get('typo'), undefined);
    assert.equal(h.stores.size, 0);
    assert.deepEqual(h.bootstraps, []);
    assert.equal(h.stats.applied.has('typo'), false);
    assert.equal(h.ingest.bootstrapping, 0);
    // Still counted and logged, with the node they named.
    assert.equal(h.stats.rejected.get('invalid_json'), 1);
    assert.equal(h.stats.rejected.get('unknown_type'), 1);
    assert.equal(h.stats.rejected.get('invalid_channel_point'), 1);
    assert.equal(h.stats.rejected.get('future_timestamp'), 1);
    assert.ok(h.log.lines().some((l) => l.msg === 'rejected message' && l.node === 'typo'));
  });

  it('creates the node on its first message that decodes, and bootstraps it then', async () => {
    const h = harness({ autoBootstrap: false });
    typo(h, 'channel_events', 'not json {');
    typo(h, 'channel_events', openChannelJson(PEER, CHAN));
    typo(h, 'peer_events', 'still not json');
    typo(h, 'peer_events', peerEventJson(PEER, false, TEST_NOW + SECOND));
    assert.ok(h.stores.get('typo'));
    assert.deepEqual(h.bootstraps, ['typo']);
    h.answer('typo', undefined);
    await new Promise(setImmediate);
    await h.gate.idle('typo');
    // The good messages in their order: the open, then the offline event.
    assert.equal(h.stores.get('typo')?.channelCount, 1);
    assert.equal(h.stores.get('typo')?.peer(PEER)?.online, false);
    assert.equal(h.stats.rejected.get('invalid_json'), 2);
    h.ingest.stop();
  });
});

describe('EventIngest bootstrap retries (on the TestClock)', () => {
  const LISTING: NodeSnapshot = {
    channels: [
      { pubkey: PEER, channelPoint: CHAN },
      { pubkey: pubkey(2), channelPoint: channelPoint(2) },
    ],
    onlinePeers: new Set([pubkey(2)]),
  };

  it('asks a node whose bootstrap failed again, doubling from 5 s up to 5 min', async () => {
    const h = harness({ autoBootstrap: false });
    h.ingest.ensureNode(NODE);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 9; attempt++) {
      assert.equal(h.bootstraps.length, attempt);
      h.answer(NODE, undefined);
      await settle(h);
      // Counted in time: asked again exactly when the delay is over, not before.
      let waited = 0;
      while (h.bootstraps.length === attempt) {
        await h.clock.tickAsync(1_000);
        waited += 1_000;
        assert.ok(waited <= 10 * MINUTE, `attempt ${attempt + 1} never came`);
      }
      delays.push(waited);
    }
    assert.deepEqual(
      delays,
      [5, 10, 20, 40, 80, 160, 300, 300, 300].map((s) => s * SECOND),
    );
    h.ingest.stop();
  });

  it('stops holding the node events after the first failure, and applies a late listing', async () => {
    const h = harness({ autoBootstrap: false });
    h.send('channel_events', openChannelJson(PEER, CHAN, TEST_NOW - MINUTE));
    assert.equal(h.ingest.bootstrapping, 1);
    h.answer(NODE, undefined);
    await settle(h);
    assert.equal(h.ingest.bootstrapping, 0);
    assert.equal(h.store().channelCount, 1);

    // Asked again in 5 s; meanwhile (and while asking) events are applied at once.
    await h.clock.tickAsync(5 * SECOND);
    assert.equal(h.bootstraps.length, 2);
    assert.equal(h.ingest.bootstrapping, 0);
    h.send('peer_events', peerEventJson(PEER, true, TEST_NOW));
    await settle(h);
    assert.equal(h.store().peer(PEER)?.online, true);
    assert.equal(applied(h, 'peer', 'PEER_ONLINE'), 1);

    h.clock.set(TEST_NOW + 10 * SECOND);
    h.answer(NODE, LISTING);
    await settle(h);
    // The listed channels are added (the one already there stays as it was), with
    // the listed connectivity, at the time of the reply.
    assert.equal(h.store().channelCount, 2);
    assert.equal(h.store().channel(CHAN)?.openedAt, TEST_NOW - MINUTE);
    assert.equal(h.store().channel(channelPoint(2))?.openedAt, TEST_NOW + 10 * SECOND);
    assert.equal(h.store().peer(pubkey(2))?.online, true);
    assert.equal(h.stats.rejected.get('duplicate_channel'), 0);
    assert.equal(applied(h, 'channel', 'OPEN_CHANNEL'), 1);

    // Done: never asked again.
    await h.clock.tickAsync(HOUR);
    assert.equal(h.bootstraps.length, 2);
    h.ingest.stop();
  });

  it('asks again after a listing that is incomplete, keeping what it had', async () => {
    const h = harness({ autoBootstrap: false });
    h.ingest.ensureNode(NODE);
    // The peer listing came, the channel listing did not.
    h.answer(NODE, { channels: [], onlinePeers: new Set([PEER]), incomplete: true });
    await new Promise(setImmediate);
    await h.clock.tickAsync(5 * SECOND);
    assert.equal(h.bootstraps.length, 2);
    h.answer(NODE, LISTING);
    await settle(h);
    assert.equal(h.store().channelCount, 2);
    await h.clock.tickAsync(HOUR);
    assert.equal(h.bootstraps.length, 2);
    h.ingest.stop();
  });

  it('asks again when the bootstrap throws', async () => {
    const h = harness({ autoBootstrap: false });
    const failing = new EventIngest({
      stores: h.stores,
      gate: h.gate,
      bootstrapPeers: new BootstrapPeers(),
      clock: h.clock,
      stats: h.stats,
      logger: h.log.logger,
      bootstrap: (node) => {
        h.bootstraps.push(node);
        return Promise.reject(new Error('connection closed'));
      },
    });
    failing.ensureNode('bob');
    await new Promise(setImmediate);
    assert.ok(h.log.lines().some((l) => l.msg === 'bootstrap failed' && l.node === 'bob'));
    await h.clock.tickAsync(5 * SECOND);
    assert.deepEqual(h.bootstraps, ['bob', 'bob']);
    failing.stop();
  });

  it('starts over from 5 s when asked again on demand (a reconnection)', async () => {
    const h = harness({ autoBootstrap: false });
    h.ingest.ensureNode(NODE);
    h.answer(NODE, undefined);
    await new Promise(setImmediate);
    await h.clock.tickAsync(5 * SECOND);
    h.answer(NODE, undefined);
    await new Promise(setImmediate);
    // The next retry would be in 10 s; a reconnection asks at once, holding events again.
    h.ingest.bootstrapAgain();
    assert.equal(h.bootstraps.length, 3);
    assert.equal(h.ingest.bootstrapping, 1);
    h.answer(NODE, undefined);
    await new Promise(setImmediate);
    assert.equal(h.ingest.bootstrapping, 0);
    await h.clock.tickAsync(5 * SECOND);
    assert.equal(h.bootstraps.length, 4);
    // Nothing else was left scheduled by the replaced retry.
    h.answer(NODE, LISTING);
    await new Promise(setImmediate);
    await h.clock.tickAsync(HOUR);
    assert.equal(h.bootstraps.length, 4);
    h.ingest.stop();
  });

  it('does not ask again while an attempt is in flight', async () => {
    const h = harness({ autoBootstrap: false });
    h.ingest.ensureNode(NODE);
    h.ingest.bootstrapAgain();
    assert.equal(h.bootstraps.length, 1);
    h.answer(NODE, undefined);
    await new Promise(setImmediate);
    await h.clock.tickAsync(5 * SECOND);
    h.ingest.bootstrapAgain();
    assert.equal(h.bootstraps.length, 2);
    h.ingest.stop();
  });

  it('stops asking on stop()', async () => {
    const h = harness({ autoBootstrap: false });
    h.ingest.ensureNode(NODE);
    h.ingest.ensureNode('bob');
    h.answer(NODE, undefined);
    h.answer('bob', undefined);
    await new Promise(setImmediate);
    h.ingest.stop();
    assert.equal(h.clock.pendingTimers, 0, 'no retry left scheduled');
    await h.clock.tickAsync(HOUR);
    assert.deepEqual(h.bootstraps, [NODE, 'bob']);
    // Nor for a node first seen after it, nor on demand.
    h.ingest.handle({
      node: 'carol',
      subject: 'peer_events',
      data: bytes(peerEventJson(PEER, true)),
    });
    h.ingest.bootstrapAgain();
    assert.deepEqual(h.bootstraps, [NODE, 'bob']);
  });

  it('does not schedule a retry for an attempt that fails after stop()', async () => {
    const h = harness({ autoBootstrap: false });
    h.ingest.ensureNode(NODE);
    h.ingest.stop();
    h.answer(NODE, undefined);
    await new Promise(setImmediate);
    assert.equal(h.clock.pendingTimers, 0);
  });

  it('takes the backoff it is given', async () => {
    const h = harness({ autoBootstrap: false, bootstrapRetry: { firstMs: 100, maxMs: 250 } });
    h.ingest.ensureNode(NODE);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      h.answer(NODE, undefined);
      await new Promise(setImmediate);
      let waited = 0;
      while (h.bootstraps.length === attempt) {
        await h.clock.tickAsync(10);
        waited += 10;
      }
      delays.push(waited);
    }
    assert.deepEqual(delays, [100, 200, 250, 250]);
    h.ingest.stop();
  });
});

describe('EventIngest bootstrap time', () => {
  const LISTED: NodeSnapshot = {
    channels: [{ pubkey: PEER, channelPoint: CHAN }],
    onlinePeers: new Set([PEER]),
  };

  it('applies the listing at the time of the first held event when that is earlier than the reply', async () => {
    // A JetStream backlog: events of the last two hours, delivered now.
    const h = harness({ autoBootstrap: false });
    h.clock.set(TEST_NOW + 3 * HOUR);
    const backlogStart = TEST_NOW;
    h.send('peer_events', peerEventJson(PEER, false, backlogStart), { streamTime: backlogStart });
    h.send('peer_events', {}, { streamTime: backlogStart }); // not a peer event: rejected
    h.send('channel_events', openChannelJson(pubkey(2), channelPoint(2)), {
      streamTime: backlogStart + HOUR,
    });
    h.send('peer_events', peerEventJson(PEER, true), { streamTime: backlogStart + 2 * HOUR });
    h.clock.advance(SECOND);
    h.answer(NODE, LISTED);
    await settle(h);

    // The listed channel was added where the input resumes, the backlog applied at its own times.
    assert.equal(h.store().channel(CHAN)?.openedAt, backlogStart);
    assert.equal(h.store().channel(channelPoint(2))?.openedAt, backlogStart + HOUR);
    assert.equal(h.store().reorderedTotal, 0);
    // Listed online at the resume point, offline at once, online again two hours later.
    const info = h.store().getChanInfo(CHAN, PEER);
    assert.equal(info.lifetime, 3 * HOUR + SECOND);
    assert.equal(info.uptime, HOUR + SECOND);
  });

  it('applies the listing at the reply time when nothing is held', async () => {
    const h = harness({ autoBootstrap: false });
    h.ingest.ensureNode(NODE);
    h.clock.advance(2 * SECOND);
    h.answer(NODE, LISTED);
    await settle(h);
    assert.equal(h.store().channel(CHAN)?.openedAt, TEST_NOW + 2 * SECOND);
  });

  it('applies the listing at the reply time when the first held event is later than it', async () => {
    const h = harness({ autoBootstrap: false });
    h.send('peer_events', peerEventJson(pubkey(3), true, TEST_NOW + MINUTE));
    h.clock.advance(SECOND);
    h.answer(NODE, LISTED);
    await settle(h);
    assert.equal(h.store().channel(CHAN)?.openedAt, TEST_NOW + SECOND);
  });

  it('keeps the time of the first held event when the hold overflowed before the reply', async () => {
    const h = harness({ autoBootstrap: false, maxHeldEvents: 1 });
    h.clock.set(TEST_NOW + HOUR);
    h.send('peer_events', peerEventJson(pubkey(3), true, TEST_NOW));
    h.send('peer_events', peerEventJson(pubkey(3), false, TEST_NOW + MINUTE));
    assert.equal(h.ingest.bootstrapping, 0);
    h.answer(NODE, LISTED);
    await settle(h);
    assert.equal(h.store().channel(CHAN)?.openedAt, TEST_NOW);
    assert.equal(h.store().reorderedTotal, 0);
  });
});
