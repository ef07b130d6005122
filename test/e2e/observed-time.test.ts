import assert from 'node:assert/strict';
import { connect, type NatsConnection } from 'nats';
import { eventually, pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import {
  bytes,
  listChannelsJson,
  listPeersJson,
  openChannelJson,
  peerEventJson,
  statusJson,
} from '../support/lnd-json.js';
import {
  iso,
  MINUTE,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  sampleValue,
  scrape,
  SECOND,
  SHARED_NATS_URL,
  sqliteAccess,
  startExporter,
  type BackendAccess,
} from './support.js';

/**
 * Observed time (SPEC 4.4) through the real service on the real NATS, with
 * its history in SQLite: the exporter's own downtime is a gap in core NATS
 * mode and none in JetStream mode, and a node's `down` status makes it
 * unobserved until `--observer.settle` after its `up`.
 */

const NODE_QUERY = `{ nodes { id observed gaps { start end reason } } }`;

const CHANNEL_QUERY = `query ($c: String!, $n: String) {
  channel(channelPoint: $c, node: $n) {
    openedAt lifetimeSeconds unobservedSeconds uptimeSeconds
  }
}`;

interface GapJson {
  start: string;
  end: string | null;
  reason: string;
}

interface NodeJson {
  id: string;
  observed: boolean;
  gaps: GapJson[];
}

interface ChannelJson {
  openedAt: string;
  lifetimeSeconds: number;
  unobservedSeconds: number;
  uptimeSeconds: number;
}

async function nodeOf(e: ExporterProcess, node: string): Promise<NodeJson | undefined> {
  const data = await query<{ nodes: NodeJson[] }>(e, NODE_QUERY);
  return data.nodes.find((n) => n.id === node);
}

/** The channel, with the instants just before and after the query (its `now` is in between). */
async function channelOf(e: ExporterProcess, node: string, channelPoint: string) {
  const before = Date.now();
  const data = await query<{ channel: ChannelJson | null }>(e, CHANNEL_QUERY, {
    c: channelPoint,
    n: node,
  });
  const after = Date.now();
  assert.ok(data.channel, `channel ${channelPoint}`);
  return { channel: data.channel, before, after };
}

/** chanfitness_node_observed and chanfitness_node_unobserved_seconds_total of a node. */
async function observation(e: ExporterProcess, node: string) {
  const families = await scrape(e);
  return {
    observed: sampleValue(families, 'chanfitness_node_observed', { node }),
    unobserved: sampleValue(families, 'chanfitness_node_unobserved_seconds_total', { node }),
  };
}

async function waitReady(e: ExporterProcess): Promise<void> {
  await eventually(
    async () => (await fetch(`${e.url}/readyz`)).status === 200,
    'readiness',
    15_000,
  );
}

async function snapshotWrites(e: ExporterProcess): Promise<number> {
  return (
    sampleValue(await scrape(e), 'chanfitness_history_snapshot_writes_total', {
      result: 'success',
    }) ?? 0
  );
}

/** Lines of the exporter's log with this message, with their time (ms). */
function logTimes(e: ExporterProcess, msg: string): number[] {
  return e
    .logs()
    .filter((l) => l.msg === msg)
    .map((l) => Date.parse(String(l.time)));
}

describe('e2e: observed time, core NATS: the exporter down is an EXPORTER_DOWN gap', function () {
  this.timeout(30_000);
  let node = '';
  let backend: BackendAccess | undefined;
  let exporter: ExporterProcess | undefined;
  let publisher: Publisher | undefined;
  let bridge: NatsConnection | undefined;

  afterEach(async () => {
    await exporter?.dispose();
    exporter = undefined;
    await publisher?.close();
    await bridge?.drain();
    bridge = undefined;
    await backend?.cleanup([node]);
  });

  /**
   * Run 1 bootstraps the node (an empty listing), then a peer connects and a
   * channel with it opens (events, 10 min ago); when `quiet`, nothing happens
   * for three snapshot intervals, else a last peer event comes just before
   * the SIGTERM. Run 2 starts 3 s after the stop and bootstraps the node
   * again (listing the channel). Returns the gap and what the test saw.
   */
  async function restartScenario(quiet: boolean) {
    const prefix = randomToken('e2eobs');
    node = randomToken('node');
    backend = await sqliteAccess();
    publisher = await Publisher.connect(prefix);
    const pk = randomPubkey();
    const cp = randomChannelPoint();
    // The node's bridge: its listing has the channel once it is opened; replies are timed.
    let listing: { pubkey: string; channelPoint: string }[] = [];
    const replies: number[] = [];
    bridge = await connect({ servers: SHARED_NATS_URL, name: 'chanfitness-e2e-bridge' });
    bridge.subscribe(`${prefix}.${node}.rpc.list_peers`, {
      callback: (_err, msg) => {
        msg.respond(bytes(listPeersJson(listing.length > 0 ? [pk] : [])));
        replies.push(Date.now());
      },
    });
    bridge.subscribe(`${prefix}.${node}.rpc.list_channels`, {
      callback: (_err, msg) => {
        msg.respond(bytes(listChannelsJson(listing)));
        replies.push(Date.now());
      },
    });
    await bridge.flush();
    const start = () =>
      startExporter({
        prefix,
        args: [
          `--store.url=${backend!.url}`,
          `--nats.nodes=${node}`,
          '--history.snapshot-interval=1s',
          '--observer.settle=2s',
        ],
      });

    exporter = await start();
    const first = exporter;
    await first.waitForLog((l) => l.msg === 'bootstrapped node');
    const openedAt = Math.floor((Date.now() - 10 * MINUTE) / SECOND) * SECOND;
    publisher.peer(node, peerEventJson(pk, true, openedAt - SECOND));
    publisher.channel(node, openChannelJson(pk, cp, openedAt));
    await publisher.flush();
    listing = [{ pubkey: pk, channelPoint: cp }];
    await pollUntil(
      async () =>
        sampleValue(await scrape(first), 'chanfitness_peer_flap_count', { node, peer: pk }),
      (v) => v === 1,
      'the channel opened',
    );
    assert.deepEqual(await observation(first, node), { observed: 1, unobserved: 0 });
    assert.deepEqual(await nodeOf(first, node), { id: node, observed: true, gaps: [] });
    // Snapshots go on (nothing changes when quiet).
    const writes = await snapshotWrites(first);
    await pollUntil(
      () => snapshotWrites(first),
      (n) => n >= writes + (quiet ? 3 : 1),
      'more snapshots',
    );
    if (!quiet) {
      // A change the final snapshot writes: the peer's connectivity, said again (a flap).
      publisher.peer(node, peerEventJson(pk, true, Date.now()));
      await publisher.flush();
      await pollUntil(
        async () =>
          sampleValue(await scrape(first), 'chanfitness_peer_flap_count', { node, peer: pk }),
        (v) => v === 2,
        'the last event',
      );
    }

    const stopRequested = Date.now();
    const stopped = await first.stop('SIGTERM');
    const exited = Date.now();
    assert.equal(stopped.code, 0, first.output());
    assert.ok(first.logs().some((l) => l.msg === 'final history snapshot done'));
    await first.dispose();
    exporter = undefined;

    await new Promise((resolve) => setTimeout(resolve, 3 * SECOND));
    const repliesBefore = replies.length;
    exporter = await start();
    const second = exporter;
    // Unobserved from the restore until 2 s after the bootstrap reply.
    await second.waitForLog((l) => l.msg === 'bootstrapped node');
    const bootstrapLogged = logTimes(second, 'bootstrapped node')[0]!;
    const replied = Math.max(...replies.slice(repliesBefore));
    const settling = await observation(second, node);
    if (Date.now() < replied + 1_500) assert.equal(settling.observed, 0, 'settling');

    await pollUntil(
      () => observation(second, node),
      (o) => o.observed === 1,
      'observed again after the settle time',
    );
    const n = await nodeOf(second, node);
    assert.ok(n, 'the restored node');
    assert.equal(n.observed, true);
    assert.equal(n.gaps.length, 1, JSON.stringify(n.gaps));
    const gap = n.gaps[0]!;
    assert.equal(gap.reason, 'EXPORTER_DOWN');
    assert.ok(gap.end !== null);
    const gapStart = Date.parse(gap.start);
    const gapEnd = Date.parse(gap.end);
    // It ends the settle time after the second process's bootstrap reply.
    assert.ok(
      gapEnd - 2 * SECOND >= replied - 5 && gapEnd - 2 * SECOND <= bootstrapLogged + 100,
      `gap end ${gap.end}: 2 s after the reply (${iso(replied)} .. ${iso(bootstrapLogged)})`,
    );
    return { second, pk, cp, openedAt, gapStart, gapEnd, stopRequested, exited };
  }

  /** Unobserved total and the channel's figures, once the gap is over. */
  async function checkFigures(r: Awaited<ReturnType<typeof restartScenario>>) {
    const { second, cp, openedAt, gapStart, gapEnd, stopRequested, exited } = r;
    const gapSeconds = (gapEnd - gapStart) / 1000;
    // Unobserved: the downtime plus the settle time, nothing else.
    const after = await observation(second, node);
    assert.ok(after.unobserved !== undefined);
    assert.ok(
      Math.abs(after.unobserved - gapSeconds) < 1e-6,
      `${after.unobserved} s unobserved, the gap is ${gapSeconds} s`,
    );
    const downtime = (exited - stopRequested) / 1000 + 3;
    assert.ok(
      after.unobserved >= downtime + 2 && after.unobserved < downtime + 2 + 5,
      `${after.unobserved} s unobserved, down ${downtime} s + 2 s settle`,
    );

    // The channel's lifetime is its observed time: lifetime + unobserved = now - openedAt.
    const { channel, before, after: queried } = await channelOf(second, node, cp);
    assert.equal(channel.openedAt, iso(openedAt));
    assert.ok(Math.abs(channel.unobservedSeconds - gapSeconds) < 1e-6, JSON.stringify(channel));
    const total = channel.lifetimeSeconds + channel.unobservedSeconds;
    assert.ok(
      total >= (before - openedAt) / 1000 - 1 && total <= (queried - openedAt) / 1000 + 1,
      `lifetime ${channel.lifetimeSeconds} + unobserved ${channel.unobservedSeconds} s`,
    );
    // Online whenever observed: the gap is neither uptime nor downtime.
    assert.ok(
      Math.abs(channel.uptimeSeconds - channel.lifetimeSeconds) < 1e-6,
      JSON.stringify(channel),
    );
    const families = await scrape(second);
    const labels = { node, channel_point: cp };
    const lifetime = sampleValue(families, 'chanfitness_channel_lifetime_seconds', labels);
    assert.ok(lifetime !== undefined && Math.abs(lifetime - channel.lifetimeSeconds) < 2);
    assert.equal(sampleValue(families, 'chanfitness_channel_uptime_ratio', labels), 1);
  }

  it('from the final snapshot at the SIGTERM to the settle time after the next bootstrap reply', async () => {
    const r = await restartScenario(false);
    // The final snapshot wrote the last event: the gap starts at the stop.
    assert.ok(
      r.gapStart >= r.stopRequested - 5 && r.gapStart <= r.exited,
      `gap start ${iso(r.gapStart)}: stopped between ${iso(r.stopRequested)} and ${iso(r.exited)}`,
    );
    await checkFigures(r);
  });

  it('starts at the stop for a node quiet for several snapshot intervals before it', async () => {
    const r = await restartScenario(true);
    // The exporter ran, and observed the node, until it stopped: the gap
    // starts there (a snapshot interval before it at most), not at the node's
    // last change.
    assert.ok(
      r.gapStart >= r.stopRequested - 1_100 && r.gapStart <= r.exited,
      `gap start ${iso(r.gapStart)}: stopped between ${iso(r.stopRequested)} and ${iso(r.exited)}`,
    );
    await checkFigures(r);
  });
});

describe('e2e: observed time, JetStream: the exporter down is no gap', function () {
  this.timeout(30_000);
  const prefix = randomToken('e2eobs');
  const node = randomToken('node');
  const stream = `E2E_OBS_${randomToken('s').toUpperCase()}`;
  const durable = randomToken('d');
  let backend: BackendAccess | undefined;
  let exporter: ExporterProcess | undefined;
  let admin: NatsConnection | undefined;
  let beat: ReturnType<typeof setInterval> | undefined;

  after(async () => {
    clearInterval(beat);
    await exporter?.dispose();
    if (admin !== undefined) {
      const jsm = await admin.jetstreamManager();
      await jsm.streams.delete(stream).catch(() => false);
      await admin.drain();
    }
    await backend?.cleanup([node]);
  });

  it('replays the heartbeats and events published while it was killed: observed throughout', async () => {
    backend = await sqliteAccess();
    admin = await connect({ servers: SHARED_NATS_URL, name: 'chanfitness-e2e-observed' });
    const jsm = await admin.jetstreamManager();
    await jsm.streams.add({
      name: stream,
      subjects: [`${prefix}.*.channel_events`, `${prefix}.*.peer_events`, `${prefix}.*.status`],
    });
    const js = admin.jetstream();
    const publish = async (subject: string, payload: unknown) => {
      await js.publish(`${prefix}.${node}.${subject}`, bytes(payload));
    };
    const start = async () => {
      const e = await startExporter({
        prefix,
        waitForSubscriptions: false,
        args: [
          `--nats.stream=${stream}`,
          `--nats.durable=${durable}`,
          `--store.url=${backend!.url}`,
          '--history.snapshot-interval=1s',
          // Short, so that a silence would show within the test: 5 s down.
          '--observer.timeout=2s',
          '--observer.settle=2s',
        ],
      });
      await waitReady(e);
      return e;
    };

    // The bridge: lnd up, a heartbeat every 250 ms, the exporter running or not.
    await publish('status', statusJson(true, Date.now()));
    beat = setInterval(() => {
      admin?.publish(`${prefix}.${node}.status`, bytes(statusJson(true, Date.now())));
    }, 250);

    exporter = await start();
    const first = exporter;
    const pk = randomPubkey();
    const cp = randomChannelPoint();
    const openedAt = Date.now() - MINUTE;
    await publish('peer_events', peerEventJson(pk, true, openedAt - SECOND));
    await publish('channel_events', openChannelJson(pk, cp, openedAt));
    await pollUntil(
      async () =>
        sampleValue(await scrape(first), 'chanfitness_peer_flap_count', { node, peer: pk }),
      (v) => v === 1,
      'the channel opened',
    );
    const writes = await snapshotWrites(first);
    await pollUntil(
      () => snapshotWrites(first),
      (n) => n >= writes + 2,
      'a snapshot with the channel',
    );
    assert.deepEqual(await observation(first, node), { observed: 1, unobserved: 0 });

    const killed = await first.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    await first.dispose();
    exporter = undefined;
    // Down for longer than the timeout, heartbeats going on; the peer flaps meanwhile.
    const downFrom = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await publish('peer_events', peerEventJson(pk, false, Date.now()));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await publish('peer_events', peerEventJson(pk, true, Date.now()));
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    exporter = await start();
    const second = exporter;
    await pollUntil(
      async () => {
        const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
        return info?.num_pending;
      },
      (v) => v === 0,
      'the backlog replayed',
    );
    // The peer's flaps while the exporter was down count as any others.
    await pollUntil(
      async () =>
        sampleValue(await scrape(second), 'chanfitness_peer_flap_count', { node, peer: pk }),
      (v) => v === 3,
      'the flaps of the downtime, counted as any',
    );
    // The timer (every 1 s, once caught up) looks at the clock a few times.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.ok(Date.now() - downFrom > 2 * 2 * SECOND, 'down for more than the timeout');

    assert.deepEqual(await observation(second, node), { observed: 1, unobserved: 0 });
    const n = await nodeOf(second, node);
    assert.deepEqual(n, { id: node, observed: true, gaps: [] });
    const { channel, before, after } = await channelOf(second, node, cp);
    assert.equal(channel.unobservedSeconds, 0);
    assert.ok(
      channel.lifetimeSeconds >= (before - openedAt) / 1000 - 0.001 &&
        channel.lifetimeSeconds <= (after - openedAt) / 1000 + 0.001,
      `lifetime ${channel.lifetimeSeconds} s: now - openedAt`,
    );
    // Offline for the 1.5 s between the two peer events, which nobody missed.
    assert.ok(
      Math.abs(channel.lifetimeSeconds - channel.uptimeSeconds - 1.5) < 0.3,
      JSON.stringify(channel),
    );
  });
});

describe('e2e: observed time: a down status', function () {
  this.timeout(20_000);
  const prefix = randomToken('e2eobs');
  const node = randomToken('node');
  let exporter: ExporterProcess | undefined;
  let publisher: Publisher | undefined;

  after(async () => {
    await exporter?.dispose();
    await publisher?.close();
  });

  it('sets chanfitness_node_observed to 0 until the settle time after the next up', async () => {
    publisher = await Publisher.connect(prefix);
    exporter = await startExporter({ prefix, args: ['--observer.settle=2s', '--no-history'] });
    const e = exporter;
    const pk = randomPubkey();
    const cp = randomChannelPoint();
    const t0 = Date.now() - 10 * SECOND;
    publisher.status(node, statusJson(true, t0));
    publisher.peer(node, peerEventJson(pk, true, t0));
    publisher.channel(node, openChannelJson(pk, cp, t0));
    await publisher.flush();
    await pollUntil(
      () => observation(e, node),
      (o) => o.observed === 1,
      'observed',
    );

    const down = Date.now();
    publisher.status(node, statusJson(false, down));
    await publisher.flush();
    await pollUntil(
      () => observation(e, node),
      (o) => o.observed === 0,
      'unobserved after the down status',
    );
    assert.deepEqual((await nodeOf(e, node))?.gaps, [
      { start: iso(down), end: null, reason: 'LND_DOWN' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const up = Date.now();
    publisher.status(node, statusJson(true, up));
    await publisher.flush();
    await eventually(
      async () => (await nodeOf(e, node))?.gaps[0]?.end === iso(up + 2 * SECOND),
      'the planned end of the gap',
    );
    if (Date.now() < up + 1_500) assert.equal((await observation(e, node)).observed, 0);
    await pollUntil(
      () => observation(e, node),
      (o) => o.observed === 1,
      'observed after the settle time',
    );
    assert.ok(Date.now() >= up + 2 * SECOND);
    const o = await observation(e, node);
    assert.equal(o.unobserved, (up + 2 * SECOND - down) / 1000);
    const { channel } = await channelOf(e, node, cp);
    assert.equal(channel.unobservedSeconds, (up + 2 * SECOND - down) / 1000);
    assert.equal(channel.uptimeSeconds, channel.lifetimeSeconds);
  });
});
