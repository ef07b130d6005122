import assert from 'node:assert/strict';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { StoreError } from '../../src/store/errors.js';
import type { FlapRecord } from '../../src/store/peer-monitor.js';
import { FLAP_COOLDOWN_PERIOD_MS } from '../../src/store/rate-limit.js';
import { channelPoint, pubkey, storeFixture } from '../support/store-fixture.js';
import { HOUR, TEST_NOW, TestClock } from '../support/test-clock.js';

const PEER = pubkey(1);
const OTHER = pubkey(2);
const CHAN1 = channelPoint(1, 1);
const CHAN2 = channelPoint(1, 2);

const isCode = (code: string) => (e: unknown) => e instanceof StoreError && e.code === code;

/** A reader whose answers the test releases one by one. */
function manualReader() {
  const calls: {
    node: string;
    pubkey: string;
    resolve: (r: FlapRecord | undefined) => void;
    reject: (e: Error) => void;
  }[] = [];
  const read = (node: string, pk: string) =>
    new Promise<FlapRecord | undefined>((resolve, reject) => {
      calls.push({ node, pubkey: pk, resolve, reject });
    });
  return { calls, read };
}

/** A store of node 'n' behind a gate reading through `read`. */
function gatedStore(read: (node: string, pk: string) => Promise<FlapRecord | undefined>) {
  const clock = new TestClock(TEST_NOW);
  const store = new ChannelEventStore({ node: 'n', clock });
  const gates = new RecordGate({ read });
  return { clock, store, gates, gate: gates.of(store) };
}

