import assert from 'node:assert/strict';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { StoreError } from '../../src/store/errors.js';
import { FLAP_COOLDOWN_PERIOD_MS } from '../../src/store/rate-limit.js';
import { channelPoint, pubkey, storeFixture, type Fixture } from '../support/store-fixture.js';
import { HOUR, MINUTE, TEST_NOW, TestClock } from '../support/test-clock.js';

const PEER = pubkey(1);
const OTHER = pubkey(2);
const CHAN1 = channelPoint(1, 1);
const CHAN2 = channelPoint(1, 2);

const isCode = (code: string) => (e: unknown) => e instanceof StoreError && e.code === code;

describe('ChannelEventStore channel and peer events (lnd TestMonitorChannelEvents)', () => {
  let f: Fixture;
  beforeEach(() => {
    f = storeFixture();
  });
  const now = () => f.clock.now();
  const channelsOf = (pk: string) => f.store.peer(pk)?.channelCount;

  it('peer comes online after channel open', async () => {
    f.gate.openChannel(PEER, CHAN1, now());
    f.gate.peerEvent(PEER, true, now());
    await f.idle();
    assert.equal(channelsOf(PEER), 1);
  });

  it('duplicate channel opens keep one channel and reject the second', async () => {
    f.gate.openChannel(PEER, CHAN1, now());
    f.gate.openChannel(PEER, CHAN1, now());
    f.gate.peerEvent(PEER, true, now());
    await f.idle();
    assert.equal(channelsOf(PEER), 1);
    assert.deepEqual(f.rejections, [
      { reason: 'duplicate_channel', pubkey: PEER, channelPoint: CHAN1 },
    ]);
  });

  it('peer online before the channel is created', async () => {
    f.gate.peerEvent(PEER, true, now());
    f.gate.openChannel(PEER, CHAN1, now());
    await f.idle();
    assert.equal(channelsOf(PEER), 1);
    assert.equal(f.store.peer(PEER)?.online, true);
  });

  it('multiple channels for a peer', async () => {
    f.gate.peerEvent(PEER, true, now());
    f.gate.openChannel(PEER, CHAN1, now());
    f.gate.peerEvent(PEER, false, now());
    f.gate.openChannel(PEER, CHAN2, now());
    await f.idle();
    assert.equal(channelsOf(PEER), 2);
    assert.equal(f.store.channelCount, 2);
  });

  it('multiple channels for a peer, one closed', async () => {
    f.gate.peerEvent(PEER, true, now());
    f.gate.openChannel(PEER, CHAN1, now());
    f.gate.peerEvent(PEER, false, now());
    f.gate.openChannel(PEER, CHAN2, now());
    f.gate.closeChannel(PEER, CHAN1, now());
    f.gate.peerEvent(PEER, true, now());
    await f.idle();
    assert.equal(channelsOf(PEER), 1);
    assert.equal(f.store.channel(CHAN1), undefined);
    assert.equal(f.store.channel(CHAN2)?.peer.pubkey, PEER);
  });

  it('keeps the monitor, its flap count and online state after the last close, without a log', async () => {
    f.gate.openChannel(PEER, CHAN1, now());
    await f.idle();
    f.gate.peerEvent(PEER, true, f.clock.advance(MINUTE));
    f.gate.closeChannel(PEER, CHAN1, f.clock.advance(MINUTE));
    const monitor = f.store.peer(PEER);
    assert.ok(monitor);
    assert.equal(monitor.channelCount, 0);
    assert.equal(monitor.flapCount, 2);
    assert.equal(monitor.online, true);
    assert.equal(monitor.log.committedCount, 0);
    assert.equal(monitor.log.staged, undefined);
  });

  it('ignores (and reports) closing an unknown channel or a channel of an unknown peer', async () => {
    f.gate.closeChannel(OTHER, CHAN1, now());
    f.gate.openChannel(PEER, CHAN1, now());
    await f.idle();
    f.gate.closeChannel(PEER, CHAN2, now());
    f.gate.closeChannel(OTHER, CHAN1, now()); // the channel exists, but not with this peer
    assert.deepEqual(
      f.rejections.map((r) => [r.reason, r.pubkey, r.channelPoint]),
      [
        ['unknown_channel', OTHER, CHAN1],
        ['unknown_channel', PEER, CHAN2],
        ['unknown_channel', OTHER, CHAN1],
      ],
    );
    assert.equal(f.store.channel(CHAN1)?.peer.pubkey, PEER);
  });

  it('rejects a channel point already tracked for another peer', async () => {
    f.gate.openChannel(PEER, CHAN1, now());
    await f.idle();
    f.gate.openChannel(OTHER, CHAN1, now());
    await f.idle();
    assert.equal(f.store.channel(CHAN1)?.peer.pubkey, PEER);
    assert.equal(f.store.peer(OTHER), undefined);
    assert.equal(f.rejections[0]?.reason, 'duplicate_channel');
  });

  it('takes bootstrap channels once, without reporting those already opened by events', async () => {
    f.gate.openChannel(PEER, CHAN1, now());
    f.gate.openChannel(PEER, CHAN1, now(), 'bootstrap');
    f.gate.openChannel(PEER, CHAN2, now(), 'bootstrap');
    await f.idle();
    assert.equal(channelsOf(PEER), 2);
    assert.deepEqual(f.rejections, []);
  });
});

