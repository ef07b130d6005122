import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChannelCollector } from '../../src/metrics/channel-collector.js';
import { ChunkedTextWriter } from '../../src/metrics/chunked-text-writer.js';
import type { MetricWindow } from '../../src/metrics/metric-windows.js';
import { StringSink } from '../../src/metrics/text-sink.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { HOUR, MINUTE, TestClock, TEST_NOW } from '../support/test-clock.js';
import { channelPoint, makeSources, pubkey } from './fixtures.js';
import { parseExposition, type Sample } from './text-format-parser.js';

const FAMILY = 'chanfitness_channel_window_uptime_ratio';
const DAY = 24 * HOUR;
const DEFAULT_WINDOWS: readonly MetricWindow[] = [
  { label: '1d', durationMs: DAY },
  { label: '7d', durationMs: 7 * DAY },
  { label: '30d', durationMs: 30 * DAY },
];

function storeOn(clock: TestClock, node = 'n', retentionMs?: number): ChannelEventStore {
  return new ChannelEventStore({
    node,
    clock,
    retentionMs,
  });
}

function storesOf(...stores: ChannelEventStore[]): NodeStores {
  const byNode = new Map(stores.map((s) => [s.node, s]));
  const all = new NodeStores((node) => byNode.get(node) as ChannelEventStore);
  for (const store of stores) all.getOrCreate(store.node);
  return all;
}

/** The channel families as a scrape at `now` writes them, in chunks of `chunkChars`. */
async function scrape(
  stores: NodeStores,
  windows: readonly MetricWindow[],
  now: number,
  chunkChars?: number,
): Promise<string> {
  const sink = new StringSink();
  const out = new ChunkedTextWriter(sink, chunkChars);
  await new ChannelCollector(stores, windows).write(out, now);
  await out.end();
  return sink.text();
}

/** `<node> <channel point> <window>` -> value of every window sample, each series once. */
function windowSamples(text: string): Map<string, number> {
  const samples = parseExposition(text).get(FAMILY)?.samples ?? [];
  const byKey = new Map<string, number>();
  for (const s of samples) {
    assert.deepEqual(Object.keys(s.labels).sort(), ['channel_point', 'node', 'peer', 'window']);
    const key = keyOf(s);
    assert.ok(!byKey.has(key), `${key} twice`);
    byKey.set(key, s.value);
  }
  return byKey;
}

function keyOf(s: Sample): string {
  return `${s.labels.node} ${s.labels.channel_point} ${s.labels.window}`;
}

/**
 * What the store's windowed uptime says of every channel and window, the
 * store's clock at now: uptime over [now - window, now] clamped to the
 * lifetime and the horizon, over the clamped window's length; nothing while
 * that is empty.
 */
function expectedFromStore(
  stores: readonly ChannelEventStore[],
  windows: readonly MetricWindow[],
  now: number,
): Map<string, number> {
  const expected = new Map<string, number>();
  for (const store of stores) {
    for (const channel of store.channels()) {
      for (const w of windows) {
        const { from, to, uptime } = store.channelUptime(channel, now - w.durationMs);
        if (to > from) {
          expected.set(
            `${store.node} ${channel.channelPoint} ${w.label}`,
            Math.min(1, uptime / (to - from)),
          );
        }
      }
    }
  }
  return expected;
}

