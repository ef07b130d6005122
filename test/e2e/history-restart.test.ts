import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import KeyvPostgres from '@keyv/postgres';
import { createClient } from '@keyv/redis';
import { connect, type NatsConnection } from 'nats';
import { eventually, pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { PrivateRedisServer } from '../support/redis-server.js';
import {
  bytes,
  closedChannelJson,
  listChannelsJson,
  listPeersJson,
  openChannelJson,
  peerEventJson,
} from '../support/lnd-json.js';
import {
  appliedEvents,
  graphql,
  HOUR,
  iso,
  MINUTE,
  postgresAccess,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  redisAccess,
  sampleValue,
  scrape,
  SECOND,
  SHARED_NATS_URL,
  SHARED_POSTGRES_URL,
  SHARED_REDIS_URL,
  sqliteAccess,
  startExporter,
  type BackendAccess,
} from './support.js';

/**
 * SPEC 4.2 (history survives restarts) through the real service, NATS and stores:
 * a JetStream exporter killed with SIGKILL ends in the state of one that never
 * stopped (each backend); a core NATS exporter stopped with SIGTERM continues
 * exactly; and its first bootstrap after a restart reconciles with the listings.
 * Every event carries its payload time, and windows end at fixed times, so that
 * no figure depends on when the test runs.
 */

const PEER_QUERY = `query ($pk: String!, $n: String) {
  peer(pubkey: $pk, node: $n) { online flapCount lastFlap }
}`;

const CHANNEL_QUERY = `query ($c: String!, $n: String, $from: DateTime!, $to: DateTime!) {
  channel(channelPoint: $c, node: $n) {
    openedAt
    onlinePeriods(to: $to) { start end }
    uptime(from: $from, to: $to) { uptimeSeconds }
  }
}`;

interface PeerState {
  online: boolean | null;
  flapCount: number;
  lastFlap: string | null;
}

interface ChannelState {
  openedAt: string;
  onlinePeriods: { start: string; end: string | null }[];
  uptime: { uptimeSeconds: number };
}

async function peerState(e: ExporterProcess, node: string, pk: string): Promise<PeerState> {
  const data = await query<{ peer: PeerState | null }>(e, PEER_QUERY, { pk, n: node });
  assert.ok(data.peer !== null, `peer ${pk} unknown`);
  return data.peer;
}

/** A channel's state, or the error codes when it is not found. */
async function channelState(
  e: ExporterProcess,
  node: string,
  channelPoint: string,
  from: number,
  to: number,
): Promise<ChannelState | { codes: (string | undefined)[] }> {
  const result = await graphql<{ channel: ChannelState | null }>(e, CHANNEL_QUERY, {
    c: channelPoint,
    n: node,
    from: iso(from),
    to: iso(to),
  });
  if (result.data?.channel === null || result.data?.channel === undefined) {
    return { codes: (result.errors ?? []).map((err) => err.extensions?.code) };
  }
  return result.data.channel;
}

function uptimeOf(state: ChannelState | { codes: unknown }): number {
  assert.ok('uptime' in state, JSON.stringify(state));
  return state.uptime.uptimeSeconds;
}

async function waitReady(e: ExporterProcess): Promise<void> {
  await eventually(
    async () => (await fetch(`${e.url}/readyz`)).status === 200,
    'readiness',
    20_000,
  );
}

/** Waits until the persisted history is restored (or found absent). */
async function waitRestored(e: ExporterProcess): Promise<void> {
  await pollUntil(
    async () => sampleValue(await scrape(e), 'chanfitness_history_restored'),
    (v) => v === 1,
    'the history restored',
  );
}

async function snapshotWrites(e: ExporterProcess): Promise<number> {
  return (
    sampleValue(await scrape(e), 'chanfitness_history_snapshot_writes_total', {
      result: 'success',
    }) ?? 0
  );
}

/** Waits for two more successful snapshots: the second captured after this call. */
async function snapshotIncludingNow(e: ExporterProcess): Promise<void> {
  const before = await snapshotWrites(e);
  await pollUntil(
    () => snapshotWrites(e),
    (n) => n >= before + 2,
    'a later snapshot',
    10_000,
  );
  const stamp = sampleValue(await scrape(e), 'chanfitness_history_last_snapshot_timestamp_seconds');
  assert.ok(stamp !== undefined && stamp > 0, String(stamp));
}

/** One event to publish, with what it does to a peer's flap count (SPEC 2). */
interface ScriptEvent {
  readonly subject: 'channel_events' | 'peer_events';
  readonly payload: unknown;
}

/**
 * A history of one node with payload times STEP apart and the flap counts,
 * last flaps and connectivity the store must end with.
 */
class Script {
  static readonly STEP = 3 * SECOND;
  t: number;
  readonly online = new Map<string, boolean>();
  readonly monitored = new Set<string>();
  readonly flaps = new Map<string, number>();
  readonly lastFlap = new Map<string, number>();
  /** Channel point -> peer, of the channels ever opened. */
  readonly channels = new Map<string, string>();

  constructor(start: number) {
    this.t = start;
  }

  private flap(pk: string): void {
    this.flaps.set(pk, (this.flaps.get(pk) ?? 0) + 1);
    this.lastFlap.set(pk, this.t);
  }

  /** A peer event flipping its connectivity (or setting it). */
  peer(pk: string, online = !(this.online.get(pk) ?? false)): ScriptEvent {
    this.t += Script.STEP;
    this.online.set(pk, online);
    if (this.monitored.has(pk)) this.flap(pk);
    return { subject: 'peer_events', payload: peerEventJson(pk, online, this.t) };
  }

  open(pk: string, channelPoint = randomChannelPoint()): ScriptEvent {
    this.t += Script.STEP;
    this.channels.set(channelPoint, pk);
    // The monitor's creation records the peer's connectivity: one flap.
    if (!this.monitored.has(pk)) {
      this.monitored.add(pk);
      this.flap(pk);
    }
    return { subject: 'channel_events', payload: openChannelJson(pk, channelPoint, this.t) };
  }

  close(channelPoint: string): ScriptEvent {
    this.t += Script.STEP;
    const pk = this.channels.get(channelPoint);
    assert.ok(pk !== undefined);
    return { subject: 'channel_events', payload: closedChannelJson(pk, channelPoint, this.t) };
  }

  /** Every peer flips `rounds` times, interleaved. */
  rounds(peers: readonly string[], rounds: number): ScriptEvent[] {
    const out: ScriptEvent[] = [];
    for (let r = 0; r < rounds; r++) for (const pk of peers) out.push(this.peer(pk));
    return out;
  }
}

/** Where exporter A keeps its history: one backend, cleaned before and after. */
interface AStore {
  readonly backend: BackendAccess;
  /** Removes every history key and the nodes' flap records, closes what it opened. */
  cleanup(nodes: readonly string[]): Promise<void>;
}

async function sqliteStore(): Promise<AStore> {
  const backend = await sqliteAccess();
  return { backend, cleanup: (nodes) => backend.cleanup(nodes) };
}

/** A Redis database of this test (not the shared db 0): `hist:jetstream` is one key per store. */
async function redisStore(): Promise<AStore> {
  const db = 8 + (randomBytes(1)[0]! % 8);
  const url = `${SHARED_REDIS_URL}/${db}`;
  const purge = async () => {
    const client = createClient({ url });
    await client.connect();
    try {
      const keys = await client.keys('chanfitness:hist:*');
      if (keys.length > 0) await client.del(keys);
    } finally {
      client.destroy();
    }
  };
  await purge();
  const backend = await redisAccess(url);
  return {
    backend,
    async cleanup(nodes) {
      await backend.cleanup(nodes);
      await purge();
    },
  };
}

/** One statement on the shared database, through a pool of its own (Keyv ends only the last one). */
async function adminQuery(sql: string): Promise<void> {
  const admin = new KeyvPostgres({ uri: SHARED_POSTGRES_URL, table: 'keyv' });
  try {
    await admin.query(sql);
  } finally {
    await admin.disconnect();
  }
}

/** A PostgreSQL database of its own on the shared server, dropped afterwards. */
async function postgresStore(): Promise<AStore> {
  const name = `chanfitness_e2e_${randomBytes(5).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const backend = await postgresAccess(`${SHARED_POSTGRES_URL.replace(/\/[^/]*$/, '')}/${name}`);
  return {
    backend,
    async cleanup(nodes) {
      try {
        await backend.cleanup(nodes);
      } finally {
        await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    },
  };
}

const BACKENDS: readonly { name: string; open: () => Promise<AStore> }[] = [
  { name: 'sqlite', open: sqliteStore },
  { name: 'redis', open: redisStore },
  { name: 'postgres', open: postgresStore },
];

for (const { name, open } of BACKENDS) {
  describe(`e2e: history across a SIGKILL in JetStream mode (${name})`, function () {
    this.timeout(30_000);

    const prefix = randomToken('e2ehist');
    const node = randomToken('node');
    const stream = `E2E_HIST_${randomToken('s').toUpperCase()}`;
    let store: AStore | undefined;
    let reference: Awaited<ReturnType<typeof sqliteAccess>> | undefined;
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
      try {
        await store?.cleanup([node]);
      } finally {
        await reference?.cleanup([node]);
      }
    });

    it('ends in the state of an exporter that never stopped: every flap exactly once', async () => {
      store = await open();
      reference = await sqliteAccess();
      admin = await connect({ servers: SHARED_NATS_URL, name: 'chanfitness-e2e-history' });
      const jsm = await admin.jetstreamManager();
      await jsm.streams.add({
        name: stream,
        subjects: [`${prefix}.*.channel_events`, `${prefix}.*.peer_events`],
      });
      const js = admin.jetstream();
      let lastSeq = 0;
      let published = 0;
      const publish = async (events: readonly ScriptEvent[]) => {
        for (const e of events) {
          lastSeq = (await js.publish(`${prefix}.${node}.${e.subject}`, bytes(e.payload))).seq;
          published += 1;
        }
      };

      const durableA = randomToken('a');
      const args = (durable: string, url: string, interval: string) => [
        `--nats.stream=${stream}`,
        `--nats.durable=${durable}`,
        `--store.url=${url}`,
        `--history.snapshot-interval=${interval}`,
        '--log.level=info',
      ];
      const startA = async () => {
        const e = await startExporter({
          prefix,
          waitForSubscriptions: false,
          args: args(durableA, store!.backend.url, '2s'),
        });
        await waitReady(e);
        return e;
      };
      a = await startA();
      b = await startExporter({
        prefix,
        waitForSubscriptions: false,
        args: args(randomToken('b'), reference.url, '1s'),
      });
      await waitReady(b);

      const script = new Script(Math.floor((Date.now() - 3 * HOUR) / SECOND) * SECOND);
      const peers = Array.from({ length: 5 }, () => randomPubkey());
      const first = new Map(peers.map((pk) => [pk, randomChannelPoint()]));
      const extra = randomChannelPoint(1);
      const late = randomPubkey();
      const lateChannel = randomChannelPoint();

      // Batch 1: connectivity before any channel (no flap), the opens, many flips.
      const batch1 = [
        script.peer(peers[0]!, true),
        script.peer(peers[1]!, true),
        ...peers.map((pk) => script.open(pk, first.get(pk))),
        ...script.rounds(peers, 6),
      ];
      await publish(batch1);
      await pollUntil(
        () => appliedEvents(a!, node),
        (n) => n === batch1.length,
        'A applied batch 1',
        15_000,
      );
      await snapshotIncludingNow(a);

      // Batch 2, just after a snapshot: applied and acknowledged by A, killed before the
      // next snapshot (2 s later) can include it.
      const batch2 = [script.open(peers[0]!, extra), ...script.rounds(peers, 4)];
      await publish(batch2);
      await pollUntil(
        () => appliedEvents(a!, node),
        (n) => n === batch1.length + batch2.length,
        'A applied batch 2',
        15_000,
      );
      const killed = await a.stop('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      await a.dispose();
      a = undefined;

      // Batch 3, while A is down: a close (the monitor stays, its log goes), more
      // flips (the closed peer's still count), a new peer's channel.
      const batch3 = [
        script.close(first.get(peers[4]!)!),
        ...script.rounds(peers, 3),
        script.peer(late, true),
        script.open(late, lateChannel),
        ...script.rounds([late, ...peers.slice(0, 2)], 3),
      ];
      await publish(batch3);

      a = await startA();
      const restarted = a;
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
        (n) => n === published,
        'B applied everything',
        15_000,
      );

      // A replayed from its snapshot: batch 2 again (acknowledged, not in the snapshot), then batch 3.
      assert.equal(await appliedEvents(restarted, node), batch2.length + batch3.length);

      const from = script.t - 4 * HOUR;
      const to = script.t + 10 * MINUTE;
      for (const pk of [...peers, late]) {
        const stateA: PeerState = await peerState(restarted, node, pk);
        const stateB: PeerState = await peerState(b, node, pk);
        assert.deepEqual(stateA, stateB, `peer ${pk}: A (restarted) against B`);
        assert.deepEqual(
          stateA,
          {
            online: script.online.get(pk),
            flapCount: script.flaps.get(pk),
            lastFlap: iso(script.lastFlap.get(pk)!),
          },
          `peer ${pk}: no flap lost or counted twice`,
        );
      }
      for (const channelPoint of script.channels.keys()) {
        const stateA = await channelState(restarted, node, channelPoint, from, to);
        const stateB = await channelState(b, node, channelPoint, from, to);
        assert.deepEqual(stateA, stateB, `channel ${channelPoint}: A (restarted) against B`);
      }
      // The closed channel is gone from both; the others have their history.
      assert.deepEqual(await channelState(restarted, node, first.get(peers[4]!)!, from, to), {
        codes: ['CHANNEL_NOT_FOUND'],
      });
      const kept = await channelState(restarted, node, first.get(peers[0]!)!, from, to);
      assert.ok(uptimeOf(kept) > 0);
      assert.ok('onlinePeriods' in kept && kept.onlinePeriods.length >= 9, JSON.stringify(kept));
      const families = await scrape(restarted);
      assert.equal(sampleValue(families, 'chanfitness_events_reordered_total', { node }) ?? 0, 0);
    });
  });
}

describe('e2e: history across a SIGTERM restart in core NATS mode (sqlite)', function () {
  this.timeout(30_000);
  const prefix = randomToken('e2ehist');
  const node = randomToken('node');
  let backend: BackendAccess | undefined;
  let exporter: ExporterProcess | undefined;
  let publisher: Publisher | undefined;

  after(async () => {
    await exporter?.dispose();
    await publisher?.close();
    await backend?.cleanup([node]);
  });

  it('continues openedAt, flap counts, last flaps and online periods exactly', async () => {
    backend = await sqliteAccess();
    publisher = await Publisher.connect(prefix);
    const start = () =>
      startExporter({
        prefix,
        args: [`--store.url=${backend!.url}`, '--history.snapshot-interval=1s'],
      });
    const t0 = Math.floor((Date.now() - HOUR) / SECOND) * SECOND;
    const at = (s: number) => t0 + s * SECOND;
    const p = randomPubkey();
    const q = randomPubkey();
    const cp = randomChannelPoint();
    const cq = randomChannelPoint();

    exporter = await start();
    publisher.peer(node, peerEventJson(p, true, at(0)));
    publisher.channel(node, openChannelJson(p, cp, at(10)));
    publisher.channel(node, openChannelJson(q, cq, at(20)));
    publisher.peer(node, peerEventJson(p, false, at(60)));
    publisher.peer(node, peerEventJson(q, true, at(90)));
    publisher.peer(node, peerEventJson(p, true, at(120)));
    await publisher.flush();
    await pollUntil(
      () => appliedEvents(exporter!, node),
      (n) => n === 6,
      'run 1 events',
    );

    const read = async (e: ExporterProcess) => ({
      p: await peerState(e, node, p),
      q: await peerState(e, node, q),
      cp: await channelState(e, node, cp, at(0), at(300)),
      cq: await channelState(e, node, cq, at(0), at(300)),
    });
    const before = await read(exporter);
    assert.deepEqual(before.p, { online: true, flapCount: 3, lastFlap: iso(at(120)) });
    assert.deepEqual(before.q, { online: true, flapCount: 2, lastFlap: iso(at(90)) });
    assert.equal('openedAt' in before.cp && before.cp.openedAt, iso(at(10)));
    assert.equal('openedAt' in before.cq && before.cq.openedAt, iso(at(20)));
    assert.equal(uptimeOf(before.cp), 50 + 180);
    assert.equal(uptimeOf(before.cq), 210);

    const stopped = await exporter.stop('SIGTERM');
    assert.equal(stopped.code, 0, exporter.output());
    assert.ok(
      exporter.logs().some((l) => l.msg === 'final history snapshot done'),
      exporter.output(),
    );
    await exporter.dispose();

    exporter = await start();
    await waitRestored(exporter);
    assert.deepEqual(await read(exporter), before, 'the same state after the restart');

    // Later events add on to the restored history.
    publisher.peer(node, peerEventJson(p, false, at(200)));
    publisher.peer(node, peerEventJson(q, false, at(210)));
    publisher.peer(node, peerEventJson(p, true, at(240)));
    await publisher.flush();
    await pollUntil(
      () => appliedEvents(exporter!, node),
      (n) => n === 3,
      'run 2 events',
    );
    const afterRestart = await read(exporter);
    assert.deepEqual(afterRestart.p, { online: true, flapCount: 5, lastFlap: iso(at(240)) });
    assert.deepEqual(afterRestart.q, { online: false, flapCount: 3, lastFlap: iso(at(210)) });
    assert.ok('onlinePeriods' in afterRestart.cp && 'onlinePeriods' in afterRestart.cq);
    assert.equal(afterRestart.cp.openedAt, iso(at(10)));
    assert.equal(afterRestart.cq.openedAt, iso(at(20)));
    assert.deepEqual(
      afterRestart.cp.onlinePeriods.map((o) => o.start),
      [iso(at(10)), iso(at(120)), iso(at(240))],
    );
    assert.deepEqual(
      afterRestart.cp.onlinePeriods.slice(0, 2).map((o) => o.end),
      [iso(at(60)), iso(at(200))],
    );
    assert.deepEqual(afterRestart.cq.onlinePeriods, [{ start: iso(at(90)), end: iso(at(210)) }]);
    assert.equal(uptimeOf(afterRestart.cp), 50 + 80 + 60);
    assert.equal(uptimeOf(afterRestart.cq), 120);
  });
});

describe('e2e: the first bootstrap after a core NATS restart reconciles the history', function () {
  this.timeout(30_000);
  let backend: BackendAccess | undefined;
  let exporter: ExporterProcess | undefined;
  let publisher: Publisher | undefined;
  let bridge: NatsConnection | undefined;
  let node = '';

  afterEach(async () => {
    await exporter?.dispose();
    exporter = undefined;
    await publisher?.close();
    await bridge?.drain();
    bridge = undefined;
    await backend?.cleanup([node]);
  });

  /**
   * Run 1 bootstraps c1 (p1, listed online) and c2 (p2, offline), then c3 (p3)
   * opens by event and p3 comes online by event. While the exporter is down
   * (SIGTERM) c2 closes, c4 opens with a new peer p4, p3 goes offline, and p1
   * too when `p1Offline`. Run 2 restores and reconciles with that listing.
   */
  async function restartAgainstChangedListing(p1Offline: boolean) {
    const prefix = randomToken('e2ehist');
    node = randomToken('node');
    backend = await sqliteAccess();
    publisher = await Publisher.connect(prefix);
    const [p1, p2, p3, p4] = [randomPubkey(), randomPubkey(), randomPubkey(), randomPubkey()];
    const [c1, c2, c3, c4] = [
      randomChannelPoint(),
      randomChannelPoint(),
      randomChannelPoint(),
      randomChannelPoint(),
    ];
    // What the node's bridge answers; changed while the exporter is down.
    let listing = {
      channels: [
        { pubkey: p1, channelPoint: c1 },
        { pubkey: p2, channelPoint: c2 },
      ],
      online: [p1],
    };
    bridge = await connect({ servers: SHARED_NATS_URL, name: 'chanfitness-e2e-bridge' });
    bridge.subscribe(`${prefix}.${node}.rpc.list_peers`, {
      callback: (_err, msg) => msg.respond(bytes(listPeersJson(listing.online))),
    });
    bridge.subscribe(`${prefix}.${node}.rpc.list_channels`, {
      callback: (_err, msg) => msg.respond(bytes(listChannelsJson(listing.channels))),
    });
    await bridge.flush();

    const start = () =>
      startExporter({
        prefix,
        args: [
          `--store.url=${backend!.url}`,
          `--nats.nodes=${node}`,
          '--history.snapshot-interval=1s',
        ],
      });
    const far = Date.now() + HOUR;
    const channelOf = (e: ExporterProcess, c: string) => channelState(e, node, c, 0, far);

    exporter = await start();
    const first = exporter;
    const c1Before = await pollUntil(
      () => channelOf(first, c1),
      (s) => 'openedAt' in s,
      'the bootstrapped channel',
    );
    // A channel opened by an event (payload time) after the bootstrap.
    const opened = Math.floor((Date.now() - 10 * MINUTE) / SECOND) * SECOND;
    publisher.channel(node, openChannelJson(p3, c3, opened));
    publisher.peer(node, peerEventJson(p3, true, opened + SECOND));
    await publisher.flush();
    await pollUntil(
      () => appliedEvents(first, node),
      (n) => n === 2,
      'the open of c3',
    );
    const p1Before = await peerState(first, node, p1);
    const p3Before = await peerState(first, node, p3);
    assert.equal(p1Before.online, true);
    assert.equal(p3Before.online, true);
    const stopped = await exporter.stop('SIGTERM');
    assert.equal(stopped.code, 0, exporter.output());
    await exporter.dispose();

    listing = {
      channels: [
        { pubkey: p1, channelPoint: c1 },
        { pubkey: p3, channelPoint: c3 },
        { pubkey: p4, channelPoint: c4 },
      ],
      online: p1Offline ? [] : [p1],
    };
    const restartAt = Date.now();
    exporter = await start();
    const second = exporter;
    await waitRestored(second);
    await second.waitForLog((l) => l.msg === 'restored history reconciled with the node listings');

    // Channels: c2 closed, c4 added at the reply time, c1 and c3 keep their openedAt.
    assert.deepEqual(await channelOf(second, c2), { codes: ['CHANNEL_NOT_FOUND'] });
    const c1After = await channelOf(second, c1);
    assert.ok('openedAt' in c1After && 'openedAt' in c1Before);
    assert.equal(c1After.openedAt, c1Before.openedAt, 'c1 keeps its openedAt');
    const c3After = await channelOf(second, c3);
    assert.ok('openedAt' in c3After);
    assert.equal(c3After.openedAt, iso(opened), 'c3 keeps its openedAt');
    const c4After = await channelOf(second, c4);
    assert.ok('openedAt' in c4After, JSON.stringify(c4After));
    const c4Opened = Date.parse(c4After.openedAt);
    assert.ok(c4Opened >= restartAt && c4Opened <= Date.now(), c4After.openedAt);
    assert.equal((await peerState(second, node, p4)).online, false);

    // p3 (connectivity known from its event) is offline now, applied at the reply
    // time: inside the gap of the exporter's own downtime (EXPORTER_DOWN), so no flap.
    const p3After = await peerState(second, node, p3);
    assert.equal(p3After.online, false);
    assert.equal(p3After.flapCount, p3Before.flapCount);
    assert.equal(p3After.lastFlap, p3Before.lastFlap);
    return { second, p1Before, p1After: await peerState(second, node, p1), restartAt };
  }

  it('closes unlisted channels, adds new ones, applies changed connectivity, keeps openedAt', async () => {
    const { p1Before, p1After } = await restartAgainstChangedListing(false);
    // p1 still listed online: unchanged.
    assert.deepEqual(p1After, p1Before);
  });

  // The restored state is compared with the new listing, not the listing with itself
  // (connectivity() falls back to the listing just read).
  it('applies a changed connectivity known only from the previous listing', async () => {
    const { second, p1Before, p1After } = await restartAgainstChangedListing(true);
    assert.equal(
      p1After.online,
      false,
      JSON.stringify(second.logs().filter((l) => /reconcil/.test(String(l.msg)))),
    );
    // Inside the gap of the exporter's downtime: connectivity, no flap.
    assert.equal(p1After.flapCount, p1Before.flapCount);
    assert.equal(p1After.lastFlap, p1Before.lastFlap);
  });
});

describe('e2e: history through a Redis killed during snapshots that comes back empty', function () {
  this.timeout(40_000);
  const prefix = randomToken('e2ehout');
  const node = randomToken('node');
  let redis: PrivateRedisServer | undefined;
  let exporter: ExporterProcess | undefined;
  let publisher: Publisher | undefined;

  after(async () => {
    await exporter?.dispose();
    await publisher?.close();
    await redis?.dispose();
  });

  it('keeps ingesting while snapshots fail, writes everything again, and restores it', async () => {
    redis = await PrivateRedisServer.start();
    publisher = await Publisher.connect(prefix);
    const start = () =>
      startExporter({
        prefix,
        args: [`--store.url=${redis!.url}`, '--history.snapshot-interval=1s', '--store.timeout=1s'],
      });
    const t0 = Math.floor((Date.now() - HOUR) / SECOND) * SECOND;
    const at = (s: number) => t0 + s * SECOND;
    const p = randomPubkey();
    const cp = randomChannelPoint();
    const snapshots = async (result: 'success' | 'error') =>
      sampleValue(await scrape(exporter!), 'chanfitness_history_snapshot_writes_total', {
        result,
      }) ?? 0;

    exporter = await start();
    publisher.peer(node, peerEventJson(p, true, at(0)));
    publisher.channel(node, openChannelJson(p, cp, at(10)));
    await publisher.flush();
    await pollUntil(
      () => appliedEvents(exporter!, node),
      (n) => n === 2,
      'the first events',
    );
    await snapshotIncludingNow(exporter);

    // The store goes away: snapshots fail, events are still applied and served.
    await redis.stop();
    const errors = await snapshots('error');
    publisher.peer(node, peerEventJson(p, false, at(60)));
    publisher.peer(node, peerEventJson(p, true, at(120)));
    await publisher.flush();
    await pollUntil(
      () => snapshots('error'),
      (n) => n >= errors + 2,
      'failed snapshots',
    );
    await pollUntil(
      () => appliedEvents(exporter!, node),
      (n) => n === 4,
      'the outage events',
    );
    assert.equal((await fetch(`${exporter.url}/healthz`)).status, 200);
    const during = await peerState(exporter, node, p);
    assert.deepEqual(during, { online: true, flapCount: 3, lastFlap: iso(at(120)) });

    // It comes back empty (no persistence): the next snapshot writes the whole history again.
    await redis.restart();
    await snapshotIncludingNow(exporter);
    assert.ok(
      exporter.logs().some((l) => String(l.msg).startsWith('the history in the store is not')),
      'the rewrite is logged',
    );
    const before = {
      p: await peerState(exporter, node, p),
      cp: await channelState(exporter, node, cp, at(0), at(300)),
    };
    const stopped = await exporter.stop('SIGTERM');
    assert.equal(stopped.code, 0, exporter.output());
    await exporter.dispose();

    exporter = await start();
    await waitRestored(exporter);
    assert.deepEqual(
      {
        p: await peerState(exporter, node, p),
        cp: await channelState(exporter, node, cp, at(0), at(300)),
      },
      before,
    );
    assert.deepEqual(before.p, during);
    assert.ok('openedAt' in before.cp && before.cp.openedAt === iso(at(10)));
    assert.equal(uptimeOf(before.cp), 50 + 180);
  });
});