describe('ChannelEventStore flap counts', () => {
  let f: Fixture;
  beforeEach(() => {
    f = storeFixture();
  });

  it('flushes 2 after an open and an offline event, then 5 after three more (lnd TestStoreFlapCount)', async () => {
    f.gate.openChannel(PEER, CHAN1, f.clock.now());
    f.gate.peerEvent(PEER, false, f.clock.now());
    await f.idle();
    assert.deepEqual(
      f.store.flapRecordsToFlush(),
      new Map([[PEER, { count: 2, lastFlap: TEST_NOW }]]),
    );

    const later = f.clock.advance(MINUTE);
    f.gate.peerEvent(PEER, true, later);
    f.gate.peerEvent(PEER, false, later);
    f.gate.peerEvent(PEER, true, later);
    assert.deepEqual(
      f.store.flapRecordsToFlush(),
      new Map([[PEER, { count: 5, lastFlap: later }]]),
    );
  });

  it('answers from memory, then the persisted record, else 0 (lnd TestFlapCount)', async () => {
    const persisted = pubkey(9);
    f.reader.records.set(persisted, { count: 3, lastFlap: TEST_NOW });

    assert.deepEqual(await f.gates.flapCount(f.store, PEER), {
      count: 0,
      lastFlap: undefined,
      tracked: false,
    });

    // A peer without channels is not monitored: its events change no count.
    f.gate.peerEvent(PEER, true, f.clock.now());
    assert.deepEqual(await f.gates.flapCount(f.store, PEER), {
      count: 0,
      lastFlap: undefined,
      tracked: false,
    });

    // Its first open creates the monitor with one flap.
    f.gate.openChannel(PEER, CHAN1, f.clock.now());
    await f.idle();
    assert.deepEqual(await f.gates.flapCount(f.store, PEER), {
      count: 1,
      lastFlap: TEST_NOW,
      tracked: true,
    });

    assert.deepEqual(await f.gates.flapCount(f.store, persisted), {
      count: 3,
      lastFlap: TEST_NOW,
      tracked: false,
    });
  });

  it('reports the in-memory count as stored, the cooldown waiting for the next event', async () => {
    f.gate.openChannel(PEER, CHAN1, f.clock.now());
    await f.idle();
    f.clock.advance(3 * FLAP_COOLDOWN_PERIOD_MS);
    assert.equal(f.store.flapCount(PEER)?.count, 1);
  });

  it('starts a monitor from the persisted record, cooled down by its first event', async () => {
    f.reader.records.set(PEER, { count: 10, lastFlap: TEST_NOW - FLAP_COOLDOWN_PERIOD_MS });
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    await f.idle();
    // 10 * 0.95 = 9.5 -> 9, plus the creation flap.
    assert.deepEqual(f.store.flapRecordsToFlush().get(PEER), { count: 10, lastFlap: TEST_NOW });
    assert.equal(f.store.peer(PEER)?.flapsSinceStart, 1);
  });

  it('takes the record of a new monitor with the open that creates it, synchronously', () => {
    const store = new ChannelEventStore({ node: 'n', clock: new TestClock(TEST_NOW) });
    assert.equal(store.needsRecord(PEER), true);
    const record = { count: 10, lastFlap: TEST_NOW - FLAP_COOLDOWN_PERIOD_MS };
    assert.equal(
      store.openChannel(PEER, CHAN1, TEST_NOW, 'event', { record, merged: true }),
      'applied',
    );
    assert.equal(store.needsRecord(PEER), false);
    // 10 * 0.95 = 9.5 -> 9, plus the creation flap.
    assert.deepEqual(store.flapCount(PEER), { count: 10, lastFlap: TEST_NOW, tracked: true });
    assert.equal(store.flapCount(OTHER), undefined, 'unmonitored: the persisted record answers');
    // A record given for a peer monitored already is not taken again.
    store.openChannel(PEER, CHAN2, TEST_NOW, 'event', { record, merged: true });
    assert.equal(store.peer(PEER)?.flapCount, 10);
  });

  it('merges a record read late into a monitor created without it, cooled down to its creation', () => {
    const store = new ChannelEventStore({ node: 'n', clock: new TestClock(TEST_NOW) });
    store.openChannel(PEER, CHAN1, TEST_NOW, 'event', { record: undefined, merged: false });
    store.peerEvent(PEER, false, TEST_NOW + HOUR);
    assert.deepEqual(store.unmergedPeers(), [PEER]);
    assert.equal(store.flapRecordsToFlush().size, 0, 'would overwrite the persisted count');
    assert.equal(store.mergeRecord(OTHER, undefined), false, 'no monitor to merge into');
    // Persisted 40 at T-16h, cooled to the monitor's creation (T): 40 * 0.95^2 = 36.1 -> 36.
    const record = { count: 40, lastFlap: TEST_NOW - 2 * FLAP_COOLDOWN_PERIOD_MS };
    assert.equal(store.mergeRecord(PEER, record), true);
    assert.equal(store.mergeRecord(PEER, record), false, 'merged once');
    assert.deepEqual(store.unmergedPeers(), []);
    assert.deepEqual(
      store.flapRecordsToFlush(),
      new Map([[PEER, { count: 38, lastFlap: TEST_NOW + HOUR }]]),
    );
  });

  it('flushes only monitored peers that have a last flap', async () => {
    f.gate.peerEvent(OTHER, true, f.clock.now());
    f.gate.openChannel(PEER, CHAN1, f.clock.now());
    await f.idle();
    assert.deepEqual([...f.store.flapRecordsToFlush().keys()], [PEER]);
  });
});

