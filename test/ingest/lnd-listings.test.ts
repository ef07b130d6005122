import assert from 'node:assert/strict';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { EventIngest, type EventSubject } from '../../src/ingest/event-ingest.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import { DEFAULT_LND_REFRESH_MS, LndListings } from '../../src/ingest/lnd-listings.js';
import type { NodeSnapshot } from '../../src/ingest/node-snapshot.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import type { ListedChannel } from '../../src/lnd/messages.js';
import { Exposition } from '../../src/metrics/exposition.js';
import { ConnectionState } from '../../src/nats/connection-state.js';
import { FlushStats } from '../../src/persistence/flush-stats.js';
import { parseExposition, type Family } from '../metrics/text-format-parser.js';
import { captureLogger } from '../support/log-capture.js';
import { bytes, closedChannelJson, openChannelJson, peerEventJson } from '../support/lnd-json.js';
import { channelPoint, pubkey, RecordReader, nodeStores } from '../support/store-fixture.js';
import { HOUR, MINUTE, TEST_NOW, TestClock } from '../support/test-clock.js';

const NODE = 'alice';
const P1 = pubkey(1);
const P2 = pubkey(2);
const C1 = channelPoint(1);
const C2 = channelPoint(2);
const C3 = channelPoint(3);

/** A reply the test gives when it wants: a bootstrap or a listing in flight. */
class Pending<T> {
  private readonly waiting: ((value: T) => void)[] = [];
  calls = 0;
  ask = (): Promise<T> => {
    this.calls += 1;
    return new Promise((resolve) => this.waiting.push(resolve));
  };
  get asking(): number {
    return this.waiting.length;
  }
  answer(value: T): void {
    const resolve = this.waiting.shift();
    assert.ok(resolve, 'a request is in flight');
    resolve(value);
  }
}

/** A listed channel with lnd's own figures (seconds), as decodeListChannels gives it. */
function lnd(pk: string, point: string, uptime?: number, lifetime?: number): ListedChannel {
  return {
    pubkey: pk,
    channelPoint: point,
    ...(uptime === undefined ? {} : { uptimeSeconds: uptime }),
    ...(lifetime === undefined ? {} : { lifetimeSeconds: lifetime }),
  };
}

/** The ingest as the service wires it: bootstrap and listings answered by the test, and /metrics. */
function harness(options: { restored?: boolean } = {}) {
  const clock = new TestClock(TEST_NOW);
  const reader = new RecordReader();
  const bootstrapPeers = new BootstrapPeers();
  const stores = nodeStores(clock, bootstrapPeers);
  const bootstrap = new Pending<NodeSnapshot | undefined>();
  const listing = new Pending<readonly ListedChannel[] | undefined>();
  const lndListings = new LndListings({ clock, listChannels: listing.ask });
  const stats = new IngestStats();
  const gate = new RecordGate({ read: reader.readOf });
  const ingest = new EventIngest({
    stores,
    gate,
    bootstrapPeers,
    bootstrap: bootstrap.ask,
    clock,
    stats,
    logger: captureLogger().logger,
    lndListings,
  });
  if (options.restored === true) ingest.restoredNodes([NODE], 'replay');
  const exposition = new Exposition({
    stores,
    ingest: stats,
    flush: new FlushStats(),
    connection: new ConnectionState(),
    clock,
    lnd: lndListings,
  });
  const send = (subject: EventSubject, payload: unknown): void => {
    ingest.handle({ node: NODE, subject, data: bytes(payload) });
  };
  const settle = async (): Promise<void> => {
    await new Promise(setImmediate);
    await gate.idle(NODE);
  };
  const scrape = async (): Promise<Map<string, Family>> =>
    parseExposition(await exposition.renderToString());
  return { clock, stores, bootstrap, listing, lndListings, ingest, send, settle, scrape };
}

/** Channel point -> value of a family's samples of the node, each checked to carry its peer. */
function valuesOf(families: Map<string, Family>, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of families.get(name)?.samples ?? []) {
    assert.equal(s.labels.node, NODE);
    assert.match(s.labels.peer ?? '', /^0[23][0-9a-f]{64}$/);
    out.set(s.labels.channel_point ?? '', s.value);
  }
  return out;
}

