import assert from 'node:assert/strict';
import { connect, type NatsConnection } from 'nats';
import { delay, pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import {
  bytes,
  listChannelsJson,
  listPeersJson,
  openChannelJson,
  peerEventJson,
} from '../support/lnd-json.js';
import {
  MINUTE,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  sampleValue,
  scrape,
  SHARED_NATS_URL,
  startExporter,
  sumValues,
} from './support.js';

/**
 * What a hostile publisher on NATS can make the real exporter do (README,
 * "Security and limits", "Publishers (NATS)"): node names beyond
 * --nats.max-nodes or outside --nats.nodes and absurd timestamps are
 * rejected and counted, bootstrap nothing, log a few lines, and the service
 * answers /healthz within 500 ms while they pour in.
 */

/** The bound on a /healthz answer during a flood. */
const HEALTHZ_LIMIT_MS = 500;

interface HealthProbe {
  /** Stops probing; the slowest answer, the number of answers and what went wrong. */
  stop(): Promise<{ slowestMs: number; answered: number; failures: string[] }>;
}

/** GET /healthz again and again (every 20 ms) until stopped, timing each answer. */
function probeHealth(exporter: ExporterProcess): HealthProbe {
  // An object: the loop reads what stop() sets.
  const control = { running: true };
  let slowestMs = 0;
  let answered = 0;
  const failures: string[] = [];
  const loop = (async () => {
    // Untimed: the test process's first request to this server sets up its connection.
    await (await fetch(`${exporter.url}/healthz`)).text();
    while (control.running) {
      const start = performance.now();
      try {
        const response = await fetch(`${exporter.url}/healthz`, {
          signal: AbortSignal.timeout(5_000),
        });
        await response.text();
        if (response.status === 200) answered += 1;
        else failures.push(`status ${response.status}`);
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
      slowestMs = Math.max(slowestMs, performance.now() - start);
      await delay(20);
    }
  })();
  return {
    async stop() {
      control.running = false;
      await loop;
      return { slowestMs, answered, failures };
    },
  };
}

async function assertResponsive(probe: HealthProbe, minimumAnswers: number): Promise<void> {
  const { slowestMs, answered, failures } = await probe.stop();
  assert.deepEqual(failures, [], '/healthz failed during the flood');
  assert.ok(answered >= minimumAnswers, `only ${answered} /healthz answers during the flood`);
  assert.ok(
    slowestMs < HEALTHZ_LIMIT_MS,
    `/healthz took ${slowestMs.toFixed(0)} ms during the flood`,
  );
}

/** A bridge answering every node's bootstrap with empty listings, counting the requests. */
async function countingBridge(prefix: string): Promise<{
  nc: NatsConnection;
  asked: Map<string, number>;
}> {
  const nc = await connect({ servers: SHARED_NATS_URL, name: 'chanfitness-e2e-bridge' });
  const asked = new Map<string, number>();
  const peers = bytes(listPeersJson([]));
  const channels = bytes(listChannelsJson([]));
  nc.subscribe(`${prefix}.*.rpc.*`, {
    callback: (_err, msg) => {
      const [, node, , method] = msg.subject.split('.');
      asked.set(node ?? '', (asked.get(node ?? '') ?? 0) + 1);
      msg.respond(method === 'list_peers' ? peers : channels);
    },
  });
  await nc.flush();
  return { nc, asked };
}

/** How long a flood lasts at least, so that /healthz is probed while it is handled. */
const FLOOD_MS = 2_000;
/** Messages a flood publishes per chunk, and a chunk every CHUNK_MS: 10,000 a second. */
const CHUNK = 500;
const CHUNK_MS = 50;

/**
 * Publishes the pre-encoded messages again and again, as a hostile publisher
 * would, for FLOOD_MS at least: 5,000 node names in half a second, repeated.
 * The rate is a hostile publisher's, not the most one TCP connection carries
 * (that is NATS's slow-consumer business): what is measured is what the
 * messages cost the exporter. Returns how many times the whole list went out.
 */
async function flood(
  publisher: Publisher,
  messages: readonly { subject: string; data: Uint8Array }[],
): Promise<number> {
  const until = performance.now() + FLOOD_MS;
  let rounds = 0;
  do {
    for (let i = 0; i < messages.length; i += CHUNK) {
      const next = performance.now() + CHUNK_MS;
      for (const m of messages.slice(i, i + CHUNK)) publisher.nc.publish(m.subject, m.data);
      await publisher.flush();
      await delay(Math.max(0, next - performance.now()));
    }
    rounds += 1;
  } while (performance.now() < until);
  return rounds;
}

/** Non-empty lines the exporter has written, stdout and stderr. */
function outputLines(exporter: ExporterProcess): number {
  return exporter
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

async function nodeIds(exporter: ExporterProcess): Promise<string[]> {
  const data = await query<{ nodes: { id: string }[] }>(exporter, '{ nodes { id } }');
  return data.nodes.map((n) => n.id).sort();
}

async function rejected(exporter: ExporterProcess, reason: string): Promise<number> {
  return sampleValue(await scrape(exporter), 'chanfitness_events_rejected_total', { reason }) ?? 0;
}

describe('e2e: publisher limits', function () {
  this.timeout(60_000);
  let exporter: ExporterProcess | undefined;
  let publisher: Publisher | undefined;
  let bridge: NatsConnection | undefined;

  afterEach(async () => {
    await publisher?.close();
    await bridge?.close();
    await exporter?.dispose();
    [exporter, publisher, bridge] = [undefined, undefined, undefined];
  });

  it('tracks at most --nats.max-nodes of 5,000 node names, bootstrapping only those, and stays responsive', async () => {
    const prefix = randomToken('e2emax');
    const names = Array.from({ length: 5_000 }, (_, i) => `n${i}`);
    const counting = await countingBridge(prefix);
    bridge = counting.nc;
    exporter = await startExporter({ prefix, args: ['--nats.max-nodes=5'] });
    publisher = await Publisher.connect(prefix);
    const now = Date.now();
    const messages = names.map((node) => ({
      subject: `${prefix}.${node}.peer_events`,
      data: bytes(peerEventJson(randomPubkey(), true, now)),
    }));
    const linesBefore = outputLines(exporter);

    const probe = probeHealth(exporter);
    const rounds = await flood(publisher, messages);
    const live = exporter;
    await pollUntil(
      () => rejected(live, 'too_many_nodes'),
      (n) => n === rounds * (names.length - 5),
      'every event of a node past the fifth rejected',
      30_000,
    );
    await assertResponsive(probe, 10);

    // The first five names in publishing order, and nothing else.
    const admitted = names.slice(0, 5);
    assert.deepEqual(await nodeIds(exporter), [...admitted].sort());
    const families = await scrape(exporter);
    const labelled = new Set(
      (families.get('chanfitness_events_total')?.samples ?? []).map((s) => s.labels.node),
    );
    assert.deepEqual([...labelled].sort(), [...admitted].sort());
    assert.equal(sumValues(families, 'chanfitness_events_total'), rounds * 5);
    assert.equal(
      sampleValue(families, 'chanfitness_events_rejected_total', { reason: 'too_many_nodes' }),
      rounds * 4_995,
    );
    assert.equal(
      sampleValue(families, 'chanfitness_events_rejected_total', { reason: 'node_not_allowed' }),
      0,
    );
    // Bootstrap requests: list_peers and list_channels of each admitted node, none other.
    await pollUntil(
      () => [...counting.asked.values()].reduce((a, b) => a + b, 0),
      (n) => n >= 10,
      'the bootstraps of the five nodes',
    );
    assert.deepEqual(
      [...counting.asked.entries()].sort(),
      admitted.map((node) => [node, 2]).sort(),
    );
    // The log: a handful of lines for thousands of rejections, start-up included.
    const written = outputLines(exporter);
    assert.ok(written < 50, `${written} log lines (${linesBefore} before the flood)`);
    const refusals = exporter.logs().filter((l) => l.reason === 'too_many_nodes');
    assert.ok(refusals.length >= 1 && refusals.length <= 5, `${refusals.length} refusal lines`);
  });

  it('takes only the nodes of --nats.nodes, rejecting and counting any other', async () => {
    const prefix = randomToken('e2eallow');
    const [a, b, c] = [randomToken('a'), randomToken('b'), randomToken('c')];
    const counting = await countingBridge(prefix);
    bridge = counting.nc;
    exporter = await startExporter({ prefix, args: [`--nats.nodes=${a},${b}`] });
    publisher = await Publisher.connect(prefix);
    const now = Date.now();
    // Node c, and 2,500 other names the list does not have either.
    const messages = [
      ...Array.from({ length: 2_500 }, () => ({
        subject: `${prefix}.${c}.channel_events`,
        data: bytes(openChannelJson(randomPubkey(), randomChannelPoint(), now - MINUTE)),
      })),
      ...Array.from({ length: 2_500 }, (_, i) => ({
        subject: `${prefix}.other${i}.peer_events`,
        data: bytes(peerEventJson(randomPubkey(), true, now)),
      })),
    ];
    const linesBefore = outputLines(exporter);

    const probe = probeHealth(exporter);
    const rounds = await flood(publisher, messages);
    // After the flood on the same connection: applied once the flood is handled.
    const channelA = randomChannelPoint();
    const channelB = randomChannelPoint();
    publisher.channel(a, openChannelJson(randomPubkey(), channelA, now - MINUTE));
    publisher.channel(b, openChannelJson(randomPubkey(), channelB, now - MINUTE));
    await publisher.flush();
    const live = exporter;
    await pollUntil(
      () => rejected(live, 'node_not_allowed'),
      (n) => n === rounds * messages.length,
      'every event of a node outside --nats.nodes rejected',
      30_000,
    );
    await assertResponsive(probe, 10);

    const channels = await pollUntil(
      () =>
        query<{ channels: { nodes: { node: string; channelPoint: string }[] } }>(
          live,
          '{ channels { nodes { node channelPoint } } }',
        ),
      (d) => d.channels.nodes.length === 2,
      'the opens of a and b',
    );
    assert.deepEqual(
      channels.channels.nodes.map((ch) => [ch.node, ch.channelPoint]).sort(),
      [
        [a, channelA],
        [b, channelB],
      ].sort(),
    );
    assert.deepEqual(await nodeIds(exporter), [a, b].sort());
    const families = await scrape(exporter);
    assert.equal(sumValues(families, 'chanfitness_events_total', { node: c }), 0);
    assert.equal(
      sampleValue(families, 'chanfitness_events_rejected_total', { reason: 'too_many_nodes' }),
      0,
    );
    // a and b bootstrapped at start, c never asked.
    assert.deepEqual(
      [...counting.asked.entries()].sort(),
      [
        [a, 2],
        [b, 2],
      ].sort(),
    );
    const written = outputLines(exporter);
    assert.ok(written < 50, `${written} log lines (${linesBefore} before the flood)`);
    assert.ok(
      exporter.logs().some((l) => l.reason === 'node_not_allowed' && l.node === c),
      'the refusal of c logged',
    );
  });

  it("rejects timestamps before Bitcoin's genesis block as invalid_timestamp, applying nothing of them", async () => {
    const prefix = randomToken('e2egenesis');
    const node = randomToken('node');
    exporter = await startExporter({ prefix });
    publisher = await Publisher.connect(prefix);
    const now = Date.now();
    const monitored = randomPubkey();
    const first = randomChannelPoint();
    publisher.channel(node, openChannelJson(monitored, first, now - 10 * MINUTE));
    const stamped = (payload: Record<string, unknown>, timestamp: string) =>
      bytes({ ...payload, timestamp });
    const absurd: string[] = [];
    const messages: { subject: string; data: Uint8Array }[] = [];
    for (let i = 0; i < 1_000; i++) {
      const channelPoint = randomChannelPoint();
      absurd.push(channelPoint);
      messages.push({
        subject: `${prefix}.${node}.channel_events`,
        data: stamped(openChannelJson(randomPubkey(), channelPoint), '0001-01-01T00:00:00Z'),
      });
      messages.push({
        subject: `${prefix}.${node}.peer_events`,
        data: stamped(peerEventJson(monitored, i % 2 === 0), '2009-01-03T18:15:04.999Z'),
      });
      messages.push({
        subject: `${prefix}.${node}.peer_events`,
        data: stamped(peerEventJson(monitored, i % 2 === 0), '9999-12-31T23:59:59Z'),
      });
    }

    const probe = probeHealth(exporter);
    const rounds = await flood(publisher, messages);
    // Exactly at the genesis block: applied.
    const genesis = randomChannelPoint();
    publisher.channel(
      node,
      stamped(openChannelJson(randomPubkey(), genesis), '2009-01-03T18:15:05Z'),
    );
    await publisher.flush();
    const live = exporter;
    await pollUntil(
      () => rejected(live, 'invalid_timestamp'),
      (n) => n === rounds * 2_000,
      'every timestamp before the genesis block rejected',
      30_000,
    );
    await assertResponsive(probe, 10);

    const data = await pollUntil(
      () =>
        query<{
          channels: {
            totalCount: number;
            nodes: { channelPoint: string; openedAt: string; lifetimeSeconds: number }[];
          };
          peer: { flapCount: number } | null;
        }>(
          live,
          'query ($n: String, $p: String!) { channels(node: $n) { totalCount nodes { channelPoint openedAt lifetimeSeconds } } peer(pubkey: $p, node: $n) { flapCount } }',
          { n: node, p: monitored },
        ),
      (d) => d.channels.totalCount === 2,
      'the first open and the one at the genesis block',
    );
    const byPoint = new Map(data.channels.nodes.map((ch) => [ch.channelPoint, ch]));
    assert.deepEqual([...byPoint.keys()].sort(), [first, genesis].sort());
    assert.ok(absurd.every((cp) => !byPoint.has(cp)));
    assert.equal(byPoint.get(genesis)?.openedAt, '2009-01-03T18:15:05.000Z');
    // The peer's flap count: its creation only, none of the stamped events.
    assert.equal(data.peer?.flapCount, 1);
    const families = await scrape(exporter);
    assert.equal(
      sampleValue(families, 'chanfitness_events_rejected_total', { reason: 'future_timestamp' }),
      rounds * 1_000,
    );
    assert.equal(
      sumValues(families, 'chanfitness_events_total', { node, kind: 'channel' }),
      2,
      'the two good opens applied',
    );
    assert.equal(sumValues(families, 'chanfitness_events_total', { node, kind: 'peer' }), 0);
    // The longest lifetime is the genesis block's: nothing older got in.
    const lifetimes = (families.get('chanfitness_channel_lifetime_seconds')?.samples ?? []).filter(
      (s) => s.labels.node === node,
    );
    const longest = Math.max(...lifetimes.map((s) => s.value));
    assert.ok(
      longest <= (Date.now() - Date.parse('2009-01-03T18:15:05Z')) / 1000 + 1,
      `${longest}`,
    );
  });
});
