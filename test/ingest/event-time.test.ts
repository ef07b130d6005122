import assert from 'node:assert/strict';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { EventIngest, type EventSubject } from '../../src/ingest/event-ingest.js';
import {
  eventTime,
  MAX_FUTURE_MS,
  MIN_EVENT_TIME_MS,
  plausiblePayloadTime,
} from '../../src/ingest/event-time.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { captureLogger } from '../support/log-capture.js';
import { bytes, openChannelJson } from '../support/lnd-json.js';
import { channelPoint, pubkey, RecordReader, nodeStores } from '../support/store-fixture.js';
import { TEST_NOW, TestClock } from '../support/test-clock.js';

const GENESIS = '2009-01-03T18:15:05Z';
const NODE = 'alice';

describe('event time bounds', () => {
  it("puts the earliest event time at Bitcoin's genesis block", () => {
    assert.equal(MIN_EVENT_TIME_MS, Date.parse(GENESIS));
    assert.equal(new Date(MIN_EVENT_TIME_MS).toISOString(), '2009-01-03T18:15:05.000Z');
  });

  it('takes a payload time from the genesis block on, and none at all', () => {
    assert.equal(plausiblePayloadTime(MIN_EVENT_TIME_MS), true);
    assert.equal(plausiblePayloadTime(MIN_EVENT_TIME_MS - 1), false);
    assert.equal(plausiblePayloadTime(MIN_EVENT_TIME_MS - 0.001), false);
    assert.equal(plausiblePayloadTime(Date.parse('0001-01-01T00:00:00Z')), false);
    assert.equal(plausiblePayloadTime(0), false);
    assert.equal(plausiblePayloadTime(undefined), true);
    // The fallbacks are not payload times.
    assert.equal(eventTime(undefined, undefined, 5), 5);
  });
});

describe('EventIngest timestamps at the bounds', () => {
  const clock = new TestClock(TEST_NOW);
  const stats = new IngestStats();
  const log = captureLogger();
  const bootstrapPeers = new BootstrapPeers();
  const stores = nodeStores(clock, bootstrapPeers);
  const gate = new RecordGate({ read: new RecordReader().readOf });
  const ingest = new EventIngest({
    stores,
    gate,
    bootstrapPeers,
    clock,
    stats,
    logger: log.logger,
    bootstrap: () => Promise.resolve({ channels: [], onlinePeers: new Set() }),
  });
  const send = (subject: EventSubject, payload: unknown) => {
    ingest.handle({ node: NODE, subject, data: bytes(payload) });
  };
  const open = (n: number, timestamp: string) => {
    send('channel_events', { ...openChannelJson(pubkey(n), channelPoint(n)), timestamp });
  };
  const settle = async () => {
    await new Promise(setImmediate);
    await gate.idle(NODE);
  };
  after(() => {
    ingest.stop();
  });

  it('rejects a time one millisecond before the genesis block as invalid_timestamp, on every path', async () => {
    const before = '2009-01-03T18:15:04.999Z';
    open(1, before);
    open(2, '0001-01-01T00:00:00Z');
    // lnd's printed layouts, which the fast paths read.
    send('peer_events', `{"pub_key":"${pubkey(3)}","type":"PEER_ONLINE","timestamp":"${before}"}`);
    send(
      'channel_events',
      `{"result":{"active_channel":{"funding_txid_str":"${'ab'.repeat(32)}","output_index":0},"type":"ACTIVE_CHANNEL","timestamp":"0001-01-01T00:00:00Z"}}`,
    );
    await settle();
    assert.equal(stats.rejected.get('invalid_timestamp'), 4);
    // Nothing applied: no node store either, as for any message that is rejected.
    assert.equal(stores.get(NODE), undefined);
    const line = log.lines().find((l) => l.reason === 'invalid_timestamp');
    assert.match(String(line?.err), /before Bitcoin's genesis block, 2009-01-03T18:15:05Z/);
  });

  it('applies a time exactly at the genesis block', async () => {
    open(4, GENESIS);
    await settle();
    assert.equal(stats.rejected.get('invalid_timestamp'), 4);
    const channel = stores.get(NODE)?.channel(channelPoint(4));
    assert.equal(channel?.openedAt, MIN_EVENT_TIME_MS);
    assert.equal(stats.applied.get(NODE)?.get('channel')?.get('OPEN_CHANNEL'), 1);
  });

  it('rejects a time however far in the future as future_timestamp, and applies 5 minutes ahead', async () => {
    open(5, '9999-12-31T23:59:59.999999999Z');
    open(6, '9999-12-31T23:59:59-23:59');
    await settle();
    assert.equal(stats.rejected.get('future_timestamp'), 2);
    assert.equal(stores.get(NODE)?.channel(channelPoint(5)), undefined);
    assert.equal(stores.get(NODE)?.channel(channelPoint(6)), undefined);
    open(7, new Date(TEST_NOW + MAX_FUTURE_MS).toISOString());
    await settle();
    assert.equal(stats.rejected.get('future_timestamp'), 2);
    // Ahead of the clock: lifetime 0, not negative, until its time comes.
    assert.deepEqual(stores.get(NODE)?.getChanInfo(channelPoint(7), pubkey(7)), {
      lifetime: 0,
      uptime: 0,
    });
  });
});
