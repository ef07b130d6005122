import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { openChannelJson, peerEventJson } from '../support/lnd-json.js';
import {
  appliedEvents,
  HOUR,
  MINUTE,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  sampleValue,
  scrape,
  startExporter,
  sumValues,
} from './support.js';

/**
 * Issue 4, Tests, bullet 2: every bad-input class of SPEC 3.4 is counted under
 * its reason in chanfitness_events_rejected_total, and the good events
 * published after each bad one are still applied (read back over GraphQL).
 */

interface BadCase {
  readonly reason: string;
  readonly subject: 'channel' | 'peer';
  readonly what: string;
  readonly payload: unknown;
}

const txid = () => randomBytes(32).toString('hex');

/** Polls GraphQL until the channel is tracked: the messages published before it are handled. */
async function channelTracked(
  exporter: ExporterProcess,
  node: string,
  channelPoint: string,
  what: string,
): Promise<void> {
  await pollUntil(
    () =>
      query<{ channel: { channelPoint: string } | null }>(
        exporter,
        'query ($c: String!, $n: String) { channel(channelPoint: $c, node: $n) { channelPoint } }',
        { c: channelPoint, n: node },
      ).catch(() => ({ channel: null })),
    (d) => d.channel?.channelPoint === channelPoint,
    what,
  );
}

