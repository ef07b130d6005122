/**
 * lnd's own uptime and lifetime of each channel through the real NATS: a fake
 * bridge answers the node's `rpc.list_channels` with lnd's ListChannels JSON
 * (int64 figures as strings), and the exporter's pipeline (core subscriptions,
 * ingest, node requests, /metrics) exposes them beside its own figures. After
 * an lnd restart (the bridge's `down`, then `up`) the node is listed again: lnd's
 * figures restart, ours go on. Events and statuses carry their payload time
 * and the stores a TestClock, so every figure is the test's.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { EventIngest } from '../../src/ingest/event-ingest.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import { LndListings } from '../../src/ingest/lnd-listings.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { Exposition } from '../../src/metrics/exposition.js';
import { nodeRequests } from '../../src/nats/bootstrap-requests.js';
import { ConnectionState } from '../../src/nats/connection-state.js';
import { subscribeEvents } from '../../src/nats/event-subscription.js';
import { FlushStats } from '../../src/persistence/flush-stats.js';
import { parseExposition } from '../metrics/text-format-parser.js';
import { eventually } from '../support/eventually.js';
import { captureLogger } from '../support/log-capture.js';
import { bytes, lndChannel, listPeersJson, openChannelJson } from '../support/lnd-json.js';
import { channelPoint, pubkey, RecordReader, nodeStores } from '../support/store-fixture.js';
import { HOUR, MINUTE, TEST_NOW, TestClock } from '../support/test-clock.js';

const SHARED_NATS = 'nats://127.0.0.1:4222';
const T0 = TEST_NOW;
const NODE = 'carol';
const P1 = pubkey(11);
const P2 = pubkey(12);
const C1 = channelPoint(11);
const C2 = channelPoint(12);

const status = (up: boolean, time: number) => ({
  lnd: up ? 'up' : 'down',
  timestamp: new Date(time).toISOString(),
});

/** One lnrpc.Channel as lnd's REST API prints it, with lnd's own figures as given. */
function listed(pk: string, point: string, uptime: unknown, lifetime: unknown) {
  return { ...lndChannel(pk, point), uptime, lifetime };
}

