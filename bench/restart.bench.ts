/**
 * Issue 6, benchmark 7 — restart: time from start to ready (/readyz 200) of
 * the real process (`node dist/main.js`) with 100,000 persisted flap records,
 * in SQLite and in Redis; and the time until the start-up bootstrap of a node
 * with 100,000 channels over 20,000 peers is applied (its 20,000 peers'
 * records are read then). Reported, no target.
 *
 * Set-up: the records are written with the persistence layer's own write API
 * (KeyvFlapRecordStore.write) into a fresh SQLite file and a private, empty
 * redis-server; the node's ListPeers and ListChannels replies are served by a
 * responder here, on a private nats-server whose max_payload allows a reply of
 * that size (the default 1 MB does not: see the notes). The build is run first
 * when dist/ is older than src/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { parseStoreUrl } from '../src/config/store-url.js';
import { openFlapRecordStore } from '../src/persistence/keyv-flap-record-store.js';
import type { FlapRecord } from '../src/store/peer-monitor.js';
import { Rng } from '../scripts/demo/rng.js';
import { PrivateNatsServer } from '../test/support/nats-server.js';
import { PrivateRedisServer } from '../test/support/redis-server.js';
import { ensureBuilt, runExporter, type Timings } from './exporter-start.js';
import { report, type BenchRow } from './result.js';

const RECORDS = 100_000;
const NODES = 5;
const PEERS = 20_000;
const CHANNELS = 100_000;
const CONNECTED_SHARE = 0.8;
const RUNS = 2;
const NODE = 'node1';

/** The persisted records: the bootstrapped node's 20,000 peers and 80,000 of other nodes. */
function records(rng: Rng, pubkeys: string[]): Map<string, Map<string, FlapRecord>> {
  const now = Date.now();
  const byNode = new Map<string, Map<string, FlapRecord>>();
  for (let n = 0; n < NODES; n++) {
    const node = `node${n + 1}`;
    const recs = new Map<string, FlapRecord>();
    for (let i = 0; i < RECORDS / NODES; i++) {
      const pubkey = n === 0 ? (pubkeys[i] ?? '') : `0${rng.int(2, 3)}${rng.hex(32)}`;
      recs.set(pubkey, {
        count: rng.int(1, 2_000),
        lastFlap: now - rng.between(0, 30 * 86_400_000),
      });
    }
    byNode.set(node, recs);
  }
  return byNode;
}

