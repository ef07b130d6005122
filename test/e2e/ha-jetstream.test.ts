/**
 * A highly available pair on NATS JetStream, through the real service: two
 * exporters consume one stream, each through a durable consumer of its own
 * (`--nats.durable`) into a SQLite store of its own, as the README's "Highly
 * available deployment" runs them. A steady stream of channel and peer events
 * (each with its payload time) is published; exporter A is killed (SIGKILL)
 * mid-stream; B keeps serving, and its figures equal a reference computed from
 * everything published so far; A is started again while the stream flows and
 * catches up exactly: once both have applied everything, every figure of A
 * (flap counts included) equals B's and the reference's, over GraphQL at fixed
 * instants and on /metrics.
 */
import assert from 'node:assert/strict';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import { delay, pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { bytes, closedChannelJson, openChannelJson, peerEventJson } from '../support/lnd-json.js';
import type { Family } from '../metrics/text-format-parser.js';
import {
  appliedEvents,
  HOUR,
  iso,
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
  sumValues,
  type BackendAccess,
} from './support.js';

/** Payload time between two events: every peer's events are more than the 1 s rate limit apart. */
const STEP = 2 * SECOND;
/** Wall time between two publications: about 50 events a second. */
const PACE_MS = 20;

interface ScriptEvent {
  readonly subject: 'channel_events' | 'peer_events';
  readonly payload: unknown;
}

interface PeerFacts {
  flapCount: number;
  lastFlap: number;
  online: boolean;
}

interface LogEvent {
  readonly t: number;
  readonly online: boolean;
}

/**
 * The reference: SPEC 2 for a history with no gap, no cooldown (it spans
 * minutes) and no rate limiting (events of a peer are STEP apart, flap counts
 * stay under 200): flap counts, last flaps, connectivity, open channels with
 * their opening, and each peer's event log, from which a channel's uptime over
 * a window follows. It is built event by event as the script is written and
 * copied at the instants the test compares against it.
 */
class Reference {
  t: number;
  readonly connectivity = new Map<string, boolean>();
  readonly peers = new Map<string, PeerFacts>();
  readonly channels = new Map<string, { peer: string; openedAt: number }>();
  /** The log of each peer with channels: committed events and the staged one, in order. */
  readonly logs = new Map<string, LogEvent[]>();

  constructor(start: number) {
    this.t = start;
  }

  private channelCount(pk: string): number {
    let n = 0;
    for (const c of this.channels.values()) if (c.peer === pk) n += 1;
    return n;
  }

  peer(pk: string, online = !(this.connectivity.get(pk) ?? false)): ScriptEvent {
    this.t += STEP;
    this.connectivity.set(pk, online);
    const facts = this.peers.get(pk);
    if (facts !== undefined) {
      facts.flapCount += 1;
      facts.lastFlap = this.t;
      facts.online = online;
      // Logged only while the peer has a channel (lnd drops the log with the last one).
      if (this.channelCount(pk) > 0) this.logs.get(pk)?.push({ t: this.t, online });
    }
    return { subject: 'peer_events', payload: peerEventJson(pk, online, this.t) };
  }

  open(pk: string, channelPoint = randomChannelPoint()): ScriptEvent {
    this.t += STEP;
    let facts = this.peers.get(pk);
    if (facts === undefined) {
      // The monitor's creation records the peer's connectivity: one flap, not logged.
      facts = { flapCount: 1, lastFlap: this.t, online: this.connectivity.get(pk) ?? false };
      this.peers.set(pk, facts);
    }
    this.channels.set(channelPoint, { peer: pk, openedAt: this.t });
    // A committed log that is empty gets the peer's state at the opening (the staged event does not count).
    const log = this.logs.get(pk) ?? [];
    if (log.length <= 1) log.push({ t: this.t, online: facts.online });
    this.logs.set(pk, log);
    return { subject: 'channel_events', payload: openChannelJson(pk, channelPoint, this.t) };
  }

  close(channelPoint: string): ScriptEvent {
    this.t += STEP;
    const channel = this.channels.get(channelPoint);
    assert.ok(channel !== undefined);
    this.channels.delete(channelPoint);
    if (this.channelCount(channel.peer) === 0) this.logs.delete(channel.peer);
    return {
      subject: 'channel_events',
      payload: closedChannelJson(channel.peer, channelPoint, this.t),
    };
  }

  /** The figures GraphQL gives at fixed instants: the state, and uptimes over [from, to]. */
  expected(from: number, to: number): Expected {
    const peers = [...this.peers].map(([pubkey, f]) => ({
      pubkey,
      online: f.online,
      flapCount: f.flapCount,
      lastFlap: iso(f.lastFlap),
      channels: [...this.channels]
        .filter(([, c]) => c.peer === pubkey)
        .map(([channelPoint]) => ({ channelPoint }))
        .sort(byChannelPoint),
    }));
    const channels = [...this.channels].map(([channelPoint, c]) => ({
      channelPoint,
      openedAt: iso(c.openedAt),
      peer: { pubkey: c.peer },
      uptimeSeconds: uptimeOf(this.logs.get(c.peer) ?? [], Math.max(from, c.openedAt), to) / 1000,
    }));
    return { peers: peers.sort(byPubkey), channels: channels.sort(byChannelPoint) };
  }
}

/** Online time of a log's periods (a trailing one runs on) inside [lo, hi]. */
function uptimeOf(log: readonly LogEvent[], lo: number, hi: number): number {
  let total = 0;
  let openAt: number | undefined;
  const add = (start: number, end: number) => {
    total += Math.max(0, Math.min(end, hi) - Math.max(start, lo));
  };
  for (const e of log) {
    if (e.online && openAt === undefined) openAt = e.t;
    if (!e.online && openAt !== undefined) {
      add(openAt, e.t);
      openAt = undefined;
    }
  }
  if (openAt !== undefined) add(openAt, Infinity);
  return total;
}

interface Expected {
  peers: {
    pubkey: string;
    online: boolean;
    flapCount: number;
    lastFlap: string;
    channels: { channelPoint: string }[];
  }[];
  channels: {
    channelPoint: string;
    openedAt: string;
    peer: { pubkey: string };
    uptimeSeconds: number;
  }[];
}

const byPubkey = (a: { pubkey: string }, b: { pubkey: string }) => a.pubkey.localeCompare(b.pubkey);
const byChannelPoint = (a: { channelPoint: string }, b: { channelPoint: string }) =>
  a.channelPoint.localeCompare(b.channelPoint);

const STATE_QUERY = `query ($n: String!, $from: DateTime!, $to: DateTime!) {
  peers(node: $n, first: 1000) {
    totalCount
    nodes { pubkey online flapCount lastFlap channels { channelPoint } }
  }
  channels(node: $n, first: 1000) {
    totalCount
    nodes {
      channelPoint
      openedAt
      peer { pubkey }
      uptime(from: $from, to: $to) { from to uptimeSeconds unobservedSeconds }
      onlinePeriods(to: $to) { start end }
    }
  }
}`;

interface StateAnswer {
  peers: { totalCount: number; nodes: Expected['peers'] };
  channels: {
    totalCount: number;
    nodes: {
      channelPoint: string;
      openedAt: string;
      peer: { pubkey: string };
      uptime: { from: string; to: string; uptimeSeconds: number; unobservedSeconds: number };
      onlinePeriods: { start: string; end: string | null }[];
    }[];
  };
}

/** An exporter's state over GraphQL at the fixed instants [from, to], in a stable order. */
async function stateOf(e: ExporterProcess, node: string, from: number, to: number) {
  const data = await query<StateAnswer>(e, STATE_QUERY, { n: node, from: iso(from), to: iso(to) });
  assert.equal(data.peers.totalCount, data.peers.nodes.length);
  assert.equal(data.channels.totalCount, data.channels.nodes.length);
  return {
    peers: data.peers.nodes
      .map((p) => ({ ...p, channels: [...p.channels].sort(byChannelPoint) }))
      .sort(byPubkey),
    channels: [...data.channels.nodes].sort(byChannelPoint),
  };
}

/** The part of a state the reference gives. */
function asExpected(state: Awaited<ReturnType<typeof stateOf>>): Expected {
  return {
    peers: state.peers,
    channels: state.channels.map((c) => ({
      channelPoint: c.channelPoint,
      openedAt: c.openedAt,
      peer: c.peer,
      uptimeSeconds: c.uptime.uptimeSeconds,
    })),
  };
}

/** Series of the per-channel and per-peer families, by name and label set. */
function seriesOf(families: Map<string, Family>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const [name, family] of families) {
    if (!name.startsWith('chanfitness_channel_') && !name.startsWith('chanfitness_peer_')) continue;
    const samples = new Map<string, number>();
    for (const s of family.samples) {
      const labels = Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b));
      samples.set(JSON.stringify(labels), s.value);
    }
    out.set(name, samples);
  }
  return out;
}

