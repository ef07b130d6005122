import assert from 'node:assert/strict';
import { connect, type NatsConnection } from 'nats';
import { pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import {
  bytes,
  listChannelsJson,
  listPeersJson,
  openChannelJson,
  peerEventJson,
} from '../support/lnd-json.js';
import {
  appliedEvents,
  HOUR,
  iso,
  MINUTE,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  sampleValue,
  scrape,
  SHARED_NATS_URL,
  startExporter,
} from './support.js';

/**
 * The bootstrap of a node (SPEC 3.1) through the real service: a bridge that
 * comes up late is asked again, and after a JetStream restart the listing is
 * applied where the node's backlog starts, so that the backlog keeps its times.
 */

/** A node's bridge answering the two bootstrap subjects. */
async function bridge(
  prefix: string,
  node: string,
  listing: { channels: { pubkey: string; channelPoint: string }[]; online: string[] },
): Promise<NatsConnection> {
  const nc = await connect({ servers: SHARED_NATS_URL, name: 'chanfitness-e2e-bridge' });
  nc.subscribe(`${prefix}.${node}.rpc.list_peers`, {
    callback: (_err, msg) => msg.respond(bytes(listPeersJson(listing.online))),
  });
  nc.subscribe(`${prefix}.${node}.rpc.list_channels`, {
    callback: (_err, msg) => msg.respond(bytes(listChannelsJson(listing.channels))),
  });
  await nc.flush();
  return nc;
}

interface ChannelData {
  channel: {
    openedAt: string;
    lifetimeSeconds: number;
    uptimeSeconds: number;
    peer: { online: boolean };
  } | null;
}

const CHANNEL_QUERY =
  'query ($c: String!, $n: String) { channel(channelPoint: $c, node: $n) { openedAt lifetimeSeconds uptimeSeconds peer { online } } }';

describe('e2e: bootstrap', function () {
  this.timeout(40_000);
  let exporter: ExporterProcess | undefined;
  let responder: NatsConnection | undefined;
  let admin: NatsConnection | undefined;
  const streams: string[] = [];

  afterEach(async () => {
    await exporter?.dispose();
    exporter = undefined;
    await responder?.drain();
    responder = undefined;
    if (admin !== undefined) {
      const jsm = await admin.jetstreamManager();
      for (const stream of streams.splice(0)) await jsm.streams.delete(stream).catch(() => false);
      await admin.drain();
      admin = undefined;
    }
  });

  it('asks a named node again when its bridge was not up yet, and adds the late listing', async () => {
    const prefix = randomToken('e2eboot');
    const node = randomToken('node');
    const peer = randomPubkey();
    const listed = randomChannelPoint();
    exporter = await startExporter({
      prefix,
      args: [`--nats.nodes=${node}`, '--nats.bootstrap-timeout=1s'],
    });
    const e = exporter;
    // No bridge yet: both requests at start find no responder.
    await pollUntil(
      async () =>
        sampleValue(await scrape(e), 'chanfitness_bootstrap_failures_total', { node }) ?? 0,
      (n) => n >= 2,
      'the failed bootstrap at start',
    );

    // The bridge comes up: the next attempt (5 s after the first) lists the channel.
    responder = await bridge(prefix, node, {
      channels: [{ pubkey: peer, channelPoint: listed }],
      online: [peer],
    });
    const data = await pollUntil(
      () =>
        query<ChannelData>(e, CHANNEL_QUERY, { c: listed, n: node }).catch(() => ({
          channel: null,
        })),
      (d) => d.channel !== null,
      'the listed channel, from a later attempt',
      15_000,
    );
    assert.equal(data.channel?.peer.online, true);
    // Every failed request was counted, none since.
    const after = sampleValue(await scrape(e), 'chanfitness_bootstrap_failures_total', { node });
    assert.ok(after !== undefined && after >= 2, String(after));
    assert.ok(
      e
        .logs()
        .some((l) => l.node === node && l.msg === 'bootstrapped node' && l.incomplete === false),
    );
  });

  it('applies the listing where a JetStream backlog starts: the backlog keeps its own times', async () => {
    const prefix = randomToken('e2eboot');
    const node = randomToken('node');
    const stream = `E2E_BOOT_${randomToken('s').toUpperCase()}`;
    admin = await connect({ servers: SHARED_NATS_URL, name: 'chanfitness-e2e-admin' });
    const jsm = await admin.jetstreamManager();
    await jsm.streams.add({
      name: stream,
      subjects: [`${prefix}.*.channel_events`, `${prefix}.*.peer_events`],
    });
    streams.push(stream);

    // lnd has channel A with peer P (opened long ago) and, since the exporter went
    // down two hours ago, channel B with peer Q; P went offline, then online again.
    const now = Date.now();
    const down = now - 2 * HOUR;
    const p = randomPubkey();
    const q = randomPubkey();
    const a = randomChannelPoint();
    const b = randomChannelPoint();
    const js = admin.jetstream();
    await js.publish(`${prefix}.${node}.peer_events`, bytes(peerEventJson(p, false, down)));
    await js.publish(
      `${prefix}.${node}.peer_events`,
      bytes(peerEventJson(q, true, down + HOUR / 2)),
    );
    await js.publish(`${prefix}.${node}.channel_events`, bytes(openChannelJson(q, b, down + HOUR)));
    await js.publish(
      `${prefix}.${node}.peer_events`,
      bytes(peerEventJson(p, true, down + HOUR + 30 * MINUTE)),
    );
    responder = await bridge(prefix, node, {
      channels: [
        { pubkey: p, channelPoint: a },
        { pubkey: q, channelPoint: b },
      ],
      online: [p, q],
    });

    exporter = await startExporter({
      prefix,
      waitForSubscriptions: false,
      args: [`--nats.stream=${stream}`, `--nats.durable=${randomToken('d')}`],
    });
    const e = exporter;
    await pollUntil(
      () => appliedEvents(e, node),
      (n) => n === 3,
      'the backlog (B opened by the listing first: its open is a duplicate)',
    );
    const families = await scrape(e);
    assert.equal(sampleValue(families, 'chanfitness_events_reordered_total', { node }), 0);

    // A is there from where the backlog starts, and P's events at their own times.
    const channelA = (await query<ChannelData>(e, CHANNEL_QUERY, { c: a, n: node })).channel;
    assert.ok(channelA !== null);
    assert.equal(channelA.openedAt, iso(down));
    // Offline from the start of the backlog for 1 h 30 min, online since.
    const offline = channelA.lifetimeSeconds - channelA.uptimeSeconds;
    assert.ok(Math.abs(offline - 1.5 * 3600) < 1, `offline ${offline} s`);
    assert.equal(channelA.peer.online, true);
    // B, listed and opened in the backlog, is not younger than its open.
    const channelB = await query<ChannelData>(e, CHANNEL_QUERY, { c: b, n: node });
    assert.ok(channelB.channel !== null);
    assert.ok(Date.parse(channelB.channel.openedAt) <= down + HOUR, channelB.channel.openedAt);
  });
});