describe('RecordGate: persisted record reads', () => {
  it('holds a peer events while its record is read, in order, without stalling other peers', async () => {
    const reader = manualReader();
    const { store, gates, gate } = gatedStore(reader.read);

    gate.openChannel(PEER, CHAN1, TEST_NOW);
    gate.peerEvent(PEER, true, TEST_NOW + 1);
    gate.peerEvent(PEER, false, TEST_NOW + 2);
    gate.peerEvent(OTHER, true, TEST_NOW + 3); // another peer: applied at once
    assert.equal(gate.pendingReads, 1);
    assert.equal(store.peer(PEER), undefined);
    assert.equal(store.connectivity(OTHER), true);

    gate.openChannel(OTHER, CHAN2, TEST_NOW + 4);
    assert.equal(gate.pendingReads, 2);
    assert.equal(gates.pendingReads, 2);
    reader.calls[1]?.resolve(undefined); // OTHER's read answers first
    await new Promise(setImmediate);
    assert.equal(store.peer(OTHER)?.channelCount, 1);
    assert.equal(store.peer(PEER), undefined);

    reader.calls[0]?.resolve({ count: 7, lastFlap: TEST_NOW - HOUR });
    await gates.idle();
    const monitor = store.peer(PEER);
    assert.ok(monitor);
    // 7 persisted + creation + two events, applied in their order.
    assert.equal(monitor.flapCount, 10);
    assert.equal(monitor.online, false);
    assert.equal(monitor.lastFlap, TEST_NOW + 2);
    assert.deepEqual(
      reader.calls.map((c) => [c.node, c.pubkey]),
      [
        ['n', PEER],
        ['n', OTHER],
      ],
    );
  });

  it('creates the monitor unmerged when the read fails, flushes it only once merged', async () => {
    const reader = manualReader();
    const failures: string[] = [];
    const clock = new TestClock(TEST_NOW);
    const store = new ChannelEventStore({ node: 'n', clock });
    const gates = new RecordGate({
      read: reader.read,
      readFailed: (node, pk, err) => failures.push(`${node} ${pk} ${String(err)}`),
    });
    const gate = gates.of(store);
    gate.openChannel(PEER, CHAN1, TEST_NOW);
    gate.peerEvent(PEER, false, TEST_NOW + HOUR);
    reader.calls[0]?.reject(new Error('backend down'));
    await gates.idle();

    const monitor = store.peer(PEER);
    assert.ok(monitor);
    assert.equal(monitor.recordMerged, false);
    assert.equal(monitor.flapCount, 2);
    assert.equal(store.flapRecordsToFlush().size, 0, 'would overwrite the persisted count');
    assert.deepEqual(store.unmergedPeers(), [PEER]);

    const retry = gates.retryRecordReads(store);
    reader.calls[1]?.reject(new Error('still down'));
    assert.equal(await retry, 1);

    const second = gates.retryRecordReads(store);
    // Persisted 40 at T-16h, cooled to the monitor's creation (T): 40 * 0.95^2 = 36.1 -> 36.
    reader.calls[2]?.resolve({ count: 40, lastFlap: TEST_NOW - 2 * FLAP_COOLDOWN_PERIOD_MS });
    assert.equal(await second, 0);
    assert.equal(monitor.recordMerged, true);
    assert.deepEqual(store.unmergedPeers(), []);
    assert.deepEqual(
      store.flapRecordsToFlush(),
      new Map([[PEER, { count: 38, lastFlap: TEST_NOW + HOUR }]]),
    );
    assert.deepEqual(failures, [`n ${PEER} Error: backend down`, `n ${PEER} Error: still down`]);
  });

  it('creates the monitor unmerged when the read throws instead of rejecting', async () => {
    const { store, gates, gate } = gatedStore(() => {
      throw new Error('no backend');
    });
    gate.openChannel(PEER, CHAN1, TEST_NOW);
    await gates.idle();
    assert.equal(store.peer(PEER)?.recordMerged, false);
    assert.equal(await gates.retryRecordReads(store), 1);
  });

  it('rejects a flap count query when the record cannot be read', async () => {
    const f = storeFixture();
    f.reader.failing = true;
    await assert.rejects(f.gates.flapCount(f.store, PEER), /backend down/);
  });

  it('reads a record once per monitor creation, not per event', async () => {
    const f = storeFixture();
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    f.gate.openChannel(PEER, CHAN2, TEST_NOW);
    f.gate.peerEvent(PEER, true, TEST_NOW);
    await f.idle();
    f.gate.closeChannel(PEER, CHAN1, TEST_NOW);
    f.gate.closeChannel(PEER, CHAN2, TEST_NOW);
    f.gate.openChannel(PEER, CHAN1, TEST_NOW + 1);
    await f.idle();
    assert.equal(f.reader.reads, 1);
  });

  it('applies a peer event that waited for the record read at the peer latest time, and counts it reordered', async () => {
    const f = storeFixture();
    f.gate.openChannel(PEER, CHAN1, TEST_NOW + HOUR);
    f.gate.peerEvent(PEER, false, TEST_NOW); // older, queued behind the open
    await f.idle();
    assert.equal(f.store.reorderedTotal, 1);
    assert.deepEqual(f.reordered, [
      { pubkey: PEER, eventTime: TEST_NOW, appliedTime: TEST_NOW + HOUR },
    ]);
    assert.equal(f.store.peer(PEER)?.lastFlap, TEST_NOW + HOUR);
  });
});

describe('RecordGate: settled callbacks', () => {
  it('tells each submitter what became of its event, after the record read when it waited', async () => {
    const f = storeFixture();
    const outcomes: string[] = [];
    const settled = (label: string) => (outcome: string) => outcomes.push(`${label}:${outcome}`);

    f.gate.openChannel(PEER, CHAN1, TEST_NOW, 'event', settled('open'));
    f.gate.openChannel(PEER, CHAN1, TEST_NOW, 'event', settled('dup'));
    f.gate.peerEvent(PEER, true, TEST_NOW, settled('online'));
    f.gate.peerEvent(OTHER, true, TEST_NOW, settled('other'));
    assert.deepEqual(outcomes, ['other:applied'], 'the queued ones wait for the read');

    await f.idle();
    f.gate.closeChannel(PEER, CHAN2, TEST_NOW, settled('close'));
    assert.deepEqual(outcomes, [
      'other:applied',
      'open:applied',
      'dup:duplicate_channel',
      'online:applied',
      'close:unknown_channel',
    ]);
  });
});

