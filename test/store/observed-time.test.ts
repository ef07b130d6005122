/**
 * Observed time at the store's level (SPEC 4.4), with figures computed by hand.
 * Times are minutes after T0; the observation settings are the defaults
 * (timeout 1 min, settle 2 min); flap counts stay under 200, so the rate
 * limit is 1 s and events further apart than that are all committed.
 */
import assert from 'node:assert/strict';
import { RecordGate } from '../../src/ingest/record-gate.js';
import {
  ChannelEventStore,
  type RestoredPeer,
  type StoreObserver,
} from '../../src/store/channel-event-store.js';
import type { ChannelView } from '../../src/store/peer-monitor.js';
import { channelPoint, pubkey, storeFixture, type Fixture } from '../support/store-fixture.js';
import { HOUR, MINUTE, TEST_NOW, TestClock } from '../support/test-clock.js';

const T0 = TEST_NOW;
const DAY = 24 * HOUR;
/** The instant `minutes` after T0. */
const at = (minutes: number): number => T0 + minutes * MINUTE;
const min = (minutes: number): number => minutes * MINUTE;

const P = pubkey(1);
const Q = pubkey(2);
const R = pubkey(3);
const S = pubkey(4);
const U = pubkey(5);
const CP = channelPoint(1, 1);
const CQ = channelPoint(2, 1);
const CR = channelPoint(3, 1);
const CS = channelPoint(4, 1);

function chan(store: ChannelEventStore, cp: string): ChannelView {
  const channel = store.channel(cp);
  assert.ok(channel, `channel ${cp}`);
  return channel;
}

/** channelInfo, the unobserved time, and what channelUptimes says of the same channel. */
function figures(store: ChannelEventStore, cp: string, now: number) {
  const channel = chan(store, cp);
  const info = store.channelInfo(channel, now);
  const all = store.channelUptimes(now);
  const i = all.channels.indexOf(channel);
  assert.notEqual(i, -1, 'the channel is in channelUptimes');
  assert.equal(all.lifetime[i], info.lifetime, 'channelUptimes lifetime');
  assert.equal(all.uptime[i], info.uptime, 'channelUptimes uptime');
  return {
    lifetime: info.lifetime,
    uptime: info.uptime,
    unobserved: store.channelUnobserved(channel, now),
  };
}

/** The state of a store as persistence would restore it (events copied out of the views). */
function snapshot(store: ChannelEventStore): RestoredPeer[] {
  return [...store.knownPeers()].map((pk) => {
    const image = store.peerImage(pk);
    assert.ok(image);
    const header = image.monitor?.log;
    if (header === undefined) return { image, events: undefined };
    const view = store.logEvents(pk, header.offset, header.end);
    return {
      image,
      events: { times: Float64Array.from(view.times), kinds: Uint8Array.from(view.kinds) },
    };
  });
}

/** The bridge's heartbeat period while lnd is up (SPEC 4.4). */
const BEAT = 15_000;

/**
 * Feeds a store in event-time order as a node's bridge would: a status at
 * every change, and a heartbeat every 15 s while lnd is up and the bridge
 * talks (quiet() stops them: the bridge is silent).
 */
class Driver {
  private nextBeat: number | undefined;
  /** Opens go through a gate, as the ingest submits them (no record is persisted here). */
  private readonly gates = new RecordGate({ read: () => Promise.resolve(undefined) });
  constructor(readonly store: ChannelEventStore) {}

  /** The heartbeats due up to t. */
  private until(t: number): void {
    while (this.nextBeat !== undefined && this.nextBeat <= t) {
      this.store.status(true, this.nextBeat);
      this.nextBeat += BEAT;
    }
  }

  up(t: number): void {
    this.until(t);
    this.store.status(true, t);
    this.nextBeat = t + BEAT;
  }

  down(t: number): void {
    this.until(t);
    this.store.status(false, t);
    this.nextBeat = undefined;
  }

  /** The bridge stops talking after its heartbeats up to t. */
  quiet(t: number): void {
    this.until(t);
    this.nextBeat = undefined;
  }

