import assert from 'node:assert/strict';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { StoreError } from '../../src/store/errors.js';
import type { FlapRecord } from '../../src/store/peer-monitor.js';
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
    f.store.openChannel(PEER, CHAN1, now());
    f.store.peerEvent(PEER, true, now());
    await f.store.idle();
    assert.equal(channelsOf(PEER), 1);
  });

  it('duplicate channel opens keep one channel and reject the second', async () => {
    f.store.openChannel(PEER, CHAN1, now());
    f.store.openChannel(PEER, CHAN1, now());
    f.store.peerEvent(PEER, true, now());
    await f.store.idle();
    assert.equal(channelsOf(PEER), 1);
    assert.deepEqual(f.rejections, [
      { reason: 'duplicate_channel', pubkey: PEER, channelPoint: CHAN1 },
    ]);
  });

  it('peer online before the channel is created', async () => {
    f.store.peerEvent(PEER, true, now());
    f.store.openChannel(PEER, CHAN1, now());
    await f.store.idle();
    assert.equal(channelsOf(PEER), 1);
    assert.equal(f.store.peer(PEER)?.online, true);
  });

  it('multiple channels for a peer', async () => {
    f.store.peerEvent(PEER, true, now());
    f.store.openChannel(PEER, CHAN1, now());
    f.store.peerEvent(PEER, false, now());
    f.store.openChannel(PEER, CHAN2, now());
    await f.store.idle();
    assert.equal(channelsOf(PEER), 2);
    assert.equal(f.store.channelCount, 2);
  });

  it('multiple channels for a peer, one closed', async () => {
    f.store.peerEvent(PEER, true, now());
    f.store.openChannel(PEER, CHAN1, now());
    f.store.peerEvent(PEER, false, now());
    f.store.openChannel(PEER, CHAN2, now());
    f.store.closeChannel(PEER, CHAN1, now());
    f.store.peerEvent(PEER, true, now());
    await f.store.idle();
    assert.equal(channelsOf(PEER), 1);
    assert.equal(f.store.channel(CHAN1), undefined);
    assert.equal(f.store.channel(CHAN2)?.peer.pubkey, PEER);
  });

  it('keeps the monitor, its flap count and online state after the last close, without a log', async () => {
    f.store.openChannel(PEER, CHAN1, now());
    await f.store.idle();
    f.store.peerEvent(PEER, true, f.clock.advance(MINUTE));
    f.store.closeChannel(PEER, CHAN1, f.clock.advance(MINUTE));
    const monitor = f.store.peer(PEER);
    assert.ok(monitor);
    assert.equal(monitor.channelCount, 0);
    assert.equal(monitor.flapCount, 2);
    assert.equal(monitor.online, true);
    assert.equal(monitor.log.committedCount, 0);
    assert.equal(monitor.log.staged, undefined);
  });

  it('ignores (and reports) closing an unknown channel or a channel of an unknown peer', async () => {
    f.store.closeChannel(OTHER, CHAN1, now());
    f.store.openChannel(PEER, CHAN1, now());
    await f.store.idle();
    f.store.closeChannel(PEER, CHAN2, now());
    f.store.closeChannel(OTHER, CHAN1, now()); // the channel exists, but not with this peer
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
    f.store.openChannel(PEER, CHAN1, now());
    await f.store.idle();
    f.store.openChannel(OTHER, CHAN1, now());
    await f.store.idle();
    assert.equal(f.store.channel(CHAN1)?.peer.pubkey, PEER);
    assert.equal(f.store.peer(OTHER), undefined);
    assert.equal(f.rejections[0]?.reason, 'duplicate_channel');
  });

  it('takes bootstrap channels once, without reporting those already opened by events', async () => {
    f.store.openChannel(PEER, CHAN1, now());
    f.store.openChannel(PEER, CHAN1, now(), 'bootstrap');
    f.store.openChannel(PEER, CHAN2, now(), 'bootstrap');
    await f.store.idle();
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
    f.store.openChannel(PEER, CHAN1, f.clock.now());
    f.store.peerEvent(PEER, false, f.clock.now());
    await f.store.idle();
    assert.deepEqual(
      f.store.flapRecordsToFlush(),
      new Map([[PEER, { count: 2, lastFlap: TEST_NOW }]]),
    );

    const later = f.clock.advance(MINUTE);
    f.store.peerEvent(PEER, true, later);
    f.store.peerEvent(PEER, false, later);
    f.store.peerEvent(PEER, true, later);
    assert.deepEqual(
      f.store.flapRecordsToFlush(),
      new Map([[PEER, { count: 5, lastFlap: later }]]),
    );
  });

  it('answers from memory, then the persisted record, else 0 (lnd TestFlapCount)', async () => {
    const persisted = pubkey(9);
    f.reader.records.set(persisted, { count: 3, lastFlap: TEST_NOW });

    assert.deepEqual(await f.store.flapCount(PEER), {
      count: 0,
      lastFlap: undefined,
      tracked: false,
    });

    // A peer without channels is not monitored: its events change no count.
    f.store.peerEvent(PEER, true, f.clock.now());
    assert.deepEqual(await f.store.flapCount(PEER), {
      count: 0,
      lastFlap: undefined,
      tracked: false,
    });

    // Its first open creates the monitor with one flap.
    f.store.openChannel(PEER, CHAN1, f.clock.now());
    await f.store.idle();
    assert.deepEqual(await f.store.flapCount(PEER), {
      count: 1,
      lastFlap: TEST_NOW,
      tracked: true,
    });

    assert.deepEqual(await f.store.flapCount(persisted), {
      count: 3,
      lastFlap: TEST_NOW,
      tracked: false,
    });
  });

  it('reports the in-memory count as stored, the cooldown waiting for the next event', async () => {
    f.store.openChannel(PEER, CHAN1, f.clock.now());
    await f.store.idle();
    f.clock.advance(3 * FLAP_COOLDOWN_PERIOD_MS);
    assert.equal((await f.store.flapCount(PEER)).count, 1);
  });

  it('starts a monitor from the persisted record, cooled down by its first event', async () => {
    f.reader.records.set(PEER, { count: 10, lastFlap: TEST_NOW - FLAP_COOLDOWN_PERIOD_MS });
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    await f.store.idle();
    // 10 * 0.95 = 9.5 -> 9, plus the creation flap.
    assert.deepEqual(f.store.flapRecordsToFlush().get(PEER), { count: 10, lastFlap: TEST_NOW });
    assert.equal(f.store.peer(PEER)?.flapsSinceStart, 1);
  });

  it('flushes only monitored peers that have a last flap', async () => {
    f.store.peerEvent(OTHER, true, f.clock.now());
    f.store.openChannel(PEER, CHAN1, f.clock.now());
    await f.store.idle();
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
    f.store.peerEvent(PEER, true, f.clock.now());
    assert.throws(() => f.store.getChanInfo(CHAN1, PEER), isCode('PEER_NOT_FOUND'));

    f.store.openChannel(PEER, CHAN1, f.clock.now());
    await f.store.idle();
    assert.throws(() => f.store.getChanInfo(CHAN2, PEER), isCode('CHANNEL_NOT_FOUND'));

    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: HOUR, uptime: HOUR });

    f.store.peerEvent(PEER, false, f.clock.now());
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: HOUR, uptime: HOUR });

    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: 2 * HOUR, uptime: HOUR });
  });

  it('peer offline at open -> 0 after 1 h, then 1 h of 2 h once online (lnd TestGetChanInfoOfflinePeer)', async () => {
    f.store.openChannel(PEER, CHAN1, f.clock.now());
    await f.store.idle();
    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: HOUR, uptime: 0 });

    f.store.peerEvent(PEER, true, f.clock.now());
    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: 2 * HOUR, uptime: HOUR });
  });

  it('takes the connectivity of a never-seen peer from the bootstrap list', async () => {
    f.bootstrapOnline.add(PEER);
    f.store.openChannel(PEER, CHAN1, f.clock.now(), 'bootstrap');
    await f.store.idle();
    assert.equal(f.store.connectivity(PEER), true);
    assert.equal(f.store.connectivity(OTHER), false);
    f.clock.advance(HOUR);
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: HOUR, uptime: HOUR });
  });

  it('prefers the latest peer event over the bootstrap list', async () => {
    f.bootstrapOnline.add(PEER);
    f.store.peerEvent(PEER, false, f.clock.now());
    f.store.openChannel(PEER, CHAN1, f.clock.now());
    await f.store.idle();
    assert.equal(f.store.peer(PEER)?.online, false);
  });

  it('reads an opening time in the future as zero lifetime', async () => {
    f.store.openChannel(PEER, CHAN1, TEST_NOW + MINUTE);
    await f.store.idle();
    assert.deepEqual(f.store.getChanInfo(CHAN1, PEER), { lifetime: 0, uptime: 0 });
  });

  it('computes uptime over any window, clamped to the channel lifetime', async () => {
    // Online 1 h of the channel's 3 h: open at T, online T+1h..T+2h.
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    await f.store.idle();
    f.store.peerEvent(PEER, true, TEST_NOW + HOUR);
    f.store.peerEvent(PEER, false, TEST_NOW + 2 * HOUR);
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
    f.store.peerEvent(PEER, true, TEST_NOW);
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    await f.store.idle();
    f.store.openChannel(PEER, CHAN2, TEST_NOW + 2 * HOUR);
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
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    await f.store.idle();
    f.store.peerEvent(PEER, true, TEST_NOW + HOUR);
    f.store.peerEvent(PEER, false, TEST_NOW + 30 * MINUTE); // delivered late
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
    f.store.peerEvent(PEER, true, TEST_NOW + HOUR);
    f.store.peerEvent(OTHER, true, TEST_NOW);
    assert.equal(f.store.reorderedTotal, 0);
  });

  it('also clamps channel events of the peer', async () => {
    const f = storeFixture();
    f.store.peerEvent(PEER, true, TEST_NOW + HOUR);
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    await f.store.idle();
    assert.equal(f.store.channel(CHAN1)?.openedAt, TEST_NOW + HOUR);
    assert.equal(f.store.reorderedTotal, 1);
  });
});

