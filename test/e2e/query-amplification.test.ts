import assert from 'node:assert/strict';
import { pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { openChannelJson } from '../support/lnd-json.js';
import {
  appliedEvents,
  graphql,
  MINUTE,
  Publisher,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  sampleValue,
  scrape,
  startExporter,
} from './support.js';

/**
 * Queries that nest lists to amplify their work, against a real exporter whose
 * node has one peer with 2,000 channels: every list counts its real size, so
 * each is refused (GRAPHQL_VALIDATION_FAILED, no data) after doing at most the
 * limit's worth of work, the process keeps answering /healthz within 500 ms
 * while they pour in, and its memory does not grow with them.
 */

/** The 172-byte query that once ran 19 s and took 3 GB. */
const NESTED = (peer: string): string =>
  `{ peer(pubkey: "${peer}") { channels { peer { channels { peer { channels { channelPoint } } } } } } }`;

const PAGE = 'channels(first: 1000) { nodes { peer { channels { channelPoint } } } }';
const ALIASED = `{ a: ${PAGE} b: ${PAGE} c: ${PAGE} }`;

/** GET /healthz, timed. */
async function healthMs(exporter: ExporterProcess): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${exporter.url}/healthz`);
  await response.text();
  assert.equal(response.status, 200);
  return performance.now() - started;
}

describe('e2e: queries that nest lists to amplify their work', function () {
  this.timeout(60_000);

  const prefix = randomToken('e2eamp');
  const node = randomToken('node');
  const peer = randomPubkey();
  let exporter: ExporterProcess;
  let publisher: Publisher;

  before(async () => {
    exporter = await startExporter({ prefix, args: ['--no-history'] });
    publisher = await Publisher.connect(prefix);
    const opened = Date.now() - 30 * MINUTE;
    for (let i = 0; i < 2000; i++) {
      publisher.channel(node, openChannelJson(peer, randomChannelPoint(i), opened));
    }
    await publisher.flush();
    await pollUntil(
      () => appliedEvents(exporter, node),
      (n) => n === 2000,
      'the 2,000 channel opens',
    );
  });

  after(async () => {
    await publisher.close();
    await exporter.dispose();
  });

  it('refuses each with a code that says why, and keeps answering /healthz within 500 ms', async () => {
    const rssBefore = sampleValue(await scrape(exporter), 'process_resident_memory_bytes', {});
    assert.ok(rssBefore !== undefined);

    const attack = { running: true };
    const refusals: string[] = [];
    const attackers = Array.from({ length: 4 }, async (_, k) => {
      for (let round = 0; attack.running && round < 25; round++) {
        const result = await graphql(exporter, k % 2 === 0 ? NESTED(peer) : ALIASED);
        // 200 for application/json clients, as for any refusal before execution
        // (400 for application/graphql-response+json ones).
        assert.equal(result.status, 200, JSON.stringify(result).slice(0, 300));
        assert.equal(result.data, undefined);
        assert.equal(result.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
        refusals.push(result.errors[0].message);
      }
    });
    const health: number[] = [];
    const watcher = (async () => {
      while (attack.running) {
        health.push(await healthMs(exporter));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await Promise.all(attackers);
    attack.running = false;
    await watcher;

    assert.equal(refusals.length, 100);
    for (const message of refusals) {
      assert.match(
        message,
        /Query Cost limit of 100000 exceeded: Peer\.channels at .*peer\.channels has 2000 items.*--graphql\.max-cost \(GRAPHQL_MAX_COST\)/,
      );
    }
    assert.ok(health.length > 0);
    assert.ok(Math.max(...health) < 500, `/healthz took ${Math.max(...health).toFixed(0)} ms`);
    const rssAfter = sampleValue(await scrape(exporter), 'process_resident_memory_bytes', {});
    assert.ok(rssAfter !== undefined);
    // Unbounded, one of these queries alone took gigabytes.
    assert.ok(
      rssAfter - rssBefore < 150 * 1024 * 1024,
      `RSS grew by ${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MiB`,
    );

    // Within the limit, the peer's own list is served in full.
    const list = await graphql<{ peer: { channels: unknown[] } }>(
      exporter,
      `{ peer(pubkey: "${peer}") { channels { channelPoint } } }`,
    );
    assert.equal(list.status, 200);
    assert.equal(list.data?.peer.channels.length, 2000);
  });
});
