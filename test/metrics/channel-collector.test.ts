import assert from 'node:assert/strict';
import { ChannelCollector } from '../../src/metrics/channel-collector.js';
import { ChunkedTextWriter } from '../../src/metrics/chunked-text-writer.js';
import { CHANNEL_FAMILIES } from '../../src/metrics/metric-families.js';
import type { MetricWindow } from '../../src/metrics/metric-windows.js';
import { StringSink, type TextSink } from '../../src/metrics/text-sink.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { channelPoint, pubkey } from '../support/store-fixture.js';
import { HOUR, TEST_NOW, TestClock } from '../support/test-clock.js';
import { parseExposition, type Sample } from './text-format-parser.js';

const HOUR_WINDOW: MetricWindow = { label: '1h', durationMs: HOUR };
const DAY_WINDOW: MetricWindow = { label: '1d', durationMs: 24 * HOUR };

const { uptimeRatio, lifetimeSeconds, uptimeSeconds, windowUptimeRatio } = CHANNEL_FAMILIES;

function makeStores(clock: TestClock): NodeStores {
  return new NodeStores((node) => new ChannelEventStore({ node, clock }));
}

/** What the collector writes at `now`, handed over in chunks of `chunkChars`. */
async function scrape(
  collector: ChannelCollector,
  now: number,
  chunkChars = 64 * 1024,
): Promise<{ text: string; chunks: number }> {
  const sink = new StringSink();
  let chunks = 0;
  const counting: TextSink = {
    write(chunk) {
      chunks += 1;
      sink.write(chunk);
      return undefined;
    },
  };
  const out = new ChunkedTextWriter(counting, chunkChars);
  await collector.write(out, now);
  await out.end();
  return { text: sink.text(), chunks };
}

/** The samples of a family by channel point (and window, for the windowed family). */
function byChannel(text: string, family: string): Map<string, Sample> {
  const samples = parseExposition(text).get(family)?.samples ?? [];
  return new Map(
    samples.map((s) => {
      const key =
        s.labels.window === undefined
          ? s.labels.channel_point
          : `${s.labels.channel_point}@${s.labels.window}`;
      return [key ?? '', s];
    }),
  );
}