describe('ChannelEventStore channel info', () => {
  let f: Fixture;
  beforeEach(() => {
    f = storeFixture();
  });

  it('1 h open and online -> 1 h / 1 h; offline, +1 h -> 2 h / 1 h (lnd TestGetChanInfo)', async () => {
    // Ignored for flaps (no channel yet), remembered as the peer's connectivity.
    f.gate.peerEvent(PEER, true, f.clock.now());
    assert.throws(() => f.store.getChanInfo(CHAN1, PEER), isCode('PEER_NOT_FOUND'));

    f.gate.openChannel(PEER, CHAN1, f.clock.now());
    await f.idle();
    assert.throws(() => f.store.getChanInfo(CHAN2, PEER), isCode('CHANNEL_NOT_FOUND'));

    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: HOUR, uptime: HOUR });

    f.gate.peerEvent(PEER, false, f.clock.now());
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: HOUR, uptime: HOUR });

    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: 2 * HOUR, uptime: HOUR });
  });

  it('peer offline at open -> 0 after 1 h, then 1 h of 2 h once online (lnd TestGetChanInfoOfflinePeer)', async () => {
    f.gate.openChannel(PEER, CHAN1, f.clock.now());
    await f.idle();
    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: HOUR, uptime: 0 });

    f.gate.peerEvent(PEER, true, f.clock.now());
    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: 2 * HOUR, uptime: HOUR });
  });

  it('takes the connectivity of a never-seen peer from the bootstrap list', async () => {
    f.bootstrapOnline.add(PEER);
    f.gate.openChannel(PEER, CHAN1, f.clock.now(), 'bootstrap');
    await f.idle();
    assert.equal(f.store.connectivity(PEER), true);
    assert.equal(f.store.connectivity(OTHER), false);
    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: HOUR, uptime: HOUR });
  });

  it('prefers the latest peer event over the bootstrap list', async () => {
    f.bootstrapOnline.add(PEER);
    f.gate.peerEvent(PEER, false, f.clock.now());
    f.gate.openChannel(PEER, CHAN1, f.clock.now());
    await f.idle();
    assert.equal(f.store.peer(PEER)?.online, false);
  });

  it('reads an opening time in the future as zero lifetime', async () => {
    f.gate.openChannel(PEER, CHAN1, TEST_NOW + MINUTE);
    await f.idle();
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: 0, uptime: 0 });
  });

  it('computes uptime over any window, clamped to the channel lifetime', async () => {
    // Online 1 h of the channel's 3 h: open at T, online T+1h..T+2h.
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    await f.idle();
    f.gate.peerEvent(PEER, true, TEST_NOW + HOUR);
    f.gate.peerEvent(PEER, false, TEST_NOW + 2 * HOUR);
    f.clock.set(TEST_NOW + 3 * HOUR);
    const channel = f.store.channel(CHAN1);
    assert.ok(channel);

    assert.deepEqual(f.store.channelInfo(channel), { lifetime: 3 * HOUR, uptime: HOUR });
    assert.deepEqual(f.store.channelUptime(channel, TEST_NOW - 5 * HOUR), {
      from: TEST_NOW,
      to: TEST_NOW + 3 * HOUR,
      uptime: HOUR,
      observed: 3 * HOUR,
    });
    assert.deepEqual(f.store.channelUptime(channel, TEST_NOW + 1.5 * HOUR, TEST_NOW + 10 * HOUR), {
      from: TEST_NOW + 1.5 * HOUR,
      to: TEST_NOW + 3 * HOUR,
      uptime: 0.5 * HOUR,
      observed: 1.5 * HOUR,
    });
    assert.deepEqual(f.store.channelUptime(channel, TEST_NOW - 5 * HOUR, TEST_NOW - 4 * HOUR), {
      from: TEST_NOW,
      to: TEST_NOW,
      uptime: 0,
      observed: 0,
    });
    assert.throws(
      () => f.store.channelUptime(channel, TEST_NOW + HOUR, TEST_NOW),
      isCode('INVALID_RANGE'),
    );
    assert.equal(f.store.uptime(PEER, TEST_NOW, TEST_NOW + 3 * HOUR), HOUR);
    assert.throws(() => f.store.uptime(OTHER, TEST_NOW, TEST_NOW + HOUR), isCode('PEER_NOT_FOUND'));

    assert.deepEqual(f.store.onlinePeriods(channel), [
      { start: TEST_NOW + HOUR, end: TEST_NOW + 2 * HOUR, ongoing: false },
    ]);
    assert.deepEqual(f.store.onlinePeriods(channel, TEST_NOW + 1.5 * HOUR), [
      { start: TEST_NOW + 1.5 * HOUR, end: TEST_NOW + 2 * HOUR, ongoing: false },
    ]);
  });

  it('clips a peer history older than the channel to its opening', async () => {
    f.gate.peerEvent(PEER, true, TEST_NOW);
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    await f.idle();
    f.gate.openChannel(PEER, CHAN2, TEST_NOW + 2 * HOUR);
    f.clock.set(TEST_NOW + 3 * HOUR);
    const channel = f.store.channel(CHAN2);
    assert.ok(channel);
    assert.deepEqual(f.store.onlinePeriods(channel), [
      { start: TEST_NOW + 2 * HOUR, end: TEST_NOW + 3 * HOUR, ongoing: true },
    ]);
    assert.deepEqual(f.store.channelInfo(channel), { lifetime: HOUR, uptime: HOUR });
  });
});