  peer(pk: string, online: boolean, t: number): void {
    this.until(t);
    this.store.peerEvent(pk, online, t);
  }

  async open(pk: string, cp: string, t: number): Promise<void> {
    this.until(t);
    this.gates.of(this.store).openChannel(pk, cp, t);
    await this.gates.idle();
  }

  close(pk: string, cp: string, t: number): void {
    this.until(t);
    this.store.closeChannel(pk, cp, t);
  }

  bootstrapped(answered: boolean, t: number): void {
    this.until(t);
    this.store.bootstrapped(answered, t);
  }

  tick(t: number): void {
    this.until(t);
    this.store.tick(t);
  }
}

describe('observed time: lnd down and back', () => {
  let f: Fixture;
  let d: Driver;
  beforeEach(() => {
    f = storeFixture();
    d = new Driver(f.store);
  });

  it('an hour down: no flap inside the gap or its settle time; lifetime and uptime exclude it', async () => {
    d.up(at(0));
    d.peer(P, true, at(0));
    d.peer(Q, true, at(0));
    await d.open(P, CP, at(0));
    await d.open(Q, CQ, at(0));
    d.tick(at(60));
    assert.equal(f.store.observed, true);

    d.down(at(60)); // lnd stops
    assert.equal(f.store.observed, false);
    d.peer(P, false, at(60)); // its peers drop with it: no flap
    d.peer(Q, false, at(60));
    d.tick(at(90)); // no status while lnd is down: no silence on top
    d.up(at(120)); // back: the gap ends at 122
    assert.equal(f.store.observed, false, 'settling');
    d.peer(P, true, at(121)); // P reconnects inside the settle time: no flap
    d.tick(at(122));
    assert.equal(f.store.observed, true);

    assert.deepEqual(f.store.gaps(at(0), at(180)), [
      { start: at(60), end: at(122), reason: 'LND_DOWN' },
    ]);
    assert.equal(f.store.unobservedTotal(at(180)), min(62));
    const p = f.store.peer(P);
    const q = f.store.peer(Q);
    assert.equal(p?.flapCount, 1, 'P: its creation only');
    assert.equal(q?.flapCount, 1, 'Q: its creation only');
    // P is back online by the gap's end, as its log says: nothing logged.
    assert.deepEqual(p.log.committed(), []);
    assert.deepEqual(p.log.staged, { time: at(0), online: true });
    // Q stayed offline: its log takes that at the gap's end.
    assert.deepEqual(q.log.committed(), [{ time: at(0), online: true }]);
    assert.deepEqual(q.log.staged, { time: at(122), online: false });

    // Lifetime 180 - 62 = 118 min; P online all of it, Q only 0..60.
    assert.deepEqual(figures(f.store, CP, at(180)), {
      lifetime: min(118),
      uptime: min(118),
      unobserved: min(62),
    });
    assert.deepEqual(figures(f.store, CQ, at(180)), {
      lifetime: min(118),
      uptime: min(60),
      unobserved: min(62),
    });
    f.clock.set(at(180));
    assert.equal(f.store.channelUnobserved(chan(f.store, CP)), min(62));
    assert.deepEqual(f.store.channelUptime(chan(f.store, CP), at(0)), {
      from: at(0),
      to: at(180),
      uptime: min(118),
      observed: min(118),
    });
    assert.deepEqual(f.store.channelUptime(chan(f.store, CQ), at(90)), {
      from: at(90),
      to: at(180),
      uptime: 0,
      observed: min(58),
    });
    assert.deepEqual(f.store.channelUptime(chan(f.store, CP), at(70), at(100)), {
      from: at(70),
      to: at(100),
      uptime: 0,
      observed: 0,
    });
    // Periods are split by the gap.
    assert.deepEqual(f.store.onlinePeriods(chan(f.store, CP)), [
      { start: at(0), end: at(60), ongoing: false },
      { start: at(122), end: at(180), ongoing: true },
    ]);
    assert.deepEqual(f.store.peerUptime(p), { monitored: min(118), uptime: min(118) });

    // Inside the gap, lifetimes stand still.
    assert.deepEqual(figures(f.store, CP, at(100)), {
      lifetime: min(60),
      uptime: min(60),
      unobserved: min(40),
    });
  });

  it('at the gap end, only peers whose connectivity differs from their log get an event, with no flap', async () => {
    const applied: [string, boolean, number, number, number | undefined][] = [];
    const observer: StoreObserver = {
      peerEventApplied: (pk, online, eventTime, appliedTime, flaps) =>
        applied.push([pk, online, eventTime, appliedTime, flaps]),
    };
    const store = new ChannelEventStore({
      node: 'alice',
      clock: new TestClock(at(0)),
      observer,
    });
    const g = new Driver(store);
    g.up(at(0));
    g.peer(P, true, at(0)); // online, stays online
    g.peer(Q, true, at(0)); // online, goes offline in the gap
    g.peer(S, true, at(0)); // online, offline and back in the gap
    await g.open(P, CP, at(0));
    await g.open(Q, CQ, at(0));
    await g.open(R, CR, at(0)); // offline (never seen), comes online in the gap
    await g.open(S, CS, at(0));
    const lonely = channelPoint(5, 1);
    await g.open(U, lonely, at(0)); // monitored, but its channel closes before the gap
    g.close(U, lonely, at(1));
    g.down(at(10));
    g.peer(Q, false, at(11));
    g.peer(R, true, at(12));
    g.peer(S, false, at(13));
    g.peer(S, true, at(14));
    g.peer(U, true, at(15));
    g.up(at(20)); // the gap ends at 22
    applied.length = 0;
    // The first event at or after the end (the heartbeat at 22) ends it.
    g.peer(P, true, at(25));

    assert.deepEqual(applied, [
      [Q, false, at(22), at(22), 1],
      [R, true, at(22), at(22), 1],
      [P, true, at(25), at(25), 2],
    ]);
    for (const [pk, flaps] of [
      [P, 2],
      [Q, 1],
      [R, 1],
      [S, 1],
      [U, 1],
    ] as const) {
      assert.equal(store.peer(pk)?.flapCount, flaps, `flaps of ${pk}`);
    }
    assert.deepEqual(store.peer(Q)?.log.staged, { time: at(22), online: false });
    assert.deepEqual(store.peer(R)?.log.staged, { time: at(22), online: true });
    assert.deepEqual(store.peer(S)?.log.staged, { time: at(0), online: true });
    assert.equal(store.peer(U)?.log.lastState, undefined, 'no channel, no log');
    assert.equal(store.peer(U)?.online, true);
    // Figures at 40: lifetime 40 - 12 = 28.
    assert.deepEqual(figures(store, CQ, at(40)), {
      lifetime: min(28),
      uptime: min(10),
      unobserved: min(12),
    });
    assert.deepEqual(figures(store, CR, at(40)), {
      lifetime: min(28),
      uptime: min(18),
      unobserved: min(12),
    });
    assert.deepEqual(figures(store, CS, at(40)), {
      lifetime: min(28),
      uptime: min(28),
      unobserved: min(12),
    });
  });

  it('a late event whose time is before a gap is applied as usual', async () => {
    d.up(at(0));
    d.peer(P, true, at(0));
    await d.open(P, CP, at(0));
    d.down(at(60));
    // Delivered after the down, but it happened before it: a flap, logged.
    d.peer(P, false, at(50));
    assert.deepEqual(f.reordered, []);
    assert.equal(f.store.peer(P)?.flapCount, 2);
    d.peer(P, true, at(65)); // in the gap: no flap
    assert.equal(f.store.peer(P)?.flapCount, 2);
    d.up(at(90)); // ends at 92
    d.tick(at(92));
    const p = f.store.peer(P);
    assert.deepEqual(p?.log.committed(), [
      { time: at(0), online: true },
      { time: at(50), online: false },
    ]);
    assert.deepEqual(p.log.staged, { time: at(92), online: true });
    // Lifetime 100 - 32 = 68; uptime 0..50 and 92..100.
    assert.deepEqual(figures(f.store, CP, at(100)), {
      lifetime: min(68),
      uptime: min(58),
      unobserved: min(32),
    });
  });

  it('a channel opened inside a gap: lifetime from the gap end, uptime from the connectivity then', async () => {
    d.up(at(0));
    d.peer(P, true, at(0));
    d.down(at(10));
    await d.open(P, CP, at(20));
    // The monitor's creation counts its flap (a channel open applies as usual).
    assert.equal(f.store.peer(P)?.flapCount, 1);
    assert.deepEqual(figures(f.store, CP, at(25)), { lifetime: 0, uptime: 0, unobserved: min(5) });
    d.peer(P, false, at(25)); // in the gap
    d.up(at(30)); // ends at 32
    d.tick(at(32));
    assert.deepEqual(f.store.peer(P)?.log.staged, { time: at(32), online: false });
    d.peer(P, true, at(40));
    assert.equal(f.store.peer(P)?.flapCount, 2);
    assert.deepEqual(figures(f.store, CP, at(50)), {
      lifetime: min(18),
      uptime: min(10),
      unobserved: min(12),
    });
    f.clock.set(at(50));
    assert.deepEqual(f.store.onlinePeriods(chan(f.store, CP)), [
      { start: at(40), end: at(50), ongoing: true },
    ]);
  });
});