const UPTIME = 'chanfitness_lnd_channel_uptime_seconds';
const LIFETIME = 'chanfitness_lnd_channel_lifetime_seconds';
const LISTED_AT = 'chanfitness_lnd_listing_timestamp_seconds';
const OURS = 'chanfitness_channel_lifetime_seconds';

function listedAt(families: Map<string, Family>): number | undefined {
  return families.get(LISTED_AT)?.samples.find((s) => s.labels.node === NODE)?.value;
}

const statusJson = (up: boolean, time: number) => ({
  lnd: up ? 'up' : 'down',
  timestamp: new Date(time).toISOString(),
});

describe('lnd own figures (ListChannels uptime and lifetime)', () => {
  it('exports them after a bootstrap, as lnd reported them at its listing, beside ours', async () => {
    const h = harness();
    h.send('peer_events', peerEventJson(P1, true, TEST_NOW));
    await h.settle();
    h.clock.advance(2_000);
    h.bootstrap.answer({
      channels: [lnd(P1, C1, 3000, 3600), lnd(P2, C2, 0, 0)],
      channelsListed: true,
      onlinePeers: new Set([P1]),
    });
    await h.settle();

    // An hour later: ours moved on, lnd's are those of its listing.
    h.clock.advance(HOUR);
    const families = await h.scrape();
    assert.deepEqual(
      valuesOf(families, UPTIME),
      new Map([
        [C1, 3000],
        [C2, 0],
      ]),
    );
    assert.deepEqual(
      valuesOf(families, LIFETIME),
      new Map([
        [C1, 3600],
        [C2, 0],
      ]),
    );
    const peers = families.get(UPTIME)?.samples.map((s) => s.labels.peer);
    assert.deepEqual(peers, [P1, P2]);
    assert.equal(listedAt(families), (TEST_NOW + 2_000) / 1000);
    // Ours counts from the bootstrap (the first held event's time): 1 h 2 s.
    assert.equal(valuesOf(families, OURS).get(C1), 3602);
    h.ingest.stop();
  });

  it('leaves out figures the listing lacked, and takes none from a bootstrap without a listing', async () => {
    const h = harness();
    h.ingest.ensureNode(NODE);
    // list_channels unanswered: the snapshot has no listing, nothing is recorded.
    h.bootstrap.answer({
      channels: [],
      channelsListed: false,
      onlinePeers: new Set(),
      incomplete: true,
    });
    await h.settle();
    let families = await h.scrape();
    assert.equal(families.get(UPTIME)?.samples.length, 0);
    assert.equal(listedAt(families), undefined);

    // The retry gets it: a channel with only a lifetime, one with neither.
    await h.clock.tickAsync(5_000);
    h.bootstrap.answer({
      channels: [lnd(P1, C1, undefined, 60), lnd(P2, C2)],
      channelsListed: true,
      onlinePeers: new Set(),
    });
    await h.settle();
    families = await h.scrape();
    assert.deepEqual(valuesOf(families, UPTIME), new Map());
    assert.deepEqual(valuesOf(families, LIFETIME), new Map([[C1, 60]]));
    assert.equal(listedAt(families), (TEST_NOW + 5_000) / 1000);
    h.ingest.stop();
  });

  it('lists the node again when its bridge reports lnd back after a down: lnd reset, ours goes on', async () => {
    const h = harness();
    h.ingest.ensureNode(NODE);
    h.bootstrap.answer({
      channels: [lnd(P1, C1, 7000, 7200)],
      channelsListed: true,
      onlinePeers: new Set([P1]),
    });
    await h.settle();
    const t = h.clock.now();
    // Heartbeats while lnd is up ask nothing.
    h.send('status', statusJson(true, t));
    h.send('status', statusJson(true, t + 15_000));
    await h.settle();
    assert.equal(h.listing.calls, 0);

    // lnd restarts: down, then up a minute later.
    h.clock.set(t + 2 * MINUTE);
    h.send('status', statusJson(false, t + MINUTE));
    h.send('status', statusJson(true, t + 2 * MINUTE));
    await h.settle();
    assert.equal(h.listing.calls, 1);
    h.clock.advance(1_000);
    h.listing.answer([lnd(P1, C1, 1, 1)]);
    await h.settle();
    const families = await h.scrape();
    assert.deepEqual(valuesOf(families, LIFETIME), new Map([[C1, 1]]));
    assert.deepEqual(valuesOf(families, UPTIME), new Map([[C1, 1]]));
    assert.equal(listedAt(families), (t + 2 * MINUTE + 1_000) / 1000);
    // Ours was not reset by lnd's restart.
    assert.ok(
      (valuesOf(families, OURS).get(C1) ?? 0) >= 60,
      JSON.stringify([...valuesOf(families, OURS)]),
    );
    h.ingest.stop();
  });

  it('lists again after a silence of the bridge, and once more when lnd comes back during a listing', async () => {
    const h = harness();
    h.ingest.ensureNode(NODE);
    h.bootstrap.answer({
      channels: [lnd(P1, C1, 10, 10)],
      channelsListed: true,
      onlinePeers: new Set(),
    });
    await h.settle();
    const t = h.clock.now();
    h.send('status', statusJson(true, t));
    await h.settle();
    // No status for the observer timeout: the node is unobserved from its last one.
    h.clock.set(t + 2 * MINUTE);
    h.ingest.observe();
    h.send('status', statusJson(true, t + 2 * MINUTE));
    await h.settle();
    assert.equal(h.listing.calls, 1, 'listed again when the bridge speaks again');

    // lnd goes down and up again while that listing is in flight: one more listing after it.
    h.send('status', statusJson(false, t + 2 * MINUTE + 1_000));
    h.send('status', statusJson(true, t + 2 * MINUTE + 2_000));
    await h.settle();
    assert.equal(h.listing.calls, 1);
    h.listing.answer([lnd(P1, C1, 500, 500)]);
    await h.settle();
    assert.equal(h.listing.calls, 2);
    h.listing.answer([lnd(P1, C1, 2, 2)]);
    await h.settle();
    assert.deepEqual(valuesOf(await h.scrape(), LIFETIME), new Map([[C1, 2]]));
    h.ingest.stop();
  });

  it('refreshes every 15 minutes after the last listing, and keeps the last figures when one fails', async () => {
    const h = harness();
    h.ingest.ensureNode(NODE);
    h.bootstrap.answer({
      channels: [lnd(P1, C1, 60, 60)],
      channelsListed: true,
      onlinePeers: new Set(),
    });
    await h.settle();
    assert.equal(DEFAULT_LND_REFRESH_MS, 15 * MINUTE);
    await h.clock.tickAsync(15 * MINUTE - 1);
    assert.equal(h.listing.calls, 0);
    await h.clock.tickAsync(1);
    assert.equal(h.listing.calls, 1);
    h.listing.answer([lnd(P1, C1, 960, 960)]);
    await h.settle();
    assert.deepEqual(valuesOf(await h.scrape(), LIFETIME), new Map([[C1, 960]]));

    // The bridge does not answer: the last listing stays, and it is asked 15 minutes later.
    await h.clock.tickAsync(15 * MINUTE);
    assert.equal(h.listing.calls, 2);
    h.listing.answer(undefined);
    await h.settle();
    const families = await h.scrape();
    assert.deepEqual(valuesOf(families, LIFETIME), new Map([[C1, 960]]));
    assert.equal(listedAt(families), (TEST_NOW + 15 * MINUTE) / 1000);
    await h.clock.tickAsync(15 * MINUTE);
    assert.equal(h.listing.calls, 3);

    // Stopped: nothing is asked any more.
    h.listing.answer(undefined);
    await h.settle();
    h.ingest.stop();
    await h.clock.tickAsync(HOUR);
    assert.equal(h.listing.calls, 3);
  });

  it('drops a channel that closes, also from a listing that was in flight, and bounds the figures by the listing', async () => {
    const h = harness();
    h.ingest.ensureNode(NODE);
    h.bootstrap.answer({
      channels: [lnd(P1, C1, 10, 20), lnd(P2, C2, 30, 40)],
      channelsListed: true,
      onlinePeers: new Set(),
    });
    await h.settle();
    h.send('channel_events', closedChannelJson(P1, C1, h.clock.now()));
    await h.settle();
    assert.deepEqual([...valuesOf(await h.scrape(), LIFETIME).keys()], [C2]);

    // A listing in flight that lnd made before C2 closed and C3 opened and closed.
    await h.clock.tickAsync(15 * MINUTE);
    assert.equal(h.listing.calls, 1);
    h.send('channel_events', openChannelJson(P1, C3, h.clock.now()));
    await h.settle();
    h.send('channel_events', closedChannelJson(P2, C2, h.clock.now()));
    h.send('channel_events', closedChannelJson(P1, C3, h.clock.now()));
    await h.settle();
    h.listing.answer([lnd(P2, C2, 31, 41), lnd(P1, C3, 0, 0)]);
    await h.settle();
    // C3 opened while that listing was in flight: listed again 5 s after it, not at once.
    assert.equal(h.listing.calls, 1);
    await h.clock.tickAsync(5_000);
    assert.equal(h.listing.calls, 2);
    const families = await h.scrape();
    assert.equal(families.get(LIFETIME)?.samples.length, 0);
    assert.equal(families.get(UPTIME)?.samples.length, 0);
    // The listing itself is recorded (its time), with no channel left.
    assert.notEqual(listedAt(families), undefined);

    // A later listing replaces the whole set: a channel it no longer lists is gone.
    h.listing.answer([lnd(P1, channelPoint(4), 5, 6)]);
    await h.settle();
    assert.deepEqual([...valuesOf(await h.scrape(), LIFETIME).keys()], [channelPoint(4)]);
    await h.clock.tickAsync(15 * MINUTE);
    h.listing.answer([]);
    await h.settle();
    assert.equal((await h.scrape()).get(LIFETIME)?.samples.length, 0);
    h.ingest.stop();
  });

  it('lists the node 5 s after a channel its listing lacks opened, once for a burst of opens', async () => {
    const h = harness();
    h.ingest.ensureNode(NODE);
    h.bootstrap.answer({
      channels: [lnd(P1, C1, 9, 9)],
      channelsListed: true,
      onlinePeers: new Set(),
    });
    await h.settle();
    // An open of a channel lnd already listed asks nothing.
    h.send('channel_events', openChannelJson(P1, C1, h.clock.now()));
    await h.settle();
    await h.clock.tickAsync(10_000);
    assert.equal(h.listing.calls, 0);
    // Three new channels within a second: one listing, 5 s after the first.
    h.send('channel_events', openChannelJson(P2, C2, h.clock.now()));
    await h.clock.tickAsync(500);
    h.send('channel_events', openChannelJson(P2, C3, h.clock.now()));
    h.send('channel_events', openChannelJson(P2, channelPoint(4), h.clock.now()));
    await h.settle();
    await h.clock.tickAsync(4_499);
    assert.equal(h.listing.calls, 0);
    await h.clock.tickAsync(1);
    assert.equal(h.listing.calls, 1);
    h.listing.answer([lnd(P1, C1, 14, 14), lnd(P2, C2, 5, 5), lnd(P2, C3, 4, 4)]);
    await h.settle();
    assert.deepEqual(
      valuesOf(await h.scrape(), LIFETIME),
      new Map([
        [C1, 14],
        [C2, 5],
        [C3, 4],
      ]),
    );
    // Then the 15-minute refresh again, nothing sooner.
    await h.clock.tickAsync(15 * MINUTE - 1);
    assert.equal(h.listing.calls, 1);
    await h.clock.tickAsync(1);
    assert.equal(h.listing.calls, 2);
    h.ingest.stop();
  });

  it('lists a restored node replayed from JetStream at once: it has no bootstrap', async () => {
    const h = harness({ restored: true });
    h.send('peer_events', peerEventJson(P1, true, TEST_NOW));
    await h.settle();
    assert.equal(h.bootstrap.calls, 0);
    assert.equal(h.listing.calls, 1);
    h.listing.answer([lnd(P1, C1, 7, 8)]);
    await h.settle();
    assert.deepEqual(valuesOf(await h.scrape(), UPTIME), new Map([[C1, 7]]));
    h.ingest.stop();
  });

  it('keeps a newer listing when an older request answers after it', () => {
    const clock = new TestClock(TEST_NOW);
    const listings = new LndListings({ clock, listChannels: () => Promise.resolve(undefined) });
    const older = listings.begin(NODE);
    const newer = listings.begin(NODE);
    listings.end(newer, [lnd(P1, C1, 2, 2)], TEST_NOW + 2);
    listings.end(older, [lnd(P1, C1, 1, 1)], TEST_NOW + 3);
    assert.equal(listings.listing(NODE)?.time, TEST_NOW + 2);
    assert.equal(listings.listing(NODE)?.channels.get(C1)?.uptimeSeconds, 2);
    listings.stop();
  });
});