describe('RecordGate: held opens', () => {
  it('names the peer of an open that waits for its record read', async () => {
    const f = storeFixture();
    f.gate.openChannel(PEER, CHAN1, TEST_NOW);
    assert.equal(f.gate.heldChannelPeer(CHAN1), PEER);
    assert.equal(f.gates.heldChannelPeer('alice', CHAN1), PEER);
    assert.equal(f.gates.heldChannelPeer('bob', CHAN1), undefined);
    assert.equal(f.gate.heldChannelPeer(CHAN2), undefined);
    assert.equal(f.gate.isHolding(PEER), true);
    await f.idle();
    assert.equal(f.gate.heldChannelPeer(CHAN1), undefined);
    assert.equal(f.gate.isHolding(PEER), false);
    assert.throws(() => f.store.getChanInfo(CHAN1, OTHER), isCode('PEER_NOT_FOUND'));
  });
});

describe('RecordGate: delivery order across peers while a record read is in flight', () => {
  it('keeps a channel point with the peer whose open came first, though its monitor waits', async () => {
    const f = storeFixture();
    f.gate.openChannel(OTHER, CHAN2, TEST_NOW);
    await f.idle();
    f.gate.openChannel(PEER, CHAN1, TEST_NOW + 1); // waits for PEER's record
    f.gate.openChannel(OTHER, CHAN1, TEST_NOW + 2); // OTHER is monitored: decided at once
    await f.idle();
    assert.equal(f.store.channel(CHAN1)?.peer.pubkey, PEER);
    assert.deepEqual(f.rejections, [
      { reason: 'duplicate_channel', pubkey: OTHER, channelPoint: CHAN1 },
    ]);
  });

  it('rejects an open of a taken channel point at delivery, though the owner closes it before the read ends', async () => {
    const f = storeFixture();
    f.gate.openChannel(OTHER, CHAN1, TEST_NOW);
    await f.idle();
    f.gate.openChannel(PEER, CHAN1, TEST_NOW + 1); // a duplicate when delivered
    f.gate.closeChannel(OTHER, CHAN1, TEST_NOW + 2);
    await f.idle();
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
      observer: { rejected: (_reason, pk) => rejected.push(pk) },
    });
    const gates = new RecordGate({
      read: () =>
        new Promise((resolve) => {
          calls.push(resolve);
        }),
    });
    const gate = gates.of(store);
    gate.openChannel(PEER, CHAN1, TEST_NOW);
    gate.openChannel(OTHER, CHAN1, TEST_NOW + 1);
    calls.at(-1)?.(undefined);
    calls[0]?.(undefined);
    await gates.idle();
    assert.equal(store.channel(CHAN1)?.peer.pubkey, PEER);
    assert.deepEqual(rejected, [OTHER]);
  });
});

describe('RecordGate: idle', () => {
  it('waits for the named node only, or for every node', async () => {
    const reader = manualReader();
    const clock = new TestClock(TEST_NOW);
    const gates = new RecordGate({ read: reader.read });
    const alice = gates.of(new ChannelEventStore({ node: 'alice', clock }));
    const bob = gates.of(new ChannelEventStore({ node: 'bob', clock }));
    alice.openChannel(PEER, CHAN1, TEST_NOW);
    bob.openChannel(PEER, CHAN2, TEST_NOW);
    const done: string[] = [];
    void gates.idle('alice').then(() => done.push('alice'));
    void gates.idle('bob').then(() => done.push('bob'));
    void gates.idle().then(() => done.push('all'));
    void gates.idle('carol').then(() => done.push('carol'));
    await new Promise(setImmediate);
    assert.deepEqual(done, ['carol']);
    assert.equal(gates.isIdle('alice'), false);

    reader.calls.find((c) => c.node === 'bob')?.resolve(undefined);
    await new Promise(setImmediate);
    assert.deepEqual(done, ['carol', 'bob']);

    reader.calls.find((c) => c.node === 'alice')?.resolve(undefined);
    await new Promise(setImmediate);
    assert.deepEqual(done, ['carol', 'bob', 'alice', 'all']);
    assert.equal(gates.isIdle(), true);
    assert.equal(gates.get('alice'), alice);
  });

  it('refuses a second store for a node it gates already', () => {
    const clock = new TestClock(TEST_NOW);
    const gates = new RecordGate({ read: () => Promise.resolve(undefined) });
    const store = new ChannelEventStore({ node: 'n', clock });
    assert.equal(gates.of(store), gates.of(store));
    assert.throws(() => gates.of(new ChannelEventStore({ node: 'n', clock })), /another store/);
  });
});
