/**
 * Observed time (SPEC 4.4) through the real NATS core subscriptions: the
 * bridge's `<prefix>.<node>.status` and the node's events are published on the
 * shared NATS server, decoded and applied by the ingest in delivery order, to
 * stores whose clock the test sets. Every message carries its payload time, so
 * event time is the test's; the clock only drives what the exporter's timer
 * does (ingest.observe(now)) and the receipt time of the 5-minute future check.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { EventIngest, type EventSubject } from '../../src/ingest/event-ingest.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import type { RejectReason } from '../../src/lnd/reject-reason.js';
import { bootstrapRequests } from '../../src/nats/bootstrap-requests.js';
import { ConnectionState } from '../../src/nats/connection-state.js';
import { subscribeEvents } from '../../src/nats/event-subscription.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { eventually } from '../support/eventually.js';
import { captureLogger } from '../support/log-capture.js';
import {
  bytes,
  listChannelsJson,
  listPeersJson,
  openChannelJson,
  peerEventJson,
  statusJson,
} from '../support/lnd-json.js';
import { channelPoint, pubkey, RecordReader } from '../support/store-fixture.js';
import { HOUR, MINUTE, SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';

const SHARED_NATS = 'nats://127.0.0.1:4222';
const T0 = TEST_NOW;
/** The defaults: --observer.timeout=1m, --observer.settle=2m. */
const TIMEOUT = MINUTE;
const SETTLE = 2 * MINUTE;

/**
 * The exporter's pipeline on core NATS (subscriptions, ingest, per-node
 * stores) with a TestClock, a bridge answering the bootstrap requests with
 * empty listings, and a publisher. Counts what it publishes, so that the test
 * can wait until every message is applied or rejected.
 */
class Pipeline {
  readonly clock = new TestClock(T0);
  readonly stats = new IngestStats();
  readonly stores: NodeStores;
  readonly gate: RecordGate;
  readonly ingest: EventIngest;
  readonly log = captureLogger();
  private published = 0;
  private subscriptions: Subscription[] = [];

  private constructor(
    readonly nc: NatsConnection,
    readonly publisher: NatsConnection,
    readonly bridge: NatsConnection,
    readonly prefix: string,
  ) {
    const reader = new RecordReader();
    const bootstrapPeers = new BootstrapPeers();
    this.stores = new NodeStores(
      (node) =>
        new ChannelEventStore({
          node,
          clock: this.clock,
          bootstrapConnectivity: (pk) => bootstrapPeers.connectivity(node, pk),
        }),
    );
    this.gate = new RecordGate({ read: reader.readOf });
    this.ingest = new EventIngest({
      stores: this.stores,
      gate: this.gate,
      bootstrapPeers,
      clock: this.clock,
      stats: this.stats,
      logger: this.log.logger,
      bootstrap: bootstrapRequests(nc, {
        prefix,
        timeoutMs: 1_000,
        logger: this.log.logger,
        state: new ConnectionState(),
      }),
    });
  }

  static async start(): Promise<Pipeline> {
    const prefix = `test${randomBytes(4).toString('hex')}.lnd`;
    const nc = await connect({ servers: SHARED_NATS });
    const publisher = await connect({ servers: SHARED_NATS });
    const bridge = await connect({ servers: SHARED_NATS });
    // The node's bridge: lnd has no channel and no peer (the test's events add them).
    bridge.subscribe(`${prefix}.*.rpc.list_channels`, {
      callback: (_e, m) => m.respond(bytes(listChannelsJson([]))),
    });
    bridge.subscribe(`${prefix}.*.rpc.list_peers`, {
      callback: (_e, m) => m.respond(bytes(listPeersJson([]))),
    });
    await bridge.flush();
    const p = new Pipeline(nc, publisher, bridge, prefix);
    p.subscriptions = subscribeEvents(nc, prefix, p.ingest, p.log.logger);
    await nc.flush();
    return p;
  }