describe('ChannelEventStore persisted record reads', () => {
  /** A reader whose answers the test releases one by one. */
  function manualReader() {
    const calls: {
      pubkey: string;
      resolve: (r: FlapRecord | undefined) => void;
      reject: (e: Error) => void;
    }[] = [];
    const read = (pk: string) =>
      new Promise<FlapRecord | undefined>((resolve, reject) => {
        calls.push({ pubkey: pk, resolve, reject });
      });
    return { calls, read };
  }

  function fixtureWith(read: (pk: string) => Promise<FlapRecord | undefined>) {
    const clock = new TestClock(TEST_NOW);
    return { clock, store: new ChannelEventStore({ node: 'n', clock, readFlapRecord: read }) };
  }

  it('holds a peer events while its record is read, in order, without stalling other peers', async () => {
    const reader = manualReader();
    const { store } = fixtureWith(reader.read);

    store.openChannel(PEER, CHAN1, TEST_NOW);
    store.peerEvent(PEER, true, TEST_NOW + 1);
    store.peerEvent(PEER, false, TEST_NOW + 2);
    store.peerEvent(OTHER, true, TEST_NOW + 3); // another peer: applied at once
    assert.equal(store.pendingReads, 1);
    assert.equal(store.peer(PEER), undefined);
    assert.equal(store.connectivity(OTHER), true);

    store.openChannel(OTHER, CHAN2, TEST_NOW + 4);
    assert.equal(store.pendingReads, 2);
    reader.calls[1]?.resolve(undefined); // OTHER's read answers first
    await new Promise(setImmediate);
    assert.equal(store.peer(OTHER)?.channelCount, 1);
    assert.equal(store.peer(PEER), undefined);

    reader.calls[0]?.resolve({ count: 7, lastFlap: TEST_NOW - HOUR });
    await store.idle();
    const monitor = store.peer(PEER);
    assert.ok(monitor);
    // 7 persisted + creation + two events, applied in their order.
    assert.equal(monitor.flapCount, 10);
    assert.equal(monitor.online, false);
    assert.equal(monitor.lastFlap, TEST_NOW + 2);
  });

  it('creates the monitor unmerged when the read fails, flushes it only once merged', async () => {
    const reader = manualReader();
    const { store } = fixtureWith(reader.read);
    store.openChannel(PEER, CHAN1, TEST_NOW);
    store.peerEvent(PEER, false, TEST_NOW + HOUR);
    reader.calls[0]?.reject(new Error('backend down'));
    await store.idle();

    const monitor = store.peer(PEER);
    assert.ok(monitor);
    assert.equal(monitor.recordMerged, false);
    assert.equal(monitor.flapCount, 2);
    assert.equal(store.flapRecordsToFlush().size, 0, 'would overwrite the persisted count');

    const retry = store.retryRecordReads();
    reader.calls[1]?.reject(new Error('still down'));
    assert.equal(await retry, 1);

    const second = store.retryRecordReads();
    // Persisted 40 at T-16h, cooled to the monitor's creation (T): 40 * 0.95^2 = 36.1 -> 36.
    reader.calls[2]?.resolve({ count: 40, lastFlap: TEST_NOW - 2 * FLAP_COOLDOWN_PERIOD_MS });
    assert.equal(await second, 0);
    assert.equal(monitor.recordMerged, true);
    assert.deepEqual(
      store.flapRecordsToFlush(),
      new Map([[PEER, { count: 38, lastFlap: TEST_NOW + HOUR }]]),
    );
  });

  it('rejects a flap count query when the record cannot be read', async () => {
    const f = storeFixture();
    f.reader.failing = true;
    await assert.rejects(f.store.flapCount(PEER), /backend down/);
  });

  it('reads a record once per monitor creation, not per event', async () => {
    const f = storeFixture();
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    f.store.openChannel(PEER, CHAN2, TEST_NOW);
    f.store.peerEvent(PEER, true, TEST_NOW);
    await f.store.idle();
    f.store.closeChannel(PEER, CHAN1, TEST_NOW);
    f.store.closeChannel(PEER, CHAN2, TEST_NOW);
    f.store.openChannel(PEER, CHAN1, TEST_NOW + 1);
    await f.store.idle();
    assert.equal(f.reader.reads, 1);
  });
});