/** Per-channel families whose values move with the clock between two scrapes. */
const MOVING = new Set([
  'chanfitness_channel_lifetime_seconds',
  'chanfitness_channel_uptime_seconds',
  'chanfitness_channel_uptime_ratio',
  'chanfitness_channel_window_uptime_ratio',
]);

/**
 * /metrics of A and B scraped together: the same series, the same values.
 * Values that move with the clock may differ by what the time between the two
 * scrapes (δ) moves them: a lifetime or uptime by δ, a ratio by 2δ over the
 * lifetime. chanfitness_peer_flaps_total counts what this process applied (A
 * counts only its replay since its restart): its series must match, not its values.
 */
async function assertSameMetrics(a: ExporterProcess, b: ExporterProcess): Promise<number> {
  const started = performance.now();
  const [fa, fb] = await Promise.all([scrape(a), scrape(b)]);
  const delta = (performance.now() - started) / 1000;
  const sa = seriesOf(fa);
  const sb = seriesOf(fb);
  assert.deepEqual([...sa.keys()].sort(), [...sb.keys()].sort());
  let compared = 0;
  for (const [name, samplesA] of sa) {
    const samplesB = sb.get(name) ?? new Map<string, number>();
    assert.deepEqual([...samplesA.keys()].sort(), [...samplesB.keys()].sort(), `${name} series`);
    if (name === 'chanfitness_peer_flaps_total') continue;
    for (const [labels, va] of samplesA) {
      const vb = samplesB.get(labels) ?? Number.NaN;
      compared += 1;
      if (!MOVING.has(name)) {
        assert.equal(va, vb, `${name}${labels}`);
        continue;
      }
      const lifetime = sampleOf(fb, 'chanfitness_channel_lifetime_seconds', labels);
      const tolerance = name.endsWith('_seconds') ? delta : (2 * delta) / lifetime;
      assert.ok(Math.abs(va - vb) <= tolerance + 1e-9, `${name}${labels}: ${va} against ${vb}`);
    }
  }
  return compared;
}