describe('observed time: a silent bridge', () => {
  let f: Fixture;
  let d: Driver;
  beforeEach(() => {
    f = storeFixture();
    d = new Driver(f.store);
  });

  it('is unobserved from its last status once tick finds none for the timeout', async () => {
    d.up(at(0));
    d.peer(P, true, at(0));
    await d.open(P, CP, at(0));
    d.quiet(at(10)); // the last heartbeat at 10
    d.tick(at(10.5));
    assert.equal(f.store.observed, true, '30 s without a status');
    d.tick(at(11));
    assert.equal(f.store.observed, false);
    assert.deepEqual(f.store.gaps(at(0), at(11)), [
      { start: at(10), end: undefined, reason: 'BRIDGE_SILENT' },
    ]);
    d.peer(P, false, at(20)); // in the gap: no flap
    d.up(at(30)); // back: ends at 32
    d.tick(at(32));
    assert.equal(f.store.observed, true);
    assert.deepEqual(f.store.gaps(at(0), at(40)), [
      { start: at(10), end: at(32), reason: 'BRIDGE_SILENT' },
    ]);
    assert.equal(f.store.peer(P)?.flapCount, 1);
    assert.deepEqual(f.store.peer(P)?.log.staged, { time: at(32), online: false });
    assert.deepEqual(figures(f.store, CP, at(40)), {
      lifetime: min(18),
      uptime: min(10),
      unobserved: min(22),
    });
  });

  it('a node that never sent a status is never silent', async () => {
    d.peer(P, true, at(0));
    await d.open(P, CP, at(0));
    d.tick(at(600));
    d.bootstrapped(false, at(601));
    d.bootstrapped(true, at(602));
    assert.equal(f.store.observed, true);
    assert.deepEqual(f.store.gaps(-Infinity, Infinity), []);
    assert.deepEqual(figures(f.store, CP, at(700)), {
      lifetime: min(700),
      uptime: min(700),
      unobserved: 0,
    });
  });

  it('a silence found after events were counted counts them again', async () => {
    d.up(at(0));
    d.peer(P, true, at(0));
    d.peer(Q, true, at(0));
    await d.open(P, CP, at(0));
    d.quiet(at(10)); // the last status
    // No tick runs (a blocked loop, a coarse timer): these count as observed.
    d.peer(P, false, at(20));
    d.peer(P, true, at(30));
    await d.open(Q, CQ, at(35));
    d.peer(P, false, at(40));
    // Figures before the silence is known, and the channelUptimes columns built from them.
    assert.deepEqual(figures(f.store, CP, at(45)), {
      lifetime: min(45),
      uptime: min(30),
      unobserved: 0,
    });
    assert.deepEqual(figures(f.store, CQ, at(45)), {
      lifetime: min(10),
      uptime: min(10),
      unobserved: 0,
    });

    d.tick(at(50));
    assert.deepEqual(f.store.gaps(at(0), at(50)), [
      { start: at(10), end: undefined, reason: 'BRIDGE_SILENT' },
    ]);
    assert.deepEqual(figures(f.store, CP, at(45)), {
      lifetime: min(10),
      uptime: min(10),
      unobserved: min(35),
    });
    d.up(at(60)); // ends at 62
    d.tick(at(62));
    // The flaps counted before the silence was known stay.
    assert.equal(f.store.peer(P)?.flapCount, 4);
    assert.equal(f.store.peer(Q)?.flapCount, 1);
    // P: lifetime 70 - 52 = 18, online 0..10 only. Q (opened in the gap): 62..70.
    assert.deepEqual(figures(f.store, CP, at(70)), {
      lifetime: min(18),
      uptime: min(10),
      unobserved: min(52),
    });
    assert.deepEqual(figures(f.store, CQ, at(70)), {
      lifetime: min(8),
      uptime: min(8),
      unobserved: min(27),
    });
    f.clock.set(at(70));
    assert.deepEqual(f.store.onlinePeriods(chan(f.store, CP)), [
      { start: at(0), end: at(10), ongoing: false },
    ]);
    const p = f.store.peer(P);
    assert.ok(p);
    assert.deepEqual(f.store.peerUptime(p), { monitored: min(18), uptime: min(10) });
  });

  // A status that ends a silence of the timeout or more that no tick saw (a
  // JetStream backlog replayed: ticks wait then; a coarse timer) still makes
  // it a gap: the silent time does not count as observed.
  it('a status after a silence no tick saw still makes it a gap', async () => {
    d.up(at(0));
    d.peer(P, true, at(0));
    await d.open(P, CP, at(0));
    d.quiet(at(10));
    d.peer(P, false, at(20));
    // Twenty minutes without a status, no tick: then the bridge is back.
    d.up(at(30));
    assert.deepEqual(f.store.gaps(at(0), at(40)), [
      { start: at(10), end: at(32), reason: 'BRIDGE_SILENT' },
    ]);
    assert.deepEqual(figures(f.store, CP, at(40)), {
      lifetime: min(18),
      uptime: min(10),
      unobserved: min(22),
    });
  });

  // A silence from before a settling gap's planned end, found by a tick after
  // it: the gap never ended, so no end event is logged or announced.
  it('a silence from before the planned end found after it logs no end event', async () => {
    d.up(at(0));
    d.peer(P, true, at(0));
    await d.open(P, CP, at(0));
    d.down(at(10));
    d.peer(P, false, at(11)); // in the gap
    d.up(at(20)); // planned end 22; then the bridge goes quiet
    d.quiet(at(20));
    d.tick(at(23)); // silent since 20 < 22: the gap never ended
    assert.deepEqual(f.store.gaps(at(0), at(30)), [
      { start: at(10), end: undefined, reason: 'LND_DOWN' },
    ]);
    assert.deepEqual(f.store.peer(P)?.log.staged, { time: at(0), online: true });
  });

  it('the figures stay right when a tick ends a gap and reopens it for a silence before its end', async () => {
    d.up(at(0));
    d.peer(P, true, at(0));
    await d.open(P, CP, at(0));
    d.down(at(10));
    d.peer(P, false, at(11));
    d.up(at(20));
    d.quiet(at(20));
    d.tick(at(23));
    assert.equal(f.store.observed, false);
    d.peer(P, true, at(30)); // in the reopened gap
    d.up(at(40)); // ends at 42
    d.tick(at(42));
    assert.deepEqual(f.store.gaps(at(0), at(50)), [
      { start: at(10), end: at(42), reason: 'LND_DOWN' },
    ]);
    assert.equal(f.store.peer(P)?.flapCount, 1);
    assert.deepEqual(figures(f.store, CP, at(50)), {
      lifetime: min(18),
      uptime: min(18),
      unobserved: min(32),
    });
  });
});

