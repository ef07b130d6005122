import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { REJECT_REASONS } from '../../src/lnd/reject-reason.js';
import { DemoSimulation } from '../../scripts/demo/simulation.js';
import { eventually } from '../support/eventually.js';
import { ExporterProcess } from '../support/exporter-process.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { seededRandom } from '../support/seeded-random.js';
import {
  badMessages,
  DUPLICATED_OPEN,
  interleave,
  type BadMessage,
  type RawMessage,
} from './support/bad-messages.js';
import { HOUR } from './support/flap-script.js';
import { Scrape, tryScrape } from './support/metrics.js';

const NODE = 'mixed';
const GOOD = 10_000;
const PER_REASON = 1_000;
const CHUNK = 1_000;
/** A leak check, not a timing one: 1000 messages of 64 KiB alone are 64 MiB. */
const RSS_GROWTH_LIMIT = 50 * 1024 * 1024;

// Issue 7, "Fault tests", bullet 4: 10,000 malformed messages mixed with 10,000 good
// ones (core NATS, the real exporter): every good one applied, every bad one counted
// by reason, memory flat.
describe('fault: 10,000 malformed messages mixed with 10,000 good ones (core NATS)', function () {
  this.timeout(90_000);
  let nats: PrivateNatsServer | undefined;
  let exporter: ExporterProcess | undefined;
  let nc: NatsConnection | undefined;

  afterEach(async () => {
    await nc?.close();
    await exporter?.dispose();
    await nats?.dispose();
    [nats, exporter, nc] = [undefined, undefined, undefined];
  });

  it('applies every good message, counts every bad one by reason, and keeps its memory', async () => {
    // Good: the demo's lnd stream (opens, closes, link and peer events of 40 peers) and the
    // first open of the channel the duplicate opens repeat.
    const simulation = new DemoSimulation({
      nodes: [NODE],
      seed: 11,
      start: Date.now() - 12 * HOUR,
    });
    const good: RawMessage[] = [DUPLICATED_OPEN];
    for (const message of simulation.messagesUntil(Date.now())) {
      if (good.length === GOOD) break;
      good.push({ subject: message.subject, data: new TextEncoder().encode(message.payload) });
    }
    assert.equal(good.length, GOOD);
    const bad = badMessages(PER_REASON);
    assert.equal(bad.length, 10 * PER_REASON);
    // The duplicate opens come after the first one, which leads the good list.
    const mixed = [good[0] as RawMessage, ...interleave(good.slice(1), bad, seededRandom(7))];

    nats = await PrivateNatsServer.start();
    const prefix = `faults${randomBytes(4).toString('hex')}`;
    exporter = await ExporterProcess.start({
      args: [`--nats.url=${nats.url}`, `--nats.subject-prefix=${prefix}`, '--log.level=info'],
    });
    const url = exporter.url;
    await eventually(
      async () => (await fetch(`${url}/readyz`)).status === 200,
      'readiness',
      20_000,
    );
    nc = await connect({ servers: nats.url });

    let rssBaseline = 0;
    for (let i = 0; i < mixed.length; i += CHUNK) {
      for (const message of mixed.slice(i, i + CHUNK)) {
        nc.publish(`${prefix}.${NODE}.${message.subject}`, message.data);
      }
      await nc.flush();
      // Core NATS has no flow control: let the exporter take each chunk before the next.
      const sent = Math.min(i + CHUNK, mixed.length);
      await eventually(
        async () => {
          const scrape = await tryScrape(url);
          return scrape !== undefined && scrape.applied + scrape.rejected === sent;
        },
        `${sent} messages handled`,
        20_000,
      );
      // The baseline once everything has been loaded and warmed up by the first chunks.
      if (sent === 2 * CHUNK)
        rssBaseline = (await Scrape.of(url)).sum('process_resident_memory_bytes');
    }

    const scrape = await Scrape.of(url);
    assert.equal(scrape.applied, GOOD, 'every good message applied');
    for (const reason of REJECT_REASONS) {
      assert.equal(scrape.rejectedBy(reason), countBy(bad, reason), `rejected for ${reason}`);
    }
    assert.equal(scrape.rejected, bad.length);
    const rss = scrape.sum('process_resident_memory_bytes');
    assert.ok(rssBaseline > 0);
    assert.ok(
      rss - rssBaseline < RSS_GROWTH_LIMIT,
      `RSS grew by ${((rss - rssBaseline) / 2 ** 20).toFixed(1)} MiB over 18,000 messages`,
    );
    // Still serving: a scrape and a GraphQL query answer.
    const graphql = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ nodes { id channelCount } }` }),
    });
    assert.equal(graphql.status, 200);
  });
});

function countBy(messages: readonly BadMessage[], reason: string): number {
  return messages.filter((m) => m.reason === reason).length;
}