async function fill(url: string, byNode: Map<string, Map<string, FlapRecord>>): Promise<number> {
  const started = performance.now();
  const store = await openFlapRecordStore(parseStoreUrl(url), { timeoutMs: 30_000 });
  for (const [node, recs] of byNode) await store.write(node, recs);
  await store.close();
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const build = ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'chanfitness-restart-bench-'));
  const nats = await PrivateNatsServer.start([], {
    config: 'max_payload: 67108864\n',
    jetstream: false,
  });
  const redis = await PrivateRedisServer.start().catch(async (err: unknown) => {
    await nats.dispose();
    throw err;
  });
  const natsUrl = nats.url;
  const redisUrl = redis.url;
  try {
    const rng = new Rng(6);
    const pubkeys = Array.from({ length: PEERS }, () => `0${rng.int(2, 3)}${rng.hex(32)}`);
    const byNode = records(rng, pubkeys);
    const sqliteUrl = `sqlite://${join(dir, 'flaps.sqlite')}`;
    const sqliteFill = await fill(sqliteUrl, byNode);
    const redisFill = await fill(redisUrl, byNode);
    process.stdout.write(
      `${build}; wrote ${RECORDS} records: SQLite ${sqliteFill.toFixed(1)} s, Redis ${redisFill.toFixed(1)} s\n`,
    );

    // The node's replies, as its NATS bridge would send them (trimmed entries: see the notes).
    const peersReply = Buffer.from(
      JSON.stringify({
        peers: pubkeys
          .filter((_, i) => i < PEERS * CONNECTED_SHARE)
          .map((pub_key) => ({
            pub_key,
            address: '203.0.113.7:9735',
            inbound: false,
            ping_time: '1000',
          })),
      }),
    );
    const channelsReply = Buffer.from(
      JSON.stringify({
        channels: Array.from({ length: CHANNELS }, (_, i) => ({
          active: i % 5 !== 0,
          remote_pubkey: pubkeys[i % PEERS],
          channel_point: `${rng.hex(32)}:${i % 2}`,
          chan_id: String(900_000_000_000_000n + BigInt(i)),
          capacity: '1000000',
          local_balance: '500000',
          remote_balance: '496530',
        })),
      }),
    );
    const nc = await connect({ servers: natsUrl, name: 'chanfitness-bench-responder' });
    const prefix = `restart${Math.random().toString(36).slice(2, 8)}`;
    nc.subscribe(`${prefix}.${NODE}.rpc.list_peers`, {
      callback: (_e, m) => m.respond(peersReply),
    });
    nc.subscribe(`${prefix}.${NODE}.rpc.list_channels`, {
      callback: (_e, m) => m.respond(channelsReply),
    });
    await nc.flush();

    const base = [`--nats.url=${natsUrl}`, `--nats.subject-prefix=${prefix}`];
    const measure = async (
      what: string,
      storeUrl: string,
      bootstrap: boolean,
    ): Promise<Timings> => {
      let best: Timings | undefined;
      for (let run = 0; run < RUNS; run++) {
        const t = await runExporter(
          [...base, `--store.url=${storeUrl}`, ...(bootstrap ? [`--nats.nodes=${NODE}`] : [])],
          bootstrap ? { node: NODE, channels: CHANNELS } : undefined,
        );
        process.stdout.write(
          `${what} run ${run + 1}: listening ${t.listening.toFixed(0)} ms, ready ${t.ready.toFixed(0)} ms` +
            `${t.bootstrapped === undefined ? '' : `, bootstrap applied ${t.bootstrapped.toFixed(0)} ms`}\n`,
        );
        if (
          best === undefined ||
          t.ready + (t.bootstrapped ?? 0) < best.ready + (best.bootstrapped ?? 0)
        ) {
          best = t;
        }
      }
      if (best === undefined) throw new Error('no run');
      return best;
    };
    const empty = await measure('empty SQLite', `sqlite://${join(dir, 'empty.sqlite')}`, false);
    const sqlite = await measure('SQLite, 100k records', sqliteUrl, false);
    const redisReady = await measure('Redis, 100k records', redisUrl, false);
    const sqliteBoot = await measure('SQLite, 100k records, bootstrap', sqliteUrl, true);
    const redisBoot = await measure('Redis, 100k records, bootstrap', redisUrl, true);
    await nc.drain();

    const rows: BenchRow[] = [
      {
        metric: 'restart: start to ready, 100k flap records in SQLite',
        value: sqlite.ready,
        unit: 'ms',
        baseline: empty.ready,
        baselineName: 'empty SQLite store',
        ratio: sqlite.ready / empty.ready,
      },
      {
        metric: 'restart: start to ready, 100k flap records in Redis',
        value: redisReady.ready,
        unit: 'ms',
        baseline: empty.ready,
        baselineName: 'empty SQLite store',
        ratio: redisReady.ready / empty.ready,
      },
      {
        metric: 'restart: start to bootstrap applied (100k channels, 20k peers), SQLite',
        value: sqliteBoot.bootstrapped ?? NaN,
        unit: 'ms',
      },
      {
        metric: 'restart: start to bootstrap applied (100k channels, 20k peers), Redis',
        value: redisBoot.bootstrapped ?? NaN,
        unit: 'ms',
      },
    ];
    report({
      name: 'Restart',
      rows,
      notes: [
        `node dist/main.js (${build}) with --store.url of a SQLite file or a private, empty redis-server holding ${RECORDS.toLocaleString('en-US')} flap records (${NODES} nodes × ${(RECORDS / NODES).toLocaleString('en-US')} peers), written beforehand with KeyvFlapRecordStore.write (SQLite ${sqliteFill.toFixed(1)} s, Redis ${redisFill.toFixed(1)} s); times from spawn, best of ${RUNS}; "ready" is the first /readyz 200 (polled every 5 ms). Records are read when a peer is first monitored, not at start: the start does not grow with them.`,
        `Bootstrap: --nats.nodes=${NODE} on start; a responder answers ListPeers (${(PEERS * CONNECTED_SHARE).toLocaleString('en-US')} connected peers, ${(peersReply.length / 1e6).toFixed(1)} MB) and ListChannels (${CHANNELS.toLocaleString('en-US')} channels over ${PEERS.toLocaleString('en-US')} peers, ${(channelsReply.length / 1e6).toFixed(1)} MB); "applied" is when GraphQL's nodes { channelCount } shows every channel (polled every 20 ms), after the ${PEERS.toLocaleString('en-US')} record reads. Ready at ${sqliteBoot.ready.toFixed(0)} ms (SQLite) and ${redisBoot.ready.toFixed(0)} ms (Redis) in those runs.`,
        'The replies need a NATS server with a larger max_payload (here 64 MB): with the default 1 MB, a ListChannels reply of more than a few thousand channels (lnd prints ~1 KB per channel; these entries are trimmed to ~230 B) cannot be sent, and such a node is not bootstrapped.',
      ],
    });
  } finally {
    await nats.dispose();
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