describe('observed time: the exporter down (core NATS restore)', () => {
  it('a node with statuses is unobserved from the last write until the settle time after it is back', async () => {
    const a = storeFixture();
    const da = new Driver(a.store);
    da.up(at(0));
    da.peer(P, true, at(0));
    await da.open(P, CP, at(0));
    da.peer(P, false, at(30));
    da.peer(P, true, at(40));
    da.quiet(at(50)); // the state is written after the heartbeat at 50, and the exporter stops
    const peers = snapshot(a.store);
    const image = a.store.observation.image();

    const b = storeFixture();
    b.clock.set(at(70));
    b.store.restore(peers, { image, exporterDownSince: at(50) });
    assert.equal(b.store.observed, false);
    assert.deepEqual(b.store.gaps(at(0), at(70)), [
      { start: at(50), end: undefined, reason: 'EXPORTER_DOWN' },
    ]);
    const db = new Driver(b.store);
    db.bootstrapped(false, at(69)); // a failed bootstrap does not say a status node is back
    db.tick(at(69.5)); // the gap lasts: no silence on top
    assert.equal(b.store.observation.closesAt, Infinity);
    db.bootstrapped(true, at(70)); // ends at 72
    assert.equal(b.store.observation.closesAt, at(72));
    // A tick before the first heartbeat: the bridge is not silent yet (fixed
    // in node-observation.ts: this reopened the gap, its last status being 50).
    db.tick(at(70.1));
    assert.equal(b.store.observation.closesAt, at(72));
    db.up(at(70.25)); // the heartbeats again: the end stays
    db.peer(P, false, at(71)); // in the gap: no flap
    db.tick(at(72));
    assert.equal(b.store.observed, true);
    assert.deepEqual(b.store.gaps(at(0), at(80)), [
      { start: at(50), end: at(72), reason: 'EXPORTER_DOWN' },
    ]);
    assert.equal(b.store.peer(P)?.flapCount, 3);
    assert.deepEqual(b.store.peer(P)?.log.staged, { time: at(72), online: false });
    // Lifetime 80 - 22 = 58; online 0..30 and 40..50.
    assert.deepEqual(figures(b.store, CP, at(80)), {
      lifetime: min(58),
      uptime: min(40),
      unobserved: min(22),
    });
  });

  it('a node that never sent a status is back with any bootstrap, even a failed one', async () => {
    const a = storeFixture();
    a.gate.peerEvent(P, true, at(0));
    a.gate.openChannel(P, CP, at(0));
    await a.idle();
    const peers = snapshot(a.store);
    const b = storeFixture();
    b.store.restore(peers, { image: a.store.observation.image(), exporterDownSince: at(10) });
    b.store.bootstrapped(false, at(20)); // ends at 22
    b.store.peerEvent(P, true, at(23));
    assert.deepEqual(b.store.gaps(at(0), at(30)), [
      { start: at(10), end: at(22), reason: 'EXPORTER_DOWN' },
    ]);
    assert.equal(b.store.peer(P)?.flapCount, 2);
    assert.deepEqual(figures(b.store, CP, at(30)), {
      lifetime: min(18),
      uptime: min(18),
      unobserved: min(12),
    });
  });

  it('restore without exporterDownSince (JetStream) keeps the gaps as they were', async () => {
    const a = storeFixture();
    const da = new Driver(a.store);
    da.up(at(0));
    da.peer(P, true, at(0));
    await da.open(P, CP, at(0));
    da.down(at(10));
    da.up(at(20));
    da.peer(P, true, at(30));
    const b = storeFixture();
    b.store.restore(snapshot(a.store), { image: a.store.observation.image() });
    assert.deepEqual(b.store.gaps(-Infinity, Infinity), a.store.gaps(-Infinity, Infinity));
    assert.deepEqual(figures(b.store, CP, at(40)), figures(a.store, CP, at(40)));
    assert.deepEqual(figures(b.store, CP, at(40)), {
      lifetime: min(28),
      uptime: min(28),
      unobserved: min(12),
    });
  });
});

