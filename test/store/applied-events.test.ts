import assert from 'node:assert/strict';
import { RecordGate, type NodeRecordGate } from '../../src/ingest/record-gate.js';
import { ChannelEventStore, type StoreObserver } from '../../src/store/channel-event-store.js';
import { channelPoint, pubkey, RecordReader } from '../support/store-fixture.js';
import { HOUR, SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';

const P1 = pubkey(1);
const P2 = pubkey(2);
const CP1 = channelPoint(1);
const CP2 = channelPoint(2);
const T0 = TEST_NOW - 10 * HOUR;

type Applied =
  | {
      kind: 'peer';
      pubkey: string;
      online: boolean;
      eventTime: number;
      appliedTime: number;
      flapCount: number | undefined;
    }
  | {
      kind: 'channel';
      opened: boolean;
      pubkey: string;
      channelPoint: string;
      eventTime: number;
      appliedTime: number;
      flapCount: number;
    };

/** A store whose events go through a gate (as the ingest submits them), recording what it applies. */
function recordingStore(reader = new RecordReader()): {
  store: ChannelEventStore;
  gate: NodeRecordGate;
  idle: () => Promise<void>;
  applied: Applied[];
} {
  const applied: Applied[] = [];
  const observer: StoreObserver = {
    peerEventApplied: (pk, online, eventTime, appliedTime, flapCount) =>
      applied.push({ kind: 'peer', pubkey: pk, online, eventTime, appliedTime, flapCount }),
    channelEventApplied: (opened, pk, cp, eventTime, appliedTime, flapCount) =>
      applied.push({
        kind: 'channel',
        opened,
        pubkey: pk,
        channelPoint: cp,
        eventTime,
        appliedTime,
        flapCount,
      }),
  };
  const store = new ChannelEventStore({
    node: 'alice',
    clock: new TestClock(TEST_NOW),
    observer,
  });
  const gates = new RecordGate({ read: reader.readOf });
  return { store, gate: gates.of(store), idle: () => gates.idle(), applied };
}

describe('ChannelEventStore: the events it applies, as its observer sees them', () => {
  it('tells each applied event with its applied time and the flap count after it', async () => {
    const { gate, idle, applied } = recordingStore();
    gate.peerEvent(P1, true, T0);
    gate.openChannel(P1, CP1, T0 + SECOND);
    await idle();
    gate.peerEvent(P1, false, T0 + 2 * SECOND);
    gate.peerEvent(P1, true, T0 + SECOND);
    gate.closeChannel(P1, CP1, T0 + 3 * SECOND);
    assert.deepEqual(applied, [
      // Not monitored yet: no flap counted.
      {
        kind: 'peer',
        pubkey: P1,
        online: true,
        eventTime: T0,
        appliedTime: T0,
        flapCount: undefined,
      },
      // The open creates the monitor: one flap.
      {
        kind: 'channel',
        opened: true,
        pubkey: P1,
        channelPoint: CP1,
        eventTime: T0 + SECOND,
        appliedTime: T0 + SECOND,
        flapCount: 1,
      },
      {
        kind: 'peer',
        pubkey: P1,
        online: false,
        eventTime: T0 + 2 * SECOND,
        appliedTime: T0 + 2 * SECOND,
        flapCount: 2,
      },
      // Late: applied at the peer's latest time.
      {
        kind: 'peer',
        pubkey: P1,
        online: true,
        eventTime: T0 + SECOND,
        appliedTime: T0 + 2 * SECOND,
        flapCount: 3,
      },
      {
        kind: 'channel',
        opened: false,
        pubkey: P1,
        channelPoint: CP1,
        eventTime: T0 + 3 * SECOND,
        appliedTime: T0 + 3 * SECOND,
        flapCount: 3,
      },
    ]);
  });

  it('tells events waiting for a record read once they are applied, with the persisted count', async () => {
    const reader = new RecordReader();
    reader.records.set(P1, { count: 10, lastFlap: T0 });
    const { gate, idle, applied } = recordingStore(reader);
    gate.openChannel(P1, CP1, T0 + SECOND);
    gate.peerEvent(P1, true, T0 + 2 * SECOND);
    assert.equal(applied.length, 0, 'nothing is applied before the read');
    await idle();
    assert.deepEqual(
      applied.map((a) => [a.kind, a.flapCount]),
      [
        ['channel', 11],
        ['peer', 12],
      ],
    );
  });

  it('tells nothing of what it rejects or what changes nothing', async () => {
    const { gate, idle, applied } = recordingStore();
    gate.openChannel(P1, CP1, T0);
    await idle();
    applied.length = 0;
    gate.openChannel(P2, CP1, T0 + SECOND);
    gate.closeChannel(P1, CP2, T0 + SECOND);
    gate.closeChannel(P2, CP1, T0 + SECOND);
    // The start-up listing repeats a channel opened by an event.
    gate.openChannel(P1, CP1, T0 + SECOND, 'bootstrap');
    await idle();
    assert.deepEqual(applied, []);
  });

  it('does not tell journaled events again when they are applied on top of a late restore', async () => {
    const { store, gate, idle, applied } = recordingStore();
    store.beginJournal(100);
    gate.openChannel(P1, CP1, T0);
    await idle();
    gate.peerEvent(P1, true, T0 + SECOND);
    assert.equal(applied.length, 2);
    store.rebase([]);
    assert.equal(store.peer(P1)?.flapCount, 2, 'the events were applied again');
    assert.equal(applied.length, 2);
    gate.peerEvent(P1, false, T0 + 2 * SECOND);
    assert.equal(applied.length, 3);
  });
});