function badCases(now: number, monitored: string): BadCase[] {
  const open = (pubkey: string, channelPoint: string) => ({
    type: 'OPEN_CHANNEL',
    open_channel: { remote_pubkey: pubkey, channel_point: channelPoint },
  });
  const channel = (reason: string, what: string, payload: unknown): BadCase => ({
    reason,
    subject: 'channel',
    what,
    payload,
  });
  const peer = (reason: string, what: string, payload: unknown): BadCase => ({
    reason,
    subject: 'peer',
    what,
    payload,
  });
  return [
    channel('invalid_json', 'not JSON', 'not json {'),
    channel('invalid_json', 'not UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])),
    peer('invalid_json', 'truncated JSON', '{"pub_key":'),
    channel('invalid_shape', 'an array', '[1,2,3]'),
    channel('invalid_shape', 'open_channel not an object', {
      type: 'OPEN_CHANNEL',
      open_channel: 'nope',
    }),
    channel('invalid_shape', 'no remote_pubkey', {
      type: 'OPEN_CHANNEL',
      open_channel: { channel_point: randomChannelPoint() },
    }),
    channel('invalid_shape', 'no type, no field', { something: 1 }),
    peer('invalid_shape', 'no pub_key', { type: 'PEER_ONLINE' }),
    channel('unknown_type', 'unknown channel event type', { type: 'CHANNEL_EXPLODED' }),
    peer('unknown_type', 'unknown peer event type', { pub_key: monitored, type: 'PEER_MAYBE' }),
    channel(
      'invalid_pubkey',
      '64 hex characters',
      open(`02${'ab'.repeat(31)}`, randomChannelPoint()),
    ),
    channel('invalid_pubkey', 'prefix 04', open(`04${'ab'.repeat(32)}`, randomChannelPoint())),
    channel('invalid_pubkey', 'not hex', open(`03${'zz'.repeat(32)}`, randomChannelPoint())),
    peer('invalid_pubkey', 'number', { pub_key: 2, type: 'PEER_ONLINE' }),
    peer('invalid_pubkey', 'prefix 05', { pub_key: `05${'cd'.repeat(32)}`, type: 'PEER_OFFLINE' }),
    channel('invalid_channel_point', 'short txid', open(randomPubkey(), 'abc:0')),
    channel('invalid_channel_point', 'no index', open(randomPubkey(), txid())),
    channel('invalid_channel_point', 'negative index', open(randomPubkey(), `${txid()}:-1`)),
    channel(
      'invalid_channel_point',
      'index over uint32',
      open(randomPubkey(), `${txid()}:4294967296`),
    ),
    channel('invalid_timestamp', 'words', {
      ...openChannelJson(randomPubkey(), randomChannelPoint()),
      timestamp: 'yesterday',
    }),
    channel('invalid_timestamp', 'Feb 30', {
      ...openChannelJson(randomPubkey(), randomChannelPoint()),
      timestamp: '2024-02-30T00:00:00Z',
    }),
    peer('invalid_timestamp', 'no offset', {
      ...peerEventJson(monitored, true),
      timestamp: '2024-05-01T12:00:00',
    }),
    peer('invalid_timestamp', 'a number', {
      ...peerEventJson(monitored, true),
      timestamp: 1_714_564_800,
    }),
    channel(
      'future_timestamp',
      '10 minutes ahead',
      openChannelJson(randomPubkey(), randomChannelPoint(), now + 10 * MINUTE),
    ),
    peer(
      'future_timestamp',
      'a day ahead',
      peerEventJson(monitored, false, now + 24 * 60 * MINUTE),
    ),
    channel('too_large', 'padded open', {
      ...openChannelJson(randomPubkey(), randomChannelPoint()),
      pad: 'x'.repeat(70_000),
    }),
    peer('too_large', 'padded peer event', {
      ...peerEventJson(monitored, true),
      pad: 'y'.repeat(66_000),
    }),
  ];
}

interface PeerData {
  peer: { flapCount: number; online: boolean; channels: { channelPoint: string }[] } | null;
}

describe('e2e: bad input is counted by reason and good input around it applied', function () {
  this.timeout(30_000);

  const prefix = randomToken('e2ebad');
  const node = randomToken('node');
  let exporter: ExporterProcess;
  let publisher: Publisher;

  before(async () => {
    exporter = await startExporter({ prefix });
    publisher = await Publisher.connect(prefix);
  });

  after(async () => {
    await publisher.close();
    await exporter.dispose();
  });

  // Bullet 2: one bad message of every class, each followed by a good one of the same subject.
  it('counts every class under its reason and applies the good events after each', async () => {
    const now = Date.now();
    const start = now - 60 * MINUTE;
    const monitored = randomPubkey();
    const monitoredChannel = randomChannelPoint();
    publisher.channel(node, openChannelJson(monitored, monitoredChannel, start));
    const cases = badCases(now, monitored);
    const opened: string[] = [];
    let peerEvents = 0;
    let online = false;
    cases.forEach((bad, i) => {
      const at = start + (i + 1) * 1000;
      if (bad.subject === 'channel') {
        publisher.channel(node, bad.payload);
        const channelPoint = randomChannelPoint(i);
        opened.push(channelPoint);
        const good = openChannelJson(randomPubkey(), channelPoint, at);
        // Bare and wrapped as lnd's REST stream, both good.
        publisher.channel(node, i % 2 === 0 ? good : { result: good });
      } else {
        publisher.peer(node, bad.payload);
        online = !online;
        peerEvents += 1;
        publisher.peer(node, peerEventJson(monitored, online, at));
      }
    });
    // The limit itself: a message of exactly 64 KiB is good.
    online = !online;
    peerEvents += 1;
    const atLimit = { ...peerEventJson(monitored, online, start + HOUR / 2), pad: '' };
    atLimit.pad = 'z'.repeat(65_536 - JSON.stringify(atLimit).length);
    assert.equal(Buffer.byteLength(JSON.stringify(atLimit)), 65_536);
    publisher.peer(node, atLimit);
    await publisher.flush();
    const good = 1 + opened.length + peerEvents;
    await pollUntil(
      () => appliedEvents(exporter, node),
      (n) => n === good,
      'the good events',
    );

    const families = await scrape(exporter);
    const expected = new Map<string, number>();
    for (const bad of cases) expected.set(bad.reason, (expected.get(bad.reason) ?? 0) + 1);
    for (const [reason, count] of expected) {
      assert.equal(
        sampleValue(families, 'chanfitness_events_rejected_total', { reason }),
        count,
        `${reason}: ${cases
          .filter((c) => c.reason === reason)
          .map((c) => c.what)
          .join(', ')}`,
      );
    }
    assert.equal(sumValues(families, 'chanfitness_events_rejected_total'), cases.length);
    assert.equal(
      sampleValue(families, 'chanfitness_events_total', {
        node,
        kind: 'peer',
        type: 'PEER_ONLINE',
      }),
      Math.ceil(peerEvents / 2),
    );

    // The good events' effect, over GraphQL.
    const channels = await query<{
      channels: { totalCount: number; nodes: { channelPoint: string }[] };
    }>(
      exporter,
      'query ($n: String) { channels(node: $n) { totalCount nodes { channelPoint } } }',
      { n: node },
    );
    assert.equal(channels.channels.totalCount, 1 + opened.length);
    assert.deepEqual(
      channels.channels.nodes.map((c) => c.channelPoint).sort(),
      [monitoredChannel, ...opened].sort(),
    );
    const peer = await query<PeerData>(
      exporter,
      'query ($pk: String!, $n: String) { peer(pubkey: $pk, node: $n) { flapCount online channels { channelPoint } } }',
      { pk: monitored, n: node },
    );
    // The creation flap plus one per good peer event; none from the bad ones.
    assert.deepEqual(peer.peer, {
      flapCount: 1 + peerEvents,
      online,
      channels: [{ channelPoint: monitoredChannel }],
    });

    // Each reason is logged.
    for (const reason of expected.keys()) {
      assert.ok(
        exporter.logs().some((l) => l.msg === 'rejected message' && l.reason === reason),
        `no log line for ${reason}`,
      );
    }
  });

  // Garbage names no node: no store, no bootstrap request, no node in GraphQL or the metrics.
  it('tracks no node for messages that do not decode on a subject of their own', async () => {
    const typo = randomToken('typo');
    const now = Date.now();
    publisher.channel(typo, 'not json {');
    publisher.channel(typo, { type: 'CHANNEL_EXPLODED' });
    publisher.peer(typo, { pub_key: `05${'cd'.repeat(32)}`, type: 'PEER_OFFLINE' });
    publisher.peer(typo, peerEventJson(randomPubkey(), true, now + 24 * 60 * MINUTE));
    // Published after them on the same connection: applied once they are all handled.
    const barrier = randomChannelPoint();
    publisher.channel(node, openChannelJson(randomPubkey(), barrier, now - MINUTE));
    await publisher.flush();
    await channelTracked(exporter, node, barrier, 'the open after the garbage');
    const nodes = await query<{ nodes: { id: string }[] }>(exporter, '{ nodes { id } }');
    assert.deepEqual(
      nodes.nodes.map((n) => n.id),
      [node],
    );
    const families = await scrape(exporter);
    assert.equal(
      sampleValue(families, 'chanfitness_bootstrap_failures_total', { node: typo }),
      undefined,
    );
    assert.equal(sumValues(families, 'chanfitness_events_total', { node: typo }), 0);
    assert.ok(
      !exporter.logs().some((l) => l.node === typo && l.msg !== 'rejected message'),
      'nothing but rejections logged for it',
    );
    // The node argument may still be omitted: exactly one node is tracked.
    const one = await query<{ channel: { channelPoint: string } | null }>(
      exporter,
      'query ($c: String!) { channel(channelPoint: $c) { channelPoint } }',
      { c: barrier },
    );
    assert.equal(one.channel?.channelPoint, barrier);
  });

  // Bullet 2 (SPEC 3.4 "logged, rate-limited"): a flood is counted in full, logged a few times.
  it('counts a flood in full but logs it rate-limited, and applies the event after it', async () => {
    const flood = 200;
    const before = await scrape(exporter);
    const rejectedBefore =
      sampleValue(before, 'chanfitness_events_rejected_total', {
        reason: 'unknown_type',
      }) ?? 0;
    const linesBefore = exporter.logs().filter((l) => l.reason === 'unknown_type').length;
    for (let i = 0; i < flood; i++) publisher.channel(node, { type: `NOT_A_TYPE_${i}` });
    const channelPoint = randomChannelPoint();
    publisher.channel(node, openChannelJson(randomPubkey(), channelPoint, Date.now() - MINUTE));
    await publisher.flush();
    await channelTracked(exporter, node, channelPoint, 'the open after the flood');
    const after = await scrape(exporter);
    assert.equal(
      sampleValue(after, 'chanfitness_events_rejected_total', { reason: 'unknown_type' }),
      rejectedBefore + flood,
    );
    const lines = exporter.logs().filter((l) => l.reason === 'unknown_type').length - linesBefore;
    // At most 5 lines a minute per reason (two were logged by the test before).
    assert.ok(lines <= 5, `${lines} log lines for ${flood} rejected messages`);
  });
});