describe('observed time: an empty gap (settle 0)', () => {
  it('down and up at one instant: a gap of no time, one outage still', async () => {
    const store = new ChannelEventStore({
      node: 'alice',
      clock: new TestClock(at(40)),
      observation: { timeoutMs: MINUTE, settleMs: 0 },
    });
    const d = new Driver(store);
    d.up(at(0));
    d.peer(P, true, at(0));
    await d.open(P, CP, at(0));
    d.peer(P, false, at(10));
    d.down(at(20));
    d.up(at(20)); // ends at once
    d.peer(P, true, at(30));
    assert.deepEqual(store.gaps(at(0), at(40)), [
      { start: at(20), end: at(20), reason: 'LND_DOWN' },
    ]);
    assert.equal(store.peer(P)?.flapCount, 3);
    const peer = store.peer(P);
    assert.ok(peer);
    // Fixed in node-observation.ts (observedParts): this was [10, 20] and [20, 30].
    assert.deepEqual(store.peerOutages(peer)?.periods, [
      { start: at(10), end: at(30), ongoing: false },
    ]);
    assert.deepEqual(figures(store, CP, at(40)), {
      lifetime: min(40),
      uptime: min(20),
      unobserved: 0,
    });
  });
});

describe('observed time: compaction', () => {
  it('compact() drops old gaps and keeps every lifetime and uptime exact', async () => {
    const clock = new TestClock(T0);
    const store = new ChannelEventStore({
      node: 'alice',
      clock,
      retentionMs: DAY,
    });
    const g = new Driver(store);
    g.up(T0);
    g.peer(P, true, T0);
    await g.open(P, CP, T0);
    g.down(T0 + HOUR);
    g.up(T0 + 2 * HOUR); // ends at 2 h 2 min
    g.peer(P, false, T0 + 3 * DAY);
    g.peer(P, true, T0 + 3 * DAY + HOUR);
    g.peer(P, false, T0 + 9 * DAY);
    g.peer(P, true, T0 + 9 * DAY + HOUR);
    const now = T0 + 10 * DAY;
    g.tick(now);
    clock.set(now);
    const p = store.peer(P);
    assert.ok(p);

    const expected = {
      lifetime: 10 * DAY - min(62),
      uptime: 10 * DAY - min(62) - 2 * HOUR,
      unobserved: min(62),
    };
    assert.deepEqual(figures(store, CP, now), expected);
    const peerBefore = store.peerUptime(p, now);

    assert.equal(store.compact(now), 3, 'the log events before the horizon');
    // The gap goes once no log starts before it (the next round).
    assert.equal(store.observation.gapCount, 1);
    assert.equal(store.compact(now), 0);
    assert.equal(store.observation.gapCount, 0);
    assert.deepEqual(store.gaps(-Infinity, Infinity), []);
    assert.equal(store.unobservedTotal(now), min(62));
    assert.deepEqual(figures(store, CP, now), expected);
    assert.deepEqual(store.peerUptime(p, now), peerBefore);
    assert.deepEqual(peerBefore, { monitored: expected.lifetime, uptime: expected.uptime });
    // A window reaching before the horizon is clamped to it.
    assert.deepEqual(store.channelUptime(chan(store, CP), T0), {
      from: T0 + 9 * DAY,
      to: now,
      uptime: DAY - HOUR,
      observed: DAY,
    });
    // Later, with a new gap, everything still adds up.
    g.down(now);
    g.up(now + HOUR); // ends 1 h 2 min later
    const later = now + 2 * HOUR;
    g.tick(later);
    assert.deepEqual(figures(store, CP, later), {
      lifetime: expected.lifetime + 2 * HOUR - min(62),
      uptime: expected.uptime + 2 * HOUR - min(62),
      unobserved: 2 * min(62),
    });

    // The compacted state restores to the same figures.
    const b = storeFixture();
    b.store.restore(snapshot(store), { image: store.observation.image() });
    assert.deepEqual(figures(b.store, CP, later), figures(store, CP, later));
  });
});