describe('ChannelEventStore event time', () => {
  it('applies an event older than the peer latest at the latest time, and counts it', async () => {
    const f = storeFixture();
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    await f.idle();
    f.gate.peerEvent(PEER, true, TEST_NOW + HOUR);
    f.gate.peerEvent(PEER, false, TEST_NOW + 30 * MINUTE); // delivered late
    f.clock.set(TEST_NOW + 2 * HOUR);
    assert.equal(f.store.reorderedTotal, 1);
    assert.deepEqual(f.reordered, [
      { pubkey: PEER, eventTime: TEST_NOW + 30 * MINUTE, appliedTime: TEST_NOW + HOUR },
    ]);
    assert.equal(f.store.peer(PEER)?.lastFlap, TEST_NOW + HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: 2 * HOUR, uptime: 0 });
  });

  it('keeps time per peer: another peer may be behind', () => {
    const f = storeFixture();
    f.gate.peerEvent(PEER, true, TEST_NOW + HOUR);
    f.gate.peerEvent(OTHER, true, TEST_NOW);
    assert.equal(f.store.reorderedTotal, 0);
  });

  it('also clamps channel events of the peer', async () => {
    const f = storeFixture();
    f.gate.peerEvent(PEER, true, TEST_NOW + HOUR);
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    await f.idle();
    assert.equal(f.store.channel(CHAN1)?.openedAt, TEST_NOW + HOUR);
    assert.equal(f.store.reorderedTotal, 1);
  });
});