  /** Starts tracking a node (its bootstrap answered) with the clock at T0. */
  async node(node: string): Promise<ChannelEventStore> {
    this.ingest.ensureNode(node);
    await eventually(() => this.ingest.bootstrapping === 0, `the bootstrap of ${node}`);
    const store = this.stores.get(node);
    assert.ok(store);
    return store;
  }

  /** Publishes a payload (JSON, or raw text) on one of the node's subjects. */
  publish(node: string, subject: EventSubject, payload: unknown): void {
    this.published += 1;
    this.publisher.publish(`${this.prefix}.${node}.${subject}`, bytes(payload));
  }

  status(node: string, up: boolean, time: number): void {
    this.publish(node, 'status', statusJson(up, time));
  }

  peer(node: string, pk: string, online: boolean, time: number): void {
    this.publish(node, 'peer_events', peerEventJson(pk, online, time));
  }

  open(node: string, pk: string, cp: string, time: number): void {
    this.publish(node, 'channel_events', openChannelJson(pk, cp, time));
  }

  /** Messages applied (every node, kind and type) plus messages rejected. */
  settled(): number {
    let n = 0;
    for (const kinds of this.stats.applied.values()) {
      for (const types of kinds.values()) for (const count of types.values()) n += count;
    }
    for (const count of this.stats.rejected.values()) n += count;
    return n;
  }

  /** Waits until every message published so far is applied or rejected. */
  async caughtUp(): Promise<void> {
    await this.publisher.flush();
    await eventually(
      () => this.settled() === this.published,
      () => `${this.published} messages settled (${this.settled()} so far)`,
    );
    await this.gate.idle();
  }

  /** Sets the clock (never backwards) and does what the exporter's timer does then. */
  async observeAt(time: number): Promise<void> {
    await this.caughtUp();
    assert.ok(time >= this.clock.now(), 'the clock never runs backwards');
    this.clock.set(time);
    this.ingest.observe(time);
  }

  rejected(reason: RejectReason): number {
    return this.stats.rejected.get(reason) ?? 0;
  }

  async close(): Promise<void> {
    this.ingest.stop();
    for (const s of this.subscriptions) s.unsubscribe();
    await this.publisher.drain();
    await this.bridge.drain();
    await this.nc.drain();
  }
}

/**
 * Heartbeats every 15 s in (from, to], the clock following each one, as a
 * bridge sends them while lnd is up.
 */
function heartbeats(p: Pipeline, node: string, from: number, to: number): void {
  for (let t = from + 15 * SECOND; t <= to; t += 15 * SECOND) {
    if (t > p.clock.now()) p.clock.set(t);
    p.status(node, true, t);
  }
}

function channelOf(store: ChannelEventStore, cp: string) {
  const channel = store.channel(cp);
  assert.ok(channel, `channel ${cp}`);
  return channel;
}