describe('ChannelEventStore settled callbacks', () => {
  it('tells each submitter what became of its event, after the record read when it waited', async () => {
    const f = storeFixture();
    const outcomes: string[] = [];
    const settled = (label: string) => (outcome: string) => outcomes.push(`${label}:${outcome}`);

    f.store.openChannel(PEER, CHAN1, TEST_NOW, 'event', settled('open'));
    f.store.openChannel(PEER, CHAN1, TEST_NOW, 'event', settled('dup'));
    f.store.peerEvent(PEER, true, TEST_NOW, settled('online'));
    f.store.peerEvent(OTHER, true, TEST_NOW, settled('other'));
    assert.deepEqual(outcomes, ['other:applied'], 'the queued ones wait for the read');

    await f.store.idle();
    f.store.closeChannel(PEER, CHAN2, TEST_NOW, settled('close'));
    assert.deepEqual(outcomes, [
      'other:applied',
      'open:applied',
      'dup:duplicate_channel',
      'online:applied',
      'close:unknown_channel',
    ]);
  });
});

describe('ChannelEventStore pending opens', () => {
  it('names the peer of an open that waits for its record read', async () => {
    const f = storeFixture();
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    assert.equal(f.store.pendingChannelPeer(CHAN1), PEER);
    assert.equal(f.store.pendingChannelPeer(CHAN2), undefined);
    await f.store.idle();
    assert.equal(f.store.pendingChannelPeer(CHAN1), undefined);
    assert.throws(() => f.store.getChanInfo(CHAN1, OTHER), isCode('PEER_NOT_FOUND'));
  });
});