describe('chanfitness_channel_window_uptime_ratio', () => {
  it('gives the uptime over each window, clamped to the lifetime, and nothing for an empty one', async () => {
    const clock = new TestClock(TEST_NOW);
    const store = storeOn(clock);
    const [a, b] = [pubkey(1), pubkey(2)];
    // Peer a: its channel opens with the peer offline; online from day 1 to 35, offline
    // to day 38, online since. Peer b: online before its channel opens at day 39.5.
    store.openChannel(a, channelPoint(1), TEST_NOW);
    store.peerEvent(a, true, TEST_NOW + DAY);
    store.peerEvent(a, false, TEST_NOW + 35 * DAY);
    store.openChannel(a, channelPoint(2), TEST_NOW + 36 * DAY);
    store.peerEvent(a, true, TEST_NOW + 38 * DAY);
    store.peerEvent(b, true, TEST_NOW + 39 * DAY);
    store.openChannel(b, channelPoint(3), TEST_NOW + 39.5 * DAY);
    const now = TEST_NOW + 40 * DAY;
    // Opened now and (a clock behind the event's) a minute from now: lifetime 0.
    store.openChannel(a, channelPoint(4), now);
    store.openChannel(b, channelPoint(5), now + MINUTE);
    clock.set(now);

    const samples = windowSamples(await scrape(storesOf(store), DEFAULT_WINDOWS, now));
    assert.deepEqual(
      Object.fromEntries(samples),
      Object.fromEntries(
        [
          [1, '1d', 1],
          [1, '7d', 4 / 7], // online days 33-35 and 38-40
          [1, '30d', 27 / 30], // online days 10-35 and 38-40
          [2, '1d', 1],
          [2, '7d', 2 / 4], // clamped to its 4 days: offline 36-38, online 38-40
          [2, '30d', 2 / 4],
          [3, '1d', 1], // clamped to its half day
          [3, '7d', 1],
          [3, '30d', 1],
        ].map(([i, window, value]) => [`n ${channelPoint(i as number)} ${window}`, value]),
      ),
    );
    assert.deepEqual(samples, expectedFromStore([store], DEFAULT_WINDOWS, now));
  });

  it('clamps the windows to the history horizon (--history.retention)', async () => {
    const clock = new TestClock(TEST_NOW);
    const store = storeOn(clock, 'n', 2 * DAY);
    const a = pubkey(1);
    store.openChannel(a, channelPoint(1), TEST_NOW);
    store.peerEvent(a, true, TEST_NOW + 5 * DAY);
    store.peerEvent(a, false, TEST_NOW + 9 * DAY);
    const now = clock.advance(10 * DAY);
    store.compact();

    const samples = windowSamples(await scrape(storesOf(store), DEFAULT_WINDOWS, now));
    // 1d: offline all day. 7d and 30d: the last 2 days, one of them online.
    assert.equal(samples.get(`n ${channelPoint(1)} 1d`), 0);
    assert.equal(samples.get(`n ${channelPoint(1)} 7d`), 0.5);
    assert.equal(samples.get(`n ${channelPoint(1)} 30d`), 0.5);
  });

  it('equals the store windowed uptime for any history, retention and windows (property)', async () => {
    const windows: readonly MetricWindow[] = [
      { label: '1h', durationMs: HOUR },
      { label: '6h', durationMs: 6 * HOUR },
      { label: '1d', durationMs: DAY },
    ];
    const event = fc.record({
      peer: fc.nat(3),
      online: fc.boolean(),
      open: fc.boolean(),
      gapMs: fc.oneof(
        fc.integer({ min: 0, max: 3 * HOUR }),
        fc.double({ min: 0.001, max: HOUR, noNaN: true }),
      ),
      compact: fc.boolean(),
    });
    let cut = 0;
    let clampedToLifetime = 0;
    let dropped = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { minLength: 20, maxLength: 200 }),
        fc.option(fc.integer({ min: 1, max: 48 }), { nil: undefined }),
        fc.integer({ min: 0, max: 2 * DAY }),
        async (events, retentionHours, idleMs) => {
          const clock = new TestClock(TEST_NOW);
          const retentionMs = retentionHours === undefined ? undefined : retentionHours * HOUR;
          // The same events, one store compacted as it goes, the other never.
          const compacted = storeOn(clock, 'c', retentionMs);
          const full = storeOn(clock, 'c', retentionMs);
          let channels = 0;
          for (const e of events) {
            const time = clock.advance(e.gapMs);
            for (const store of [compacted, full]) {
              if (e.open) store.openChannel(pubkey(e.peer), channelPoint(channels), time);
              else store.peerEvent(pubkey(e.peer), e.online, time);
            }
            if (e.open) channels += 1;
            if (e.compact) dropped += compacted.compact();
          }
          const now = clock.advance(idleMs);
          const samples = windowSamples(await scrape(storesOf(compacted), windows, now));
          const expected = expectedFromStore([full], windows, now);
          assert.deepEqual(samples, expected);
          for (const channel of full.channels()) {
            if (now - channel.openedAt > DAY) cut += 1;
            else if (now > channel.openedAt) clampedToLifetime += 1;
          }
        },
      ),
      { numRuns: 300 },
    );
    // Tried: windows inside the lifetime and clamped to it, on compacted logs.
    assert.ok(cut > 100 && clampedToLifetime > 100, `${cut} cut, ${clampedToLifetime} clamped`);
    assert.ok(dropped > 200, `${dropped} events compacted in all runs`);
  });

  it('labels the windows as given, and has no family without windows', async () => {
    const sources = makeSources({ windows: [{ label: '1h30m', durationMs: 90 * MINUTE }] });
    const store = sources.stores.getOrCreate('alice');
    store.openChannel(pubkey(1), channelPoint(1), sources.clock.now());
    sources.clock.advance(HOUR);
    const families = parseExposition(await sources.exposition.renderToString());
    assert.deepEqual(
      families.get(FAMILY)?.samples.map((s) => [s.labels.window, s.value]),
      [['1h30m', 0]],
    );

    const none = makeSources({ windows: [] });
    const text = await none.exposition.renderToString();
    assert.ok(!text.includes(FAMILY), 'no HELP, TYPE or samples of the family');
  });

  it('escapes and encodes label values as the other families do, in chunks of any size', async () => {
    const clock = new TestClock(TEST_NOW);
    const odd = storeOn(clock, 'we"ird\\node\nnamé €');
    const plain = storeOn(clock, 'plain');
    const points = ['x"y\\z\nw:1', 'point-é-€-😀:2', channelPoint(3)];
    odd.openChannel('peer"\\\n€😀', points[0] as string, TEST_NOW);
    odd.openChannel(pubkey(1), points[1] as string, TEST_NOW);
    plain.openChannel(pubkey(2), points[2] as string, TEST_NOW);
    for (let i = 0; i < 200; i++) plain.openChannel(pubkey(i % 7), channelPoint(100 + i), TEST_NOW);
    const now = clock.advance(HOUR);
    const stores = storesOf(odd, plain);

    const whole = await scrape(stores, DEFAULT_WINDOWS, now);
    // Chunks smaller than a channel's lines, too.
    for (const chunkChars of [64, 512, 4096]) {
      assert.equal(await scrape(stores, DEFAULT_WINDOWS, now, chunkChars), whole);
    }
    const families = parseExposition(whole);
    const ratios = families.get('chanfitness_channel_uptime_ratio')?.samples ?? [];
    const windows = families.get(FAMILY)?.samples ?? [];
    assert.equal(ratios.length, 203);
    assert.equal(windows.length, 3 * 203);
    for (const w of windows) {
      const same = ratios.find(
        (r) =>
          r.labels.node === w.labels.node &&
          r.labels.channel_point === w.labels.channel_point &&
          r.labels.peer === w.labels.peer,
      );
      assert.ok(same, JSON.stringify(w.labels));
      // Younger than every window: the lifetime ratio.
      assert.equal(w.value, same.value);
    }
    assert.ok(windows.some((w) => w.labels.node === 'we"ird\\node\nnamé €'));
    assert.ok(windows.some((w) => w.labels.peer === 'peer"\\\n€😀'));
    assert.ok(windows.some((w) => w.labels.channel_point === 'point-é-€-😀:2'));
  });
});
