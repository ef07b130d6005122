import assert from 'node:assert/strict';
import { pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { freePort } from '../support/free-port.js';
import { openChannelJson, peerEventJson } from '../support/lnd-json.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import {
  HOUR,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  sampleValue,
  scrape,
  startExporter,
} from './support.js';

/**
 * Issue 4, Tests, bullet 6: with no NATS server the service starts, serves
 * HTTP, reports not ready and `chanfitness_nats_connected 0`, says how to start
 * one; when a server appears on that port it connects, becomes ready and
 * applies what is published to it.
 */

const status = async (exporter: ExporterProcess, path: string) =>
  (await fetch(`${exporter.url}${path}`)).status;

const natsConnected = async (exporter: ExporterProcess) =>
  sampleValue(await scrape(exporter), 'chanfitness_nats_connected');

describe('e2e: starting without a NATS server', function () {
  this.timeout(40_000);

  const prefix = randomToken('e2enonats');
  const node = randomToken('node');
  let port: number;
  let exporter: ExporterProcess | undefined;
  let nats: PrivateNatsServer | undefined;
  let publisher: Publisher | undefined;

  before(async () => {
    // A port where nothing listens (yet).
    port = await freePort();
    exporter = await startExporter({
      prefix,
      natsUrl: `nats://127.0.0.1:${port}`,
      waitForSubscriptions: false,
    });
  });

  after(async () => {
    await publisher?.close();
    await exporter?.dispose();
    await nats?.dispose();
  });

  // Bullet 6: serving, not ready, connected 0, and a log line telling how to start NATS.
  it('serves HTTP, is not ready, reports nats_connected 0 and says how to start NATS', async () => {
    const e = exporter!;
    assert.equal(await status(e, '/healthz'), 200);
    assert.equal(await status(e, '/readyz'), 503);
    assert.equal(await natsConnected(e), 0);
    // The hint comes after a few seconds of failed attempts.
    const hint = await e.waitForLog(
      (l) => typeof l.msg === 'string' && /nats-server/.test(l.msg) && /--nats\.url/.test(l.msg),
      10_000,
    );
    assert.equal(hint.level, 40, 'a warning');
    // Still serving after the failed attempts.
    assert.equal(await status(e, '/healthz'), 200);
    assert.equal(await status(e, '/readyz'), 503);
    assert.equal(e.child.exitCode, null);
  });

  // Bullet 6: a server appears on that port: ready, connected 1, events applied.
  it('becomes ready once a NATS server appears, and applies its events', async () => {
    const e = exporter!;
    nats = await PrivateNatsServer.startOn(port);
    await pollUntil(
      () => status(e, '/readyz'),
      (s) => s === 200,
      '/readyz 200',
      15_000,
    );
    assert.equal(await natsConnected(e), 1);
    await e.waitForLog((l) => l.msg === 'subscribed to channel and peer events');

    publisher = await Publisher.connect(prefix, nats.url);
    const now = Date.now();
    const p = randomPubkey();
    const c = randomChannelPoint();
    publisher.channel(node, openChannelJson(p, c, now - 2 * HOUR));
    publisher.peer(node, peerEventJson(p, true, now - HOUR));
    await publisher.flush();
    const data = await pollUntil(
      () =>
        query<{ channel: { uptimeRatio: number; peer: { online: boolean } } }>(
          e,
          'query ($c: String!, $n: String) { channel(channelPoint: $c, node: $n) { uptimeRatio peer { online } } }',
          { c, n: node },
        ),
      (d) => d.channel.peer.online,
      'the events published to the new server',
    );
    assert.ok(
      Math.abs(data.channel.uptimeRatio - 0.5) < 0.001,
      `ratio ${data.channel.uptimeRatio}`,
    );
  });
});