describe('lnd own figures through NATS (real NATS, a fake bridge)', function () {
  this.timeout(30_000);
  const clock = new TestClock(T0);
  const log = captureLogger();
  let nc: NatsConnection;
  let bridge: NatsConnection;
  let publisher: NatsConnection;
  let ingest: EventIngest;
  let subscriptions: Subscription[] = [];
  let exposition: Exposition;
  let prefix: string;
  /** What lnd's ListChannels answers now: its own figures of the two channels. */
  let lndChannels: unknown[] = [];
  let listChannelsAsked = 0;

  before(async () => {
    prefix = `test${randomBytes(4).toString('hex')}.lnd`;
    nc = await connect({ servers: SHARED_NATS });
    publisher = await connect({ servers: SHARED_NATS });
    bridge = await connect({ servers: SHARED_NATS });
    bridge.subscribe(`${prefix}.${NODE}.rpc.list_channels`, {
      callback: (_e, m) => {
        listChannelsAsked += 1;
        // lnd's ListChannels JSON, which the bridge relays as lnd returns it.
        m.respond(bytes({ channels: lndChannels }));
      },
    });
    bridge.subscribe(`${prefix}.${NODE}.rpc.list_peers`, {
      callback: (_e, m) => m.respond(bytes(listPeersJson([P1]))),
    });
    await bridge.flush();

    const reader = new RecordReader();
    const bootstrapPeers = new BootstrapPeers();
    const stores = nodeStores(clock, bootstrapPeers);
    const state = new ConnectionState();
    const requests = nodeRequests(nc, { prefix, timeoutMs: 2_000, logger: log.logger, state });
    // No periodic refresh within the hours this test sets the clock through (the
    // refreshes are test/ingest/lnd-listings.test.ts's): only the bootstrap and lnd's
    // restart ask.
    const lndListings = new LndListings({
      clock,
      listChannels: requests.listChannels,
      refreshIntervalMs: 24 * HOUR,
    });
    const stats = new IngestStats();
    const gate = new RecordGate({ read: reader.readOf });
    ingest = new EventIngest({
      stores,
      gate,
      bootstrapPeers,
      bootstrap: requests.bootstrap,
      clock,
      stats,
      logger: log.logger,
      lndListings,
    });
    subscriptions = subscribeEvents(nc, prefix, ingest, log.logger);
    await nc.flush();
    exposition = new Exposition({
      stores,
      ingest: stats,
      flush: new FlushStats(),
      connection: state,
      clock,
      lnd: lndListings,
    });
  });

  after(async () => {
    ingest.stop();
    for (const s of subscriptions) s.unsubscribe();
    await publisher.drain();
    await bridge.drain();
    await nc.drain();
  });

  /** The node's series of a family: channel point -> value. */
  async function series(name: string): Promise<Map<string, number>> {
    const families = parseExposition(await exposition.renderToString());
    const out = new Map<string, number>();
    for (const s of families.get(name)?.samples ?? []) {
      if (s.labels.node === NODE) out.set(s.labels.channel_point ?? '', s.value);
    }
    return out;
  }

  it('exposes the uptime and lifetime lnd lists, then lnd reset after its restart while ours goes on', async () => {
    // lnd has run for an hour: C1 since its start; C2's figures are malformed (ignored, not the channel).
    lndChannels = [listed(P1, C1, '3500', '3600'), listed(P2, C2, '-1', 'an hour')];
    clock.set(T0 + HOUR);
    // The node's first message: the open of C1 an hour ago, held while the node is bootstrapped.
    publisher.publish(`${prefix}.${NODE}.channel_events`, bytes(openChannelJson(P1, C1, T0)));
    await publisher.flush();
    await eventually(
      async () => (await series('chanfitness_lnd_channel_lifetime_seconds')).size === 1,
      'the bootstrap listing',
    );
    assert.equal(listChannelsAsked, 1);
    assert.deepEqual(await series('chanfitness_lnd_channel_uptime_seconds'), new Map([[C1, 3500]]));
    assert.deepEqual(
      await series('chanfitness_lnd_channel_lifetime_seconds'),
      new Map([[C1, 3600]]),
    );
    // Ours: both channels are tracked, C1 from its open an hour ago.
    const ours = await series('chanfitness_channel_lifetime_seconds');
    assert.deepEqual(
      ours,
      new Map([
        [C1, 3600],
        [C2, 3600],
      ]),
    );

    // The bridge's heartbeats while lnd is up ask nothing more (its first status 20 s
    // before lnd stops: a heartbeat missing for --observer.timeout would be a gap of its own).
    clock.set(T0 + 2 * HOUR);
    publisher.publish(`${prefix}.${NODE}.status`, bytes(status(true, T0 + 2 * HOUR - 20_000)));
    publisher.publish(`${prefix}.${NODE}.status`, bytes(status(true, T0 + 2 * HOUR - 5_000)));
    // lnd stops at 2 h and is back a minute later: its figures start again.
    publisher.publish(`${prefix}.${NODE}.status`, bytes(status(false, T0 + 2 * HOUR)));
    await publisher.flush();
    await eventually(async () => {
      const families = parseExposition(await exposition.renderToString());
      const down = families
        .get('chanfitness_events_total')
        ?.samples.find((s) => s.labels.type === 'LND_DOWN');
      return down?.value === 1;
    }, 'the down status applied');
    assert.equal(listChannelsAsked, 1);
    lndChannels = [listed(P1, C1, '0', '1'), listed(P2, C2, '0', '1')];
    clock.set(T0 + 2 * HOUR + MINUTE);
    publisher.publish(`${prefix}.${NODE}.status`, bytes(status(true, T0 + 2 * HOUR + MINUTE)));
    await publisher.flush();
    await eventually(
      async () => (await series('chanfitness_lnd_channel_lifetime_seconds')).get(C1) === 1,
      'the listing after lnd came back',
    );
    assert.equal(listChannelsAsked, 2);
    assert.deepEqual(
      await series('chanfitness_lnd_channel_lifetime_seconds'),
      new Map([
        [C1, 1],
        [C2, 1],
      ]),
    );
    assert.deepEqual(
      await series('chanfitness_lnd_channel_uptime_seconds'),
      new Map([
        [C1, 0],
        [C2, 0],
      ]),
    );
    // Ours continues: two hours observed (the time lnd was down is a gap, neither up nor down).
    const after = await series('chanfitness_channel_lifetime_seconds');
    assert.equal(after.get(C1), 2 * 3600);
    assert.equal(after.get(C2), 2 * 3600);
    const families = parseExposition(await exposition.renderToString());
    assert.equal(
      families.get('chanfitness_lnd_listing_timestamp_seconds')?.samples[0]?.value,
      (T0 + 2 * HOUR + MINUTE) / 1000,
    );
  });
});