describe('observed time: peer windows and outages', () => {
  let f: Fixture;
  let peer: NonNullable<ReturnType<ChannelEventStore['peer']>>;
  beforeEach(async () => {
    f = storeFixture();
    const d = new Driver(f.store);
    d.up(at(0));
    d.peer(P, true, at(0));
    await d.open(P, CP, at(0));
    d.peer(P, false, at(60));
    d.peer(P, true, at(72)); // offline 12 min
    d.peer(P, false, at(110));
    d.down(at(120)); // lnd down, back at 180: the gap is [120, 182)
    d.up(at(180));
    d.peer(P, true, at(210)); // P was still offline when the gap ended
    d.peer(P, false, at(300));
    d.peer(P, true, at(305));
    d.peer(P, false, at(340)); // offline until now
    d.tick(at(360));
    f.clock.set(at(360));
    const p = f.store.peer(P);
    assert.ok(p);
    peer = p;
  });

  it('lists the offline periods split by the gap; their stats come out as computed by hand', () => {
    const outages = f.store.peerOutages(peer);
    assert.ok(outages);
    assert.equal(outages.from, at(0));
    assert.equal(outages.to, at(360));
    assert.deepEqual(outages.periods, [
      { start: at(60), end: at(72), ongoing: false },
      { start: at(110), end: at(120), ongoing: false },
      { start: at(182), end: at(210), ongoing: false },
      { start: at(300), end: at(305), ongoing: false },
      { start: at(340), end: at(360), ongoing: true },
    ]);
    const lengths = outages.periods.map((p) => p.end - p.start);
    const sorted = [...lengths].sort((x, y) => x - y);
    // 12, 10, 28, 5 and 20 min: count 5, total 75, longest 28, median 12.
    assert.equal(lengths.length, 5);
    assert.equal(
      lengths.reduce((sum, x) => sum + x, 0),
      min(75),
    );
    assert.equal(Math.max(...lengths), min(28));
    assert.equal(sorted[2], min(12));
    assert.ok(f.store.peerOutagesBound(peer) >= outages.periods.length);

    // [150, 240] holds the part after the gap only.
    assert.deepEqual(f.store.peerOutages(peer, at(150), at(240)), {
      from: at(150),
      to: at(240),
      periods: [{ start: at(182), end: at(210), ongoing: false }],
    });
    // [100, 330]: 10, 28 and 5 min: count 3, total 43, longest 28, median 10.
    const middle = f.store.peerOutages(peer, at(100), at(330));
    assert.deepEqual(
      middle?.periods.map((p) => [p.start, p.end]),
      [
        [at(110), at(120)],
        [at(182), at(210)],
        [at(300), at(305)],
      ],
    );
    // Inside the gap: nothing.
    assert.deepEqual(f.store.peerOutages(peer, at(125), at(175))?.periods, []);
  });

  it('peerUptimeWindow: uptime and observed time over the window', () => {
    // Observed 360 - 62 = 298; offline 75: uptime 223.
    assert.deepEqual(f.store.peerUptimeWindow(peer, at(0)), {
      from: at(0),
      to: at(360),
      uptime: min(223),
      observed: min(298),
    });
    assert.deepEqual(f.store.peerUptimeWindow(peer, at(150), at(240)), {
      from: at(150),
      to: at(240),
      uptime: min(30),
      observed: min(58),
    });
    assert.deepEqual(f.store.peerUptimeWindow(peer, at(100), at(130)), {
      from: at(100),
      to: at(130),
      uptime: min(10),
      observed: min(20),
    });
    assert.deepEqual(f.store.peerUptimeWindow(peer, at(125), at(175)), {
      from: at(125),
      to: at(175),
      uptime: 0,
      observed: 0,
    });
    // Clamped to the log's start and now.
    assert.deepEqual(f.store.peerUptimeWindow(peer, at(-100), at(500)), {
      from: at(0),
      to: at(360),
      uptime: min(223),
      observed: min(298),
    });
    assert.deepEqual(f.store.peerUptime(peer), { monitored: min(298), uptime: min(223) });
    // Its creation and seven events, none in the gap.
    assert.equal(peer.flapCount, 8);
  });
});