describe('ChannelEventStore rules checked one by one', () => {
  it('counts the flap of monitor creation without logging it; the channel seeds the log without a flap', async () => {
    const f = storeFixture();
    f.gate.peerEvent(PEER, true, TEST_NOW - HOUR);
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    await f.idle();
    const monitor = f.store.peer(PEER);
    assert.ok(monitor);
    assert.equal(monitor.flapCount, 1, 'creation is a flap');
    assert.equal(monitor.lastFlap, TEST_NOW);
    // One event in the sequence: the seed, staged at the opening; no second one for creation.
    assert.equal(monitor.log.committedCount, 0);
    assert.deepEqual(monitor.log.staged, { time: TEST_NOW, online: true });
  });

  it('seeds the log of a second channel when only a staged event exists (the staged one does not count)', async () => {
    const f = storeFixture();
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    await f.idle();
    f.gate.closeChannel(PEER, CHAN1, TEST_NOW + MINUTE);
    f.gate.peerEvent(PEER, true, TEST_NOW + 2 * MINUTE); // no channel: not logged
    f.gate.openChannel(PEER, CHAN2, TEST_NOW + 3 * MINUTE);
    const monitor = f.store.peer(PEER);
    assert.ok(monitor);
    assert.equal(monitor.log.committedCount, 0);
    assert.deepEqual(monitor.log.staged, { time: TEST_NOW + 3 * MINUTE, online: true });
    // The committed log is still empty with a staged event: the next opening seeds it
    // again, through the rate limiter (more than 1 s later: the staged event is committed).
    f.gate.openChannel(PEER, channelPoint(1, 3), TEST_NOW + 4 * MINUTE);
    assert.equal(monitor.log.committedCount, 1);
    assert.deepEqual(monitor.log.staged, { time: TEST_NOW + 4 * MINUTE, online: true });
    assert.equal(monitor.flapCount, 2, 'creation and one peer event; openings add none');
  });

  it('applies an older close at the peer latest time, and counts it reordered', async () => {
    const f = storeFixture();
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    f.gate.openChannel(PEER, CHAN2, TEST_NOW);
    f.gate.peerEvent(PEER, true, TEST_NOW + HOUR);
    await f.idle();
    f.gate.closeChannel(PEER, CHAN1, TEST_NOW + MINUTE);
    assert.equal(f.store.reorderedTotal, 1);
    assert.equal(f.store.channel(CHAN1), undefined);
    assert.equal(f.store.peer(PEER)?.channelCount, 1);
  });

  it('refuses an uptime query ending at the zero time or before its start (INVALID_RANGE)', async () => {
    const f = storeFixture();
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    await f.idle();
    assert.throws(() => f.store.uptime(PEER, TEST_NOW, 0), isCode('INVALID_RANGE'));
    assert.throws(() => f.store.uptime(PEER, TEST_NOW, TEST_NOW - 1), isCode('INVALID_RANGE'));
    assert.throws(() => f.store.uptime(OTHER, TEST_NOW, TEST_NOW + 1), isCode('PEER_NOT_FOUND'));
  });
});