describe('ChannelCollector', () => {
  let clock: TestClock;
  let stores: NodeStores;
  const A = pubkey(1);
  const B = pubkey(2);

  beforeEach(() => {
    clock = new TestClock(TEST_NOW);
    stores = makeStores(clock);
  });

  /**
   * On alice: channel 1 with A, opened at TEST_NOW, A online for its first
   * hour only; channel 2 with B, opened 3 h later, B offline throughout.
   */
  function twoChannels(): ChannelEventStore {
    const alice = stores.getOrCreate('alice');
    alice.openChannel(A, channelPoint(1), TEST_NOW);
    alice.openChannel(B, channelPoint(2), TEST_NOW + 3 * HOUR);
    alice.peerEvent(A, true, TEST_NOW);
    alice.peerEvent(A, false, TEST_NOW + HOUR);
    clock.set(TEST_NOW + 4 * HOUR);
    return alice;
  }

  it('writes lifetime, uptime and their ratio of every channel, labelled with its node and peer', async () => {
    twoChannels();
    const { text } = await scrape(new ChannelCollector(stores, []), clock.now());

    const ratio = byChannel(text, uptimeRatio.name);
    assert.deepEqual(ratio.get(channelPoint(1)), {
      name: uptimeRatio.name,
      labels: { node: 'alice', channel_point: channelPoint(1), peer: A },
      value: 0.25,
    });
    assert.equal(ratio.get(channelPoint(2))?.value, 0);
    assert.equal(ratio.get(channelPoint(2))?.labels.peer, B);
    assert.equal(byChannel(text, lifetimeSeconds.name).get(channelPoint(1))?.value, 4 * 3600);
    assert.equal(byChannel(text, uptimeSeconds.name).get(channelPoint(1))?.value, 3600);
    assert.equal(byChannel(text, lifetimeSeconds.name).get(channelPoint(2))?.value, 3600);
    assert.equal(byChannel(text, uptimeSeconds.name).get(channelPoint(2))?.value, 0);
    // Each family once, with its HELP and TYPE.
    const families = parseExposition(text);
    for (const family of [uptimeRatio, lifetimeSeconds, uptimeSeconds]) {
      assert.equal(families.get(family.name)?.type, 'gauge');
      assert.equal(families.get(family.name)?.help, family.help);
    }
    assert.equal(families.has(windowUptimeRatio.name), false, 'no windows, no such family');
  });

  it('agrees with the store at the instant of the scrape, whatever the clock says', async () => {
    const alice = twoChannels();
    const now = clock.now() + 2 * HOUR;
    // The clock has moved on meanwhile: the scrape's instant is the one it was given.
    clock.set(now + 10 * HOUR);
    const { text } = await scrape(new ChannelCollector(stores, []), now);
    for (const cp of [channelPoint(1), channelPoint(2)]) {
      const channel = alice.channel(cp);
      assert.ok(channel !== undefined);
      const info = alice.channelInfo(channel, now);
      assert.equal(byChannel(text, lifetimeSeconds.name).get(cp)?.value, info.lifetime / 1000);
      assert.equal(byChannel(text, uptimeSeconds.name).get(cp)?.value, info.uptime / 1000);
      assert.equal(byChannel(text, uptimeRatio.name).get(cp)?.value, info.uptime / info.lifetime);
    }
  });

  it('leaves the ratio and every window out while a channel lifetime is 0', async () => {
    const alice = stores.getOrCreate('alice');
    alice.openChannel(A, channelPoint(1), TEST_NOW);
    const { text } = await scrape(
      new ChannelCollector(stores, [HOUR_WINDOW, DAY_WINDOW]),
      TEST_NOW,
    );
    assert.equal(byChannel(text, uptimeRatio.name).size, 0);
    assert.equal(byChannel(text, windowUptimeRatio.name).size, 0);
    assert.equal(byChannel(text, lifetimeSeconds.name).get(channelPoint(1))?.value, 0);
    assert.equal(byChannel(text, uptimeSeconds.name).get(channelPoint(1))?.value, 0);
  });

  it('gives the uptime over each window, clamped to the lifetime, labelled as given', async () => {
    twoChannels();
    const { text } = await scrape(
      new ChannelCollector(stores, [HOUR_WINDOW, DAY_WINDOW]),
      clock.now(),
    );
    const windows = byChannel(text, windowUptimeRatio.name);
    // Channel 1: A offline over the last hour; over the day, the 4 h lifetime (1 h online).
    assert.equal(windows.get(`${channelPoint(1)}@1h`)?.value, 0);
    assert.equal(windows.get(`${channelPoint(1)}@1d`)?.value, 0.25);
    assert.deepEqual(windows.get(`${channelPoint(1)}@1d`)?.labels, {
      node: 'alice',
      channel_point: channelPoint(1),
      peer: A,
      window: '1d',
    });
    assert.equal(windows.get(`${channelPoint(2)}@1h`)?.value, 0);
    assert.equal(windows.size, 4);
  });

  it('writes every node, escaping label values', async () => {
    twoChannels();
    const odd = stores.getOrCreate('bob "the\\node"');
    odd.openChannel(A, channelPoint(3), TEST_NOW);
    const { text } = await scrape(new ChannelCollector(stores, [DAY_WINDOW]), clock.now());
    assert.ok(text.includes('node="bob \\"the\\\\node\\"",channel_point="'), text);
    const lifetimes = byChannel(text, lifetimeSeconds.name);
    assert.deepEqual([...lifetimes.values()].map((s) => s.labels.node).sort(), [
      'alice',
      'alice',
      'bob "the\\node"',
    ]);
    assert.equal(
      byChannel(text, windowUptimeRatio.name).get(`${channelPoint(3)}@1d`)?.labels.node,
      'bob "the\\node"',
    );
  });

  it('writes the same text in many small chunks as in one', async () => {
    twoChannels();
    const collector = new ChannelCollector(stores, [HOUR_WINDOW, DAY_WINDOW]);
    const whole = await scrape(collector, clock.now());
    const chunked = await scrape(collector, clock.now(), 64);
    assert.equal(chunked.text, whole.text);
    assert.ok(chunked.chunks > 10, `${chunked.chunks} chunks`);
  });
});
