import assert from 'node:assert/strict';
import sinon from 'sinon';
import { REJECT_REASONS } from '../../src/lnd/reject-reason.js';
import {
  CHANFITNESS_FAMILIES,
  DEFAULT_FAMILIES,
  METRIC_FAMILY_NAMES,
  METRIC_SERIES_NAMES,
} from '../../src/metrics/metric-families.js';
import { StringSink } from '../../src/metrics/text-sink.js';
import type { PeerView } from '../../src/store/peer-monitor.js';
import { HOUR, T0, listLnd, makeSources, populate, pubkey, type TestSources } from './fixtures.js';
import { parseExposition, type Family, type Sample } from './text-format-parser.js';

const PEER = pubkey(1);
const CHANNEL = `${'ab'.repeat(32)}:1`;

function family(families: Map<string, Family>, name: string): Family {
  const found = families.get(name);
  assert.ok(found, `family ${name} missing`);
  return found;
}

function only(families: Map<string, Family>, name: string, labels: Record<string, string>): Sample {
  const matching = family(families, name).samples.filter((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.equal(matching.length, 1, `${name}${JSON.stringify(labels)}: ${matching.length} samples`);
  return matching[0]!;
}

/** Channel open with the peer offline, online from 1 h to 2 h, scraped at 3 h. */
function oneChannelScenario(): TestSources {
  const sources = makeSources();
  const store = sources.stores.getOrCreate('alice');
  store.openChannel(PEER, CHANNEL, T0);
  store.peerEvent(PEER, true, T0 + HOUR);
  store.peerEvent(PEER, false, T0 + 2 * HOUR);
  sources.clock.set(T0 + 3 * HOUR);
  return sources;
}

describe('Exposition', () => {
  it('renders every SPEC 5 family once with its TYPE, labels and values', async () => {
    const sources = oneChannelScenario();
    const alice = sources.stores.get('alice')!;
    // An event older than the peer's latest: applied later, counted as reordered.
    alice.peerEvent(PEER, false, T0 + HOUR);
    sources.ingest.countApplied('alice', 'channel', 'OPEN_CHANNEL');
    sources.ingest.countApplied('alice', 'peer', 'PEER_ONLINE');
    sources.ingest.countApplied('alice', 'peer', 'PEER_ONLINE');
    sources.ingest.countRejected('invalid_json');
    sources.flush.success = 2;
    sources.flush.error = 1;
    sources.flush.lastSuccessAt = T0 + 2.5 * HOUR;
    sources.connection.connected = true;
    sources.connection.bootstrapFailures.set('alice', 2);
    const history = sources.history!;
    history.enabled = true;
    history.restored = true;
    history.restoreDurationMs = 800;
    history.writeSuccess = 3;
    history.lastWriteBytes = 2048;
    history.lastWriteDurationMs = 30;
    history.lastWriteLongestStepMs = 4;
    history.lastSuccessAt = T0 + 2.75 * HOUR;
    sources.store.up = false;
    // lnd's own view, listed 10 minutes before the scrape: it counts from its own restart.
    sources.clock.set(T0 + 3 * HOUR - 600_000);
    listLnd(sources, 'alice', [
      { pubkey: PEER, channelPoint: CHANNEL, uptime: 1200, lifetime: 1800 },
    ]);
    sources.clock.set(T0 + 3 * HOUR);

    const families = parseExposition(await sources.exposition.renderToString());

    for (const expected of CHANFITNESS_FAMILIES) {
      const found = family(families, expected.name);
      assert.equal(found.type, expected.type, expected.name);
      assert.ok(found.help !== undefined && found.help.length > 0, `${expected.name} HELP`);
      for (const sample of found.samples) {
        assert.deepEqual(Object.keys(sample.labels).sort(), [...expected.labels].sort());
      }
      assert.ok(found.samples.length > 0, `${expected.name} has samples`);
    }

    const ch = { node: 'alice', channel_point: CHANNEL, peer: PEER };
    assert.equal(only(families, 'chanfitness_channel_uptime_ratio', ch).value, 1 / 3);
    assert.equal(only(families, 'chanfitness_channel_lifetime_seconds', ch).value, 10800);
    assert.equal(only(families, 'chanfitness_channel_uptime_seconds', ch).value, 3600);
    // Every window reaches before the opening: the lifetime ratio.
    for (const window of ['1d', '7d', '30d']) {
      const w = { ...ch, window };
      assert.equal(only(families, 'chanfitness_channel_window_uptime_ratio', w).value, 1 / 3);
    }

    // Creation, online, offline, the reordered offline: four flaps, the last at 2 h.
    const peer = { node: 'alice', peer: PEER };
    assert.equal(only(families, 'chanfitness_peer_flap_count', peer).value, 4);
    assert.equal(only(families, 'chanfitness_peer_flaps_total', peer).value, 4);
    assert.equal(
      only(families, 'chanfitness_peer_last_flap_timestamp_seconds', peer).value,
      (T0 + 2 * HOUR) / 1000,
    );
    assert.equal(only(families, 'chanfitness_peer_online', peer).value, 0);
    assert.equal(only(families, 'chanfitness_peer_channels', peer).value, 1);

    const events = family(families, 'chanfitness_events_total').samples;
    assert.deepEqual(
      events.map((s) => [s.labels, s.value]),
      [
        [{ node: 'alice', kind: 'channel', type: 'OPEN_CHANNEL' }, 1],
        [{ node: 'alice', kind: 'peer', type: 'PEER_ONLINE' }, 2],
      ],
    );
    const rejected = family(families, 'chanfitness_events_rejected_total').samples;
    assert.deepEqual(rejected.map((s) => s.labels.reason).sort(), [...REJECT_REASONS].sort());
    for (const s of rejected) assert.equal(s.value, s.labels.reason === 'invalid_json' ? 1 : 0);
    assert.equal(only(families, 'chanfitness_events_reordered_total', { node: 'alice' }).value, 1);

    assert.equal(only(families, 'chanfitness_flap_flushes_total', { result: 'success' }).value, 2);
    assert.equal(only(families, 'chanfitness_flap_flushes_total', { result: 'error' }).value, 1);
    assert.equal(
      only(families, 'chanfitness_last_flap_flush_timestamp_seconds', {}).value,
      (T0 + 2.5 * HOUR) / 1000,
    );
    assert.equal(only(families, 'chanfitness_store_up', {}).value, 0);
    assert.equal(only(families, 'chanfitness_nats_connected', {}).value, 1);
    assert.equal(
      only(families, 'chanfitness_bootstrap_failures_total', { node: 'alice' }).value,
      2,
    );
    assert.equal(only(families, 'chanfitness_history_restored', {}).value, 1);
    assert.equal(only(families, 'chanfitness_history_snapshot_age_seconds', {}).value, 900);
    // lnd's figures as lnd reported them at its listing, beside ours.
    assert.equal(only(families, 'chanfitness_lnd_channel_uptime_seconds', ch).value, 1200);
    assert.equal(only(families, 'chanfitness_lnd_channel_lifetime_seconds', ch).value, 1800);
    assert.equal(
      only(families, 'chanfitness_lnd_listing_timestamp_seconds', { node: 'alice' }).value,
      (T0 + 3 * HOUR - 600_000) / 1000,
    );
  });

  it('includes the default process and Node.js metrics, and only listed names', async () => {
    const { exposition } = makeSources();
    const families = parseExposition(await exposition.renderToString());
    for (const expected of DEFAULT_FAMILIES) {
      if (process.platform !== 'linux' && expected.name.endsWith('_fds')) continue;
      assert.equal(family(families, expected.name).type, expected.type, expected.name);
    }
    for (const found of families.values()) {
      assert.ok(
        METRIC_FAMILY_NAMES.includes(found.name),
        `${found.name} not in METRIC_FAMILY_NAMES`,
      );
      for (const s of found.samples) {
        assert.ok(METRIC_SERIES_NAMES.includes(s.name), `${s.name} not in METRIC_SERIES_NAMES`);
      }
    }
  });

  it('reports the empty state: counters at 0, NATS down, no flush yet, no series per channel', async () => {
    const { exposition } = makeSources();
    const families = parseExposition(await exposition.renderToString());
    for (const expected of CHANFITNESS_FAMILIES) {
      assert.equal(family(families, expected.name).type, expected.type);
    }
    assert.equal(family(families, 'chanfitness_channel_lifetime_seconds').samples.length, 0);
    assert.equal(family(families, 'chanfitness_peer_flap_count').samples.length, 0);
    assert.equal(
      family(families, 'chanfitness_last_flap_flush_timestamp_seconds').samples.length,
      0,
    );
    assert.equal(only(families, 'chanfitness_nats_connected', {}).value, 0);
    assert.equal(only(families, 'chanfitness_store_up', {}).value, 1);
    assert.equal(only(families, 'chanfitness_flap_flushes_total', { result: 'success' }).value, 0);
    assert.equal(only(families, 'chanfitness_flap_flushes_total', { result: 'error' }).value, 0);
    assert.equal(
      family(families, 'chanfitness_events_rejected_total').samples.length,
      REJECT_REASONS.length,
    );
  });

  it('leaves the ratio out while the lifetime is 0', async () => {
    const sources = makeSources();
    const store = sources.stores.getOrCreate('bob');
    store.openChannel(PEER, CHANNEL, T0);
    const families = parseExposition(await sources.exposition.renderToString());
    const ch = { node: 'bob', channel_point: CHANNEL, peer: PEER };
    assert.equal(family(families, 'chanfitness_channel_uptime_ratio').samples.length, 0);
    assert.equal(family(families, 'chanfitness_channel_window_uptime_ratio').samples.length, 0);
    assert.equal(only(families, 'chanfitness_channel_lifetime_seconds', ch).value, 0);
    assert.equal(only(families, 'chanfitness_channel_uptime_seconds', ch).value, 0);
  });

  it('leaves the last flap out for a peer without one', async () => {
    const sources = oneChannelScenario();
    const store = sources.stores.get('alice')!;
    const real = store.peer(PEER)!;
    const neverFlapped: PeerView = Object.create(real, {
      lastFlap: { value: undefined },
    }) as PeerView;
    sinon.stub(store, 'peers').callsFake(() => [neverFlapped].values());
    const families = parseExposition(await sources.exposition.renderToString());
    assert.equal(
      family(families, 'chanfitness_peer_last_flap_timestamp_seconds').samples.length,
      0,
    );
    assert.equal(only(families, 'chanfitness_peer_flap_count', { peer: PEER }).value, 3);
  });

  it('escapes label values', async () => {
    const sources = makeSources();
    const node = 'we"ird\\node\nname';
    const store = sources.stores.getOrCreate(node);
    store.openChannel(PEER, CHANNEL, T0);
    sources.ingest.countApplied(node, 'channel', 'OPEN_CHANNEL');
    sources.clock.set(T0 + HOUR);
    const text = await sources.exposition.renderToString();
    assert.ok(text.includes('node="we\\"ird\\\\node\\nname"'));
    const families = parseExposition(text);
    assert.equal(only(families, 'chanfitness_channel_lifetime_seconds', { node }).value, 3600);
    assert.equal(only(families, 'chanfitness_peer_online', { node }).value, 0);
    assert.equal(only(families, 'chanfitness_events_total', { node }).value, 1);
    assert.equal(only(families, 'chanfitness_events_reordered_total', { node }).value, 0);
  });

  it('writes the same text whatever the chunk size, in many chunks', async () => {
    const small = makeSources({ chunkChars: 512 });
    const large = makeSources();
    for (const sources of [small, large]) {
      populate(sources, 'alice', 300, 50);
      populate(sources, 'bob', 200, 70);
    }
    const chanfitnessLines = (text: string): string =>
      text
        .split('\n')
        .filter((l) => l.includes('chanfitness_'))
        .join('\n');
    const chunks: Buffer[] = [];
    await small.exposition.write({
      write(chunk) {
        chunks.push(chunk);
        return undefined;
      },
    });
    assert.ok(chunks.length > 50, `${chunks.length} chunks`);
    const smallText = Buffer.concat(chunks).toString('utf8');
    parseExposition(smallText);
    assert.equal(
      chanfitnessLines(smallText),
      chanfitnessLines(await large.exposition.renderToString()),
    );
  });

  it('renders 100k channels as valid text, yielding to the event loop', async function () {
    this.timeout(60_000);
    const sources = makeSources();
    populate(sources, 'big', 100_000, 10_000);

    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    let running = true;
    const tick = (): void => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks += 1;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const started = performance.now();
    const sink = new StringSink();
    await sources.exposition.write(sink);
    const elapsed = performance.now() - started;
    running = false;
    const text = sink.text();

    const families = parseExposition(text);
    assert.equal(family(families, 'chanfitness_channel_uptime_ratio').samples.length, 100_000);
    assert.equal(family(families, 'chanfitness_channel_lifetime_seconds').samples.length, 100_000);
    assert.equal(family(families, 'chanfitness_channel_uptime_seconds').samples.length, 100_000);
    assert.equal(
      family(families, 'chanfitness_channel_window_uptime_ratio').samples.length,
      300_000,
    );
    assert.equal(family(families, 'chanfitness_peer_flap_count').samples.length, 10_000);
    const online = family(families, 'chanfitness_peer_online').samples;
    assert.equal(online.filter((s) => s.value === 1).length, 5_000);
    assert.ok(ticks > 100, `only ${ticks} event loop turns during the render`);
    // A report, not an assertion: timing depends on the machine.
    console.log(
      `      100k channels: ${(text.length / 1e6).toFixed(1)} MB written in ${elapsed.toFixed(0)} ms, ` +
        `${ticks} event loop turns, longest gap ${maxGap.toFixed(1)} ms`,
    );
  });
});