describe('ChannelEventStore peer uptime', () => {
  let f: Fixture;
  beforeEach(() => {
    f = storeFixture();
  });
  const uptimeOf = (pk: string, now?: number) => {
    const view = f.store.peer(pk);
    assert.ok(view !== undefined);
    return f.store.peerUptime(view, now);
  };

  it('counts online time from the monitor creation to now, over that time', async () => {
    const t0 = f.clock.now();
    f.gate.peerEvent(PEER, true, t0 - MINUTE);
    f.gate.openChannel(PEER, CHAN1, t0);
    await f.idle();
    // Only the seed of the log is there (staged): online since the creation.
    f.clock.advance(HOUR);
    assert.deepEqual(uptimeOf(PEER), { monitored: HOUR, uptime: HOUR });
    f.gate.peerEvent(PEER, false, t0 + HOUR);
    f.gate.openChannel(PEER, CHAN2, t0 + 2 * HOUR);
    await f.idle();
    f.clock.advance(3 * HOUR);
    assert.deepEqual(uptimeOf(PEER), { monitored: 4 * HOUR, uptime: HOUR });
    // At an earlier instant (a listing's), as it was then.
    assert.deepEqual(uptimeOf(PEER, t0 + 2 * HOUR), { monitored: 2 * HOUR, uptime: HOUR });
  });

  it('has no monitored time before the creation, nor once the last channel closed', async () => {
    const t0 = f.clock.now();
    f.gate.openChannel(PEER, CHAN1, t0 + MINUTE);
    await f.idle();
    assert.deepEqual(uptimeOf(PEER), { monitored: 0, uptime: 0 });
    f.gate.closeChannel(PEER, CHAN1, t0 + 2 * MINUTE);
    f.clock.advance(HOUR);
    assert.equal(f.store.peer(PEER)?.channelCount, 0);
    assert.deepEqual(uptimeOf(PEER), { monitored: 0, uptime: 0 });
  });

  it('stays exact once the log before the retention horizon is compacted away', () => {
    const clock = new TestClock(TEST_NOW);
    const t0 = clock.now();
    const options = { node: 'n', clock };
    const kept = new ChannelEventStore(options);
    const compacted = new ChannelEventStore({ ...options, retentionMs: 10 * HOUR });
    for (const store of [kept, compacted]) {
      store.openChannel(PEER, CHAN1, t0);
      // Online 1 h out of every 2 h, for two days.
      for (let h = 1; h < 48; h++) store.peerEvent(PEER, h % 2 === 1, t0 + h * HOUR);
    }
    clock.set(t0 + 48 * HOUR);
    assert.ok(compacted.compact() > 0);
    const expected = { monitored: 48 * HOUR, uptime: 24 * HOUR };
    for (const store of [kept, compacted]) {
      const view = store.peer(PEER);
      assert.ok(view !== undefined);
      assert.deepEqual(store.peerUptime(view), expected);
    }
  });
});