/** The channel's lifetime, for the labels of any per-channel series (a window label aside). */
function sampleOf(families: Map<string, Family>, name: string, labels: string): number {
  const wanted = new Map(JSON.parse(labels) as [string, string][]);
  wanted.delete('window');
  const found = families
    .get(name)
    ?.samples.find((s) => [...wanted].every(([k, v]) => s.labels[k] === v));
  assert.ok(found !== undefined, `${name} of ${labels}`);
  return found.value;
}

describe('e2e: highly available pair on one JetStream stream', function () {
  this.timeout(90_000);

  const prefix = randomToken('e2eha');
  const node = randomToken('node');
  const stream = `E2E_HA_${randomToken('s').toUpperCase()}`;
  const durableA = randomToken('a');
  const durableB = randomToken('b');
  let storeA: BackendAccess | undefined;
  let storeB: BackendAccess | undefined;
  let a: ExporterProcess | undefined;
  let b: ExporterProcess | undefined;
  let admin: NatsConnection | undefined;

  after(async () => {
    await a?.dispose();
    await b?.dispose();
    if (admin !== undefined) {
      const jsm = await admin.jetstreamManager();
      await jsm.streams.delete(stream).catch(() => false);
      await admin.drain();
    }
    await storeA?.cleanup([node]);
    await storeB?.cleanup([node]);
  });

  it('serves complete data from B while A is down, and A catches up exactly', async () => {
    storeA = await sqliteAccess();
    storeB = await sqliteAccess();
    admin = await connect({ servers: SHARED_NATS_URL, name: 'chanfitness-e2e-ha' });
    const jsm = await admin.jetstreamManager();
    const js: JetStreamClient = admin.jetstream();

    const start = async (durable: string, store: BackendAccess) => {
      const e = await startExporter({
        prefix,
        waitForSubscriptions: false,
        args: [
          `--nats.stream=${stream}`,
          `--nats.durable=${durable}`,
          '--nats.create-stream',
          `--store.url=${store.url}`,
          '--history.snapshot-interval=1s',
          '--nats.bootstrap-timeout=1s',
        ],
      });
      await e.waitForLog((l) => l.msg === 'consuming JetStream', 20_000);
      return e;
    };
    a = await start(durableA, storeA);
    b = await start(durableB, storeB);

    // The script: 9 peers, channels opening and closing, peers flipping, STEP apart in
    // payload time, ending well before now (the 5-minute future limit is never near).
    // The reference is taken as it is after the CHECKPOINT-th event and at the end.
    const CHECKPOINT = 250;
    const ref = new Reference(Math.floor((Date.now() - 2 * HOUR) / SECOND) * SECOND);
    const from = ref.t;
    const pks = Array.from({ length: 9 }, () => randomPubkey());
    const p = (i: number) => pks[i] as string;
    const first = pks.map(() => randomChannelPoint());
    const script: ScriptEvent[] = [];
    let atCheckpoint: { expected: Expected; to: number } | undefined;
    const add = (e: ScriptEvent) => {
      script.push(e);
      if (script.length === CHECKPOINT)
        atCheckpoint = { expected: ref.expected(from, ref.t), to: ref.t };
    };
    // Connectivity before any channel: no flap, remembered for the monitors' creation.
    for (const i of [0, 1, 2, 8]) add(ref.peer(p(i), true));
    for (let i = 0; i < 8; i++) add(ref.open(p(i), first[i]));
    const flips = (peers: number[], until: number) => {
      for (let k = 0; script.length < until; k++) add(ref.peer(p(peers[k % peers.length] ?? 0)));
    };
    const eight = [0, 1, 2, 3, 4, 5, 6, 7];
    const nine = [...eight, 8];
    flips(eight, 100);
    add(ref.open(p(0)));
    add(ref.open(p(1)));
    flips(eight, 200);
    // p7's only channel closes (its log goes, its flaps still count); p8 gets its first.
    add(ref.close(first[7] as string));
    add(ref.open(p(8)));
    flips(nine, 320);
    add(ref.open(p(7)));
    flips(nine, 449);
    add(ref.close(first[0] as string));
    assert.equal(script.length, 450);
    const end = { expected: ref.expected(from, ref.t), to: ref.t };
    assert.ok(atCheckpoint !== undefined);
    const mid = atCheckpoint;

    let published = 0;
    let lastSeq = 0;
    /** Publishes script[published, until) at a steady pace, each acknowledged by the stream. */
    const publishUntil = async (until: number) => {
      for (; published < until; published++) {
        const e = script[published] as ScriptEvent;
        lastSeq = (await js.publish(`${prefix}.${node}.${e.subject}`, bytes(e.payload))).seq;
        await delay(PACE_MS);
      }
    };
    const rejected = async (e: ExporterProcess) =>
      sumValues(await scrape(e), 'chanfitness_events_rejected_total');
    const t0 = performance.now();
    const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

    // 1. Both apply the first part; A writes a snapshot that includes some of it.
    await publishUntil(150);
    const snapshotsOfA = async () =>
      sampleValue(await scrape(a!), 'chanfitness_history_snapshot_writes_total', {
        result: 'success',
      }) ?? 0;
    await pollUntil(
      () => appliedEvents(a!, node),
      (n) => n >= 100,
      'A applied events',
    );
    const writes = await snapshotsOfA();
    await pollUntil(snapshotsOfA, (n) => n >= writes + 1, 'a snapshot of A with events');

    // 2. A is killed while the stream flows.
    const flowing = publishUntil(CHECKPOINT);
    await delay(300);
    const killed = await a.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    const killedAt = published;
    await a.dispose();
    a = undefined;
    await flowing;
    assert.ok(killedAt < CHECKPOINT, `A killed mid-stream (after ${killedAt} events)`);

    // 3. B alone serves everything published so far: the reference at the checkpoint.
    await pollUntil(
      () => appliedEvents(b!, node),
      (n) => n === CHECKPOINT,
      'B applied everything published',
      15_000,
    );
    // Not a trivial reference: every peer monitored, channels with uptime and without.
    assert.equal(mid.expected.peers.length, 9);
    assert.ok(mid.expected.channels.length >= 10);
    assert.ok(mid.expected.channels.some((c) => c.uptimeSeconds > 0));
    assert.ok(mid.expected.peers.every((peer) => peer.flapCount > 1));
    const bAlone = await stateOf(b, node, from, mid.to);
    assert.deepEqual(asExpected(bAlone), mid.expected, 'B while A is down against the reference');
    console.log(
      `      A killed after ${killedAt} events; B complete at ${CHECKPOINT} (${elapsed()})`,
    );

    // 4. A is started again while the stream flows, and catches up.
    const flowingAgain = publishUntil(300);
    await delay(200);
    const restartedAt = published;
    a = await start(durableA, storeA);
    await flowingAgain;
    await publishUntil(script.length);
    await pollUntil(
      async () => {
        const info = await jsm.consumers.info(stream, durableA).catch(() => undefined);
        return info === undefined ? 'no consumer' : [info.ack_floor.stream_seq, info.num_pending];
      },
      (v) => Array.isArray(v) && v[0] === lastSeq && v[1] === 0,
      'A acknowledged everything',
      20_000,
    );
    await pollUntil(
      () => appliedEvents(b!, node),
      (n) => n === script.length,
      'B applied everything',
      15_000,
    );
    console.log(
      `      A restarted after ${restartedAt} events; both caught up at ${script.length} (${elapsed()})`,
    );

    // 5. Every figure of A equals B's and the reference's: GraphQL at fixed instants...
    const stateA = await stateOf(a, node, from, end.to);
    const stateB = await stateOf(b, node, from, end.to);
    assert.deepEqual(stateA, stateB, 'A (restarted) against B');
    assert.deepEqual(asExpected(stateB), end.expected, 'B against the reference');
    assert.ok(stateA.channels.some((c) => c.onlinePeriods.length >= 5));
    // ... and /metrics: every per-channel and per-peer series.
    const compared = await assertSameMetrics(a, b);
    assert.ok(compared > 50, `${compared} samples compared`);
    // A replayed from its snapshot, and nothing was rejected or applied twice.
    assert.ok((await appliedEvents(a, node)) < script.length);
    assert.equal(await rejected(a), 0);
    assert.equal(await rejected(b), 0);
    const flaps = (families: Map<string, Family>) =>
      [...(families.get('chanfitness_peer_flap_count')?.samples ?? [])]
        .map((s) => [s.labels.peer, s.value] as const)
        .sort(([x], [y]) => (x ?? '').localeCompare(y ?? ''));
    assert.deepEqual(
      flaps(await scrape(a)),
      end.expected.peers.map((peer) => [peer.pubkey, peer.flapCount] as const),
    );
  });
});