describe('observed time through NATS core subscriptions (real NATS)', function () {
  this.timeout(30_000);
  let p: Pipeline;

  beforeEach(async () => {
    p = await Pipeline.start();
  });
  afterEach(async () => {
    await p.close();
  });

  it('lnd down for an hour and back: one LND_DOWN gap to the settle end, no flap, lifetime and uptime without it', async () => {
    const node = 'alice';
    const store = await p.node(node);
    const pk = pubkey(1);
    const cp = channelPoint(1);
    const openedAt = T0 + SECOND;

    // Observed, lnd up: the peer connects, the channel opens, heartbeats flow.
    p.status(node, true, T0);
    p.peer(node, pk, true, T0);
    p.clock.set(openedAt);
    p.open(node, pk, cp, openedAt);
    heartbeats(p, node, T0, T0 + 5 * MINUTE);
    p.peer(node, pk, false, T0 + 5 * MINUTE); // two flaps while observed
    heartbeats(p, node, T0 + 5 * MINUTE, T0 + 6 * MINUTE);
    p.peer(node, pk, true, T0 + 6 * MINUTE);
    heartbeats(p, node, T0 + 6 * MINUTE, T0 + 10 * MINUTE - SECOND);
    await p.observeAt(T0 + 10 * MINUTE - SECOND);
    assert.equal(store.observed, true, 'heartbeats every 15 s: no silence');
    assert.deepEqual(store.gaps(T0, T0 + 10 * MINUTE), []);
    const flapsBefore = store.peer(pk)?.flapCount;
    assert.equal(flapsBefore, 3, 'creation, offline, online');

    // lnd stops.
    const t1 = T0 + 10 * MINUTE;
    p.clock.set(t1);
    p.status(node, false, t1);
    await p.observeAt(t1);
    assert.equal(store.observed, false);
    assert.deepEqual(store.gaps(T0, t1 + HOUR), [
      { start: t1, end: undefined, reason: 'LND_DOWN' },
    ]);

    // Its peer goes away and comes back meanwhile: connectivity follows, no flap.
    p.clock.set(t1 + 10 * MINUTE);
    p.peer(node, pk, false, t1 + 10 * MINUTE);
    await p.observeAt(t1 + 10 * MINUTE);
    assert.equal(store.connectivity(pk), false);
    assert.equal(store.peer(pk)?.online, false);
    assert.equal(store.peer(pk)?.flapCount, flapsBefore);
    // No status for half an hour: a node whose lnd is down is not silent on top.
    await p.observeAt(t1 + 40 * MINUTE - SECOND);
    p.clock.set(t1 + 40 * MINUTE);
    p.peer(node, pk, true, t1 + 40 * MINUTE);
    await p.observeAt(t1 + 40 * MINUTE);
    assert.equal(store.connectivity(pk), true);
    assert.equal(store.peer(pk)?.flapCount, flapsBefore);
    assert.equal(store.gaps(T0, t1 + HOUR).length, 1);

    // lnd is back: the gap ends the settle time later.
    const up = t1 + HOUR;
    p.clock.set(up);
    p.status(node, true, up);
    await p.observeAt(up);
    assert.equal(store.observed, false, 'settling');
    assert.deepEqual(store.gaps(T0, up), [{ start: t1, end: up + SETTLE, reason: 'LND_DOWN' }]);
    // The peer reconnects after our lnd's restart, inside the settle time: no flap.
    heartbeats(p, node, up, up + 30 * SECOND);
    p.peer(node, pk, false, up + 30 * SECOND);
    p.clock.set(up + 31 * SECOND);
    p.peer(node, pk, true, up + 31 * SECOND);
    heartbeats(p, node, up + 30 * SECOND, up + SETTLE - 15 * SECOND);
    await p.observeAt(up + SETTLE - 1);
    assert.equal(store.observed, false, 'still settling a millisecond before its end');
    assert.equal(store.peer(pk)?.flapCount, flapsBefore);

    // After the settle time: the gap is closed.
    heartbeats(p, node, up + SETTLE - 15 * SECOND, up + 3 * MINUTE);
    const now = up + 3 * MINUTE;
    await p.observeAt(now);
    assert.equal(store.observed, true);
    assert.deepEqual(store.gaps(T0, now), [{ start: t1, end: up + SETTLE, reason: 'LND_DOWN' }]);
    assert.equal(store.unobservedTotal(now), HOUR + SETTLE);
    const peer = store.peer(pk);
    assert.ok(peer);
    assert.equal(peer.flapCount, flapsBefore, 'no flap inside the gap or its settle time');
    assert.equal(peer.online, true);

    const channel = channelOf(store, cp);
    const info = store.channelInfo(channel, now);
    const elapsed = now - openedAt;
    assert.equal(store.channelUnobserved(channel, now), HOUR + SETTLE);
    assert.equal(info.lifetime, elapsed - (HOUR + SETTLE));
    assert.equal(info.lifetime, 11 * MINUTE - SECOND);
    // Online but for the minute it was offline before lnd stopped; nothing in the gap.
    assert.equal(info.uptime, info.lifetime - MINUTE);
    assert.deepEqual(
      p.log.lines().filter((l) => Number(l.level) >= 40),
      [],
      'no warning',
    );
  });

  it('a silent bridge: BRIDGE_SILENT from the last status once none came for the timeout; an up starts the settle', async () => {
    const node = 'bob';
    const store = await p.node(node);
    const pk = pubkey(2);
    const cp = channelPoint(2);
    p.peer(node, pk, true, T0);
    p.open(node, pk, cp, T0);
    p.status(node, true, T0);
    heartbeats(p, node, T0, T0 + 30 * SECOND);
    const last = T0 + 30 * SECOND;

    // Then nothing: observed until the timeout has passed since the last status.
    await p.observeAt(last + TIMEOUT - 1);
    assert.equal(store.observed, true);
    assert.deepEqual(store.gaps(T0, last + TIMEOUT), []);
    await p.observeAt(last + TIMEOUT);
    assert.equal(store.observed, false);
    assert.deepEqual(store.gaps(T0, last + TIMEOUT), [
      { start: last, end: undefined, reason: 'BRIDGE_SILENT' },
    ]);
    // Still silent: the same gap, left open.
    await p.observeAt(last + 30 * MINUTE);
    assert.equal(store.gaps(T0, last + 30 * MINUTE).length, 1);
    assert.equal(store.unobservedTotal(last + 30 * MINUTE), 30 * MINUTE);

    // The bridge is back: an up starts the settle time.
    const up = T0 + HOUR;
    p.clock.set(up);
    p.status(node, true, up);
    await p.observeAt(up);
    assert.equal(store.observed, false, 'settling');
    assert.deepEqual(store.gaps(T0, up), [
      { start: last, end: up + SETTLE, reason: 'BRIDGE_SILENT' },
    ]);
    heartbeats(p, node, up, up + SETTLE - 15 * SECOND);
    await p.observeAt(up + SETTLE - 15 * SECOND);
    assert.equal(store.observed, false);

    // A later event (the next heartbeat, at the settle end) closes it, without the timer.
    p.clock.set(up + SETTLE);
    p.status(node, true, up + SETTLE);
    await p.caughtUp();
    assert.equal(store.observed, true);
    const now = up + 5 * MINUTE;
    heartbeats(p, node, up + SETTLE, now);
    await p.observeAt(now);
    assert.equal(store.observed, true);
    assert.deepEqual(store.gaps(T0, now), [
      { start: last, end: up + SETTLE, reason: 'BRIDGE_SILENT' },
    ]);
    const gap = up + SETTLE - last;
    assert.equal(store.unobservedTotal(now), gap);
    const info = store.channelInfo(channelOf(store, cp), now);
    assert.equal(info.lifetime, now - T0 - gap);
    assert.equal(info.uptime, info.lifetime, 'online whenever observed');
    assert.equal(store.peer(pk)?.flapCount, 1, 'its creation only');
  });

  it('a status after a silence no tick saw still finds it: BRIDGE_SILENT from the last status', async () => {
    const node = 'bert';
    const store = await p.node(node);
    p.status(node, true, T0);
    p.status(node, true, T0 + 15 * SECOND);
    // No tick meanwhile (as while a JetStream backlog is replayed): the next status tells.
    const back = T0 + 10 * MINUTE;
    p.clock.set(back);
    p.status(node, true, back);
    await p.caughtUp();
    assert.equal(store.observed, false, 'settling');
    assert.deepEqual(store.gaps(T0, back), [
      { start: T0 + 15 * SECOND, end: back + SETTLE, reason: 'BRIDGE_SILENT' },
    ]);
    heartbeats(p, node, back, back + SETTLE + 15 * SECOND);
    await p.observeAt(back + SETTLE + 15 * SECOND);
    assert.equal(store.observed, true);
    assert.equal(
      store.unobservedTotal(back + SETTLE + 15 * SECOND),
      back + SETTLE - T0 - 15 * SECOND,
    );
  });

  it('a node that never sends a status is observed whatever the clock does (lnd)', async () => {
    const node = 'carol';
    const store = await p.node(node);
    const pk = pubkey(3);
    const cp = channelPoint(3);
    p.peer(node, pk, true, T0);
    p.open(node, pk, cp, T0 + SECOND);
    p.clock.set(T0 + 10 * MINUTE);
    p.peer(node, pk, false, T0 + 10 * MINUTE);
    await p.observeAt(T0 + 10 * MINUTE);

    for (const now of [T0 + 11 * MINUTE, T0 + HOUR, T0 + 24 * HOUR, T0 + 30 * 24 * HOUR]) {
      await p.observeAt(now);
      assert.equal(store.observed, true, `observed at +${(now - T0) / MINUTE} min`);
      assert.deepEqual(store.gaps(T0, now), []);
      assert.equal(store.unobservedTotal(now), 0);
      const channel = channelOf(store, cp);
      const info = store.channelInfo(channel, now);
      assert.equal(info.lifetime, now - (T0 + SECOND), "lnd's now - openedAt exactly");
      assert.equal(info.uptime, 10 * MINUTE - SECOND);
      assert.equal(store.channelUnobserved(channel, now), 0);
    }
    assert.equal(store.peer(pk)?.flapCount, 2);
  });

  it('rejects and counts malformed statuses without holding up the messages after them', async () => {
    const node = 'dave';
    const store = await p.node(node);
    const pk = pubkey(4);
    const cp = channelPoint(4);
    const ts = new Date(T0).toISOString();
    p.status(node, true, T0);
    const malformed: [string | Record<string, unknown>, RejectReason][] = [
      ['lnd is up', 'invalid_json'],
      ['{"lnd":"up",', 'invalid_json'],
      [{ lnd: 'sideways', timestamp: ts }, 'unknown_type'],
      [{ lnd: 'UP', timestamp: ts }, 'unknown_type'],
      [{ lnd: true, timestamp: ts }, 'invalid_shape'],
      [{ lnd: ['up'], timestamp: ts }, 'invalid_shape'],
      [{ timestamp: ts }, 'invalid_shape'],
      ['["up"]', 'invalid_shape'],
      [{ lnd: 'down', timestamp: 'yesterday' }, 'invalid_timestamp'],
      [{ lnd: 'down', timestamp: T0 }, 'invalid_timestamp'],
      [{ lnd: 'down', timestamp: '2020-06-18 07:25:34' }, 'invalid_timestamp'],
      [{ lnd: 'down', timestamp: '2001-01-01T00:00:00Z' }, 'invalid_timestamp'],
      [{ lnd: 'down', timestamp: new Date(T0 + HOUR).toISOString() }, 'future_timestamp'],
    ];
    const expected = new Map<RejectReason, number>();
    for (const [payload, reason] of malformed) {
      p.publish(node, 'status', payload);
      expected.set(reason, (expected.get(reason) ?? 0) + 1);
    }
    // What follows them is applied, in order.
    p.peer(node, pk, true, T0);
    p.open(node, pk, cp, T0 + SECOND);
    p.clock.set(T0 + 30 * SECOND);
    p.status(node, false, T0 + 30 * SECOND);
    await p.caughtUp();

    for (const [reason, count] of expected) assert.equal(p.rejected(reason), count, reason);
    assert.equal(
      [...p.stats.rejected.values()].reduce((a, b) => a + b, 0),
      malformed.length,
      'nothing else rejected',
    );
    const applied = p.stats.applied.get(node);
    assert.ok(applied);
    assert.deepEqual(
      applied.get('status'),
      new Map([
        ['LND_UP', 1],
        ['LND_DOWN', 1],
      ]),
    );
    assert.equal(applied.get('peer')?.get('PEER_ONLINE'), 1);
    assert.equal(applied.get('channel')?.get('OPEN_CHANNEL'), 1);
    assert.ok(store.channel(cp));
    // None of the rejected downs opened a gap; the valid one did.
    assert.equal(store.observed, false);
    assert.deepEqual(store.gaps(T0, T0 + HOUR), [
      { start: T0 + 30 * SECOND, end: undefined, reason: 'LND_DOWN' },
    ]);
    assert.equal(store.observation.lastStatus, T0 + 30 * SECOND);
    const warnings = p.log.lines().filter((l) => l.msg === 'rejected message');
    assert.ok(warnings.length > 0 && warnings.every((l) => l.subject === 'status'));
  });
});