describe('ChannelEventStore delivery order across peers while a record read is in flight', () => {
  it('keeps a channel point with the peer whose open came first, though its monitor waits', async () => {
    const f = storeFixture();
    f.store.openChannel(OTHER, CHAN2, TEST_NOW);
    await f.store.idle();
    f.store.openChannel(PEER, CHAN1, TEST_NOW + 1); // waits for PEER's record
    f.store.openChannel(OTHER, CHAN1, TEST_NOW + 2); // OTHER is monitored: decided at once
    await f.store.idle();
    assert.equal(f.store.channel(CHAN1)?.peer.pubkey, PEER);
    assert.deepEqual(f.rejections, [
      { reason: 'duplicate_channel', pubkey: OTHER, channelPoint: CHAN1 },
    ]);
  });

  it('rejects an open of a taken channel point at delivery, though the owner closes it before the read ends', async () => {
    const f = storeFixture();
    f.store.openChannel(OTHER, CHAN1, TEST_NOW);
    await f.store.idle();
    f.store.openChannel(PEER, CHAN1, TEST_NOW + 1); // a duplicate when delivered
    f.store.closeChannel(OTHER, CHAN1, TEST_NOW + 2);
    await f.store.idle();
    assert.equal(f.store.channel(CHAN1), undefined);
    assert.equal(f.store.peer(PEER), undefined, 'a rejected open creates no monitor');
    assert.deepEqual(f.rejections, [
      { reason: 'duplicate_channel', pubkey: PEER, channelPoint: CHAN1 },
    ]);
  });

  it('of two unmonitored peers opening one channel point, the first delivered wins, whichever read ends first', async () => {
    const calls: ((r: FlapRecord | undefined) => void)[] = [];
    const clock = new TestClock(TEST_NOW);
    const rejected: string[] = [];
    const store = new ChannelEventStore({
      node: 'n',
      clock,
      readFlapRecord: () =>
        new Promise((resolve) => {
          calls.push(resolve);
        }),
      observer: { rejected: (_reason, pk) => rejected.push(pk) },
    });
    store.openChannel(PEER, CHAN1, TEST_NOW);
    store.openChannel(OTHER, CHAN1, TEST_NOW + 1);
    calls.at(-1)?.(undefined);
    calls[0]?.(undefined);
    await store.idle();
    assert.equal(store.channel(CHAN1)?.peer.pubkey, PEER);
    assert.deepEqual(rejected, [OTHER]);
  });
});

describe('ChannelEventStore rules checked one by one', () => {
  it('counts the flap of monitor creation without logging it; the channel seeds the log without a flap', async () => {
    const f = storeFixture();
    f.store.peerEvent(PEER, true, TEST_NOW - HOUR);
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    await f.store.idle();
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
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    await f.store.idle();
    f.store.closeChannel(PEER, CHAN1, TEST_NOW + MINUTE);
    f.store.peerEvent(PEER, true, TEST_NOW + 2 * MINUTE); // no channel: not logged
    f.store.openChannel(PEER, CHAN2, TEST_NOW + 3 * MINUTE);
    const monitor = f.store.peer(PEER);
    assert.ok(monitor);
    assert.equal(monitor.log.committedCount, 0);
    assert.deepEqual(monitor.log.staged, { time: TEST_NOW + 3 * MINUTE, online: true });
    // The committed log is still empty with a staged event: the next opening seeds it
    // again, through the rate limiter (more than 1 s later: the staged event is committed).
    f.store.openChannel(PEER, channelPoint(1, 3), TEST_NOW + 4 * MINUTE);
    assert.equal(monitor.log.committedCount, 1);
    assert.deepEqual(monitor.log.staged, { time: TEST_NOW + 4 * MINUTE, online: true });
    assert.equal(monitor.flapCount, 2, 'creation and one peer event; openings add none');
  });

  it('applies a peer event that waited for the record read at the peer latest time, and counts it reordered', async () => {
    const f = storeFixture();
    f.store.openChannel(PEER, CHAN1, TEST_NOW + HOUR);
    f.store.peerEvent(PEER, false, TEST_NOW); // older, queued behind the open
    await f.store.idle();
    assert.equal(f.store.reorderedTotal, 1);
    assert.deepEqual(f.reordered, [
      { pubkey: PEER, eventTime: TEST_NOW, appliedTime: TEST_NOW + HOUR },
    ]);
    assert.equal(f.store.peer(PEER)?.lastFlap, TEST_NOW + HOUR);
  });

  it('applies an older close at the peer latest time, and counts it reordered', async () => {
    const f = storeFixture();
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    f.store.openChannel(PEER, CHAN2, TEST_NOW);
    f.store.peerEvent(PEER, true, TEST_NOW + HOUR);
    await f.store.idle();
    f.store.closeChannel(PEER, CHAN1, TEST_NOW + MINUTE);
    assert.equal(f.store.reorderedTotal, 1);
    assert.equal(f.store.channel(CHAN1), undefined);
    assert.equal(f.store.peer(PEER)?.channelCount, 1);
  });

  it('refuses an uptime query ending at the zero time or before its start (INVALID_RANGE)', async () => {
    const f = storeFixture();
    f.store.openChannel(PEER, CHAN1, TEST_NOW);
    await f.store.idle();
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
    f.store.peerEvent(PEER, true, t0 - MINUTE);
    f.store.openChannel(PEER, CHAN1, t0);
    await f.store.idle();
    // Only the seed of the log is there (staged): online since the creation.
    f.clock.advance(HOUR);
    assert.deepEqual(uptimeOf(PEER), { monitored: HOUR, uptime: HOUR });
    f.store.peerEvent(PEER, false, t0 + HOUR);
    f.store.openChannel(PEER, CHAN2, t0 + 2 * HOUR);
    await f.store.idle();
    f.clock.advance(3 * HOUR);
    assert.deepEqual(uptimeOf(PEER), { monitored: 4 * HOUR, uptime: HOUR });
    // At an earlier instant (a listing's), as it was then.
    assert.deepEqual(uptimeOf(PEER, t0 + 2 * HOUR), { monitored: 2 * HOUR, uptime: HOUR });
  });

  it('has no monitored time before the creation, nor once the last channel closed', async () => {
    const t0 = f.clock.now();
    f.store.openChannel(PEER, CHAN1, t0 + MINUTE);
    await f.store.idle();
    assert.deepEqual(uptimeOf(PEER), { monitored: 0, uptime: 0 });
    f.store.closeChannel(PEER, CHAN1, t0 + 2 * MINUTE);
    f.clock.advance(HOUR);
    assert.equal(f.store.peer(PEER)?.channelCount, 0);
    assert.deepEqual(uptimeOf(PEER), { monitored: 0, uptime: 0 });
  });

  it('stays exact once the log before the retention horizon is compacted away', async () => {
    const clock = new TestClock(TEST_NOW);
    const t0 = clock.now();
    const options = { node: 'n', clock, readFlapRecord: () => Promise.resolve(undefined) };
    const kept = new ChannelEventStore(options);
    const compacted = new ChannelEventStore({ ...options, retentionMs: 10 * HOUR });
    for (const store of [kept, compacted]) {
      store.openChannel(PEER, CHAN1, t0);
      await store.idle();
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
