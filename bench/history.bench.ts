/**
 * History benchmark: the memory benchmark's store (20,000 peers, 100,000
 * channels, 30 days of peer history; bench/memory/simulated-node.ts) kept by
 * a HistoryKeeper over SQLite (a temporary file) and over Redis
 * (127.0.0.1:6379, a private random namespace, cleared at the end):
 *   1. restore: start to ready of the real process (node dist/main.js) with
 *      that history, against the same start on an empty store; and
 *      keeper.restore() in process;
 *   2. snapshot writes: the first (full) one and an incremental one after 60 s
 *      of simulated events at 5,000 events/s (300,000 peer events);
 *   3. ingest while a full snapshot is written, paced as the timer's are, against the same loop without
 *      a keeper, and the event-loop delay during the snapshot;
 *   4. memory with history on (after a snapshot) against off, in a fresh
 *      --expose-gc process (bench/history/history-memory.ts, bundled).
 * `npm run bench -- history` runs it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { SnapshotOutcome } from '../src/history/history-keeper.js';
import { HistoryStats } from '../src/history/history-stats.js';
import { BootstrapPeers } from '../src/ingest/bootstrap-peers.js';
import { PrivateRedisServer } from '../test/support/redis-server.js';
import type { ChannelEventStore } from '../src/store/channel-event-store.js';
import {
  applyEvents,
  buildNode,
  committedEvents,
  EVENT_MS,
  historyStores,
  keeperOver,
  NODE,
  type BenchNode,
} from './history/history-fixture.js';
import type { HistoryMemoryFigures } from './history/history-memory.js';
import { BenchClock, T0 } from './memory/simulated-node.js';
import { ensureBuilt, runExporter, type Timings } from './exporter-start.js';
import { measureInFreshProcess } from './memory/fresh-process.js';
import { report, type BenchRow } from './result.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const INCREMENT_EVENTS = 300_000;
const RESTORE_RUNS = 3;
const EMPTY_RUNS = 3;
const CHUNK = 1_000;
/** Baseline ingestion before the snapshot (as many events as the measured run after it). */
const BEFORE_MS = 30_000;
const MB = 2 ** 20;

const log = (line: string): void => {
  process.stderr.write(`history: ${line}\n`);
};
const namespaceOf = (what: string): string =>
  `chanfitness-bench-${what}-${Math.random().toString(36).slice(2, 10)}`;

interface Picture {
  readonly peers: number;
  readonly channels: number;
  readonly committed: number;
}
const pictureOf = (store: ChannelEventStore): Picture => ({
  peers: store.peerCount,
  channels: store.channelCount,
  committed: committedEvents(store),
});

/** Event-loop delay (ms) while `run` is in flight. */
async function withDelayMonitor<T>(
  run: () => Promise<T>,
): Promise<{ value: T; maxMs: number; p99Ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    const value = await run();
    return { value, maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
  } finally {
    h.disable();
  }
}

interface RestoreTiming {
  /** keeper.restore() alone. */
  readonly restoreMs: number;
  /** openFlapRecordStore + keeper.restore() (in-process start to ready). */
  readonly openRestoreMs: number;
  readonly picture: Picture;
}

/** A fresh process's view: new stores, open the Keyv store, restore. */
async function restoreOnce(url: string, namespace: string): Promise<RestoreTiming> {
  const clock = new BenchClock(Date.now());
  const stats = new HistoryStats();
  const bootstrapPeers = new BootstrapPeers();
  const stores = historyStores(clock, stats, bootstrapPeers);
  const started = performance.now();
  const kept = await keeperOver(url, namespace, stores, clock, stats, bootstrapPeers);
  const opened = performance.now();
  await kept.keeper.restore();
  const done = performance.now();
  const store = stores.get(NODE);
  const picture = store === undefined ? { peers: 0, channels: 0, committed: 0 } : pictureOf(store);
  await kept.records.close();
  return { restoreMs: done - opened, openRestoreMs: done - started, picture };
}

async function best(runs: number, url: string, namespace: string): Promise<RestoreTiming> {
  let found: RestoreTiming | undefined;
  for (let i = 0; i < runs; i++) {
    const t = await restoreOnce(url, namespace);
    if (found === undefined || t.openRestoreMs < found.openRestoreMs) found = t;
    (globalThis as { gc?: () => void }).gc?.();
  }
  if (found === undefined) throw new Error('no run');
  return found;
}

/**
 * Peer events through store.peerEvent, yielding to the event loop (setImmediate)
 * every CHUNK events, until `stop()` or `limit` events. Returns events and ms.
 */
async function ingestLoop(
  store: ChannelEventStore,
  node: BenchNode,
  stop: () => boolean,
  limit: number,
): Promise<{ events: number; ms: number }> {
  const started = performance.now();
  let events = 0;
  while (!stop() && events < limit) {
    applyEvents(store, node, CHUNK);
    events += CHUNK;
    await new Promise((r) => setImmediate(r));
  }
  return { events, ms: performance.now() - started };
}

/** The real process from spawn to /readyz 200, with the history and with an empty store. */
interface ProcessStart {
  readonly history: Timings;
  readonly empty: Timings;
}

interface BackendFigures {
  readonly start: ProcessStart;
  readonly name: string;
  readonly built: Picture;
  readonly received: number;
  readonly buildSeconds: number;
  readonly empty: RestoreTiming;
  readonly full: SnapshotOutcome & { loopMaxMs: number; statsLongestMs: number };
  readonly restored: RestoreTiming;
  readonly written: Picture;
  readonly incremental: SnapshotOutcome & { loopMaxMs: number; statsLongestMs: number };
  readonly concurrent: {
    readonly outcome: SnapshotOutcome;
    readonly withSnapshot: { events: number; ms: number };
    readonly without: { events: number; ms: number };
    readonly loopMaxMs: number;
    readonly loopP99Ms: number;
  };
}

/** A fresh build of the store (same seed), so that every backend starts from the same size. */
function freshNode(): {
  stores: ReturnType<typeof historyStores>;
  store: ChannelEventStore;
  node: BenchNode;
  seconds: number;
} {
  (globalThis as { gc?: () => void }).gc?.();
  const clock = new BenchClock(T0);
  const stats = new HistoryStats();
  stats.restored = true;
  const stores = historyStores(clock, stats, new BootstrapPeers());
  const store = stores.getOrCreate(NODE);
  const began = performance.now();
  const node = buildNode(store, clock);
  return { stores, store, node, seconds: (performance.now() - began) / 1000 };
}

/**
 * `node dist/main.js` started on a store holding the history under the
 * service's own namespace (`processUrl`), against the same start on an empty
 * store (`emptyUrl`): today's start. Retention 0, so that no run compacts
 * what the next one restores.
 */
async function processStart(
  name: string,
  stores: ReturnType<typeof historyStores>,
  store: ChannelEventStore,
  clock: BenchClock,
  processUrl: string,
  emptyUrl: string,
): Promise<ProcessStart> {
  store.markDirty([...store.knownPeers()]);
  const stats = new HistoryStats();
  stats.restored = true;
  const kept = await keeperOver(
    processUrl,
    'chanfitness',
    stores,
    clock,
    stats,
    new BootstrapPeers(),
  );
  try {
    if (!(await kept.keeper.snapshotNow()).ok) throw new Error(`${name}: the snapshot failed`);
  } finally {
    await kept.records.close();
  }
  const prefix = namespaceOf('start').replace(/-/g, '');
  const args = (url: string): string[] => [
    `--store.url=${url}`,
    '--nats.url=nats://127.0.0.1:4222',
    `--nats.subject-prefix=${prefix}`,
    '--history.retention=0',
  ];
  const fastest = async (url: string, runs: number): Promise<Timings> => {
    let found: Timings | undefined;
    for (let run = 0; run < runs; run++) {
      const t = await runExporter(args(url));
      if (found === undefined || t.ready < found.ready) found = t;
    }
    if (found === undefined) throw new Error('no run');
    return found;
  };
  const empty = await fastest(emptyUrl, EMPTY_RUNS);
  const history = await fastest(processUrl, RESTORE_RUNS);
  log(
    `${name}: process start to ready: ${history.ready.toFixed(0)} ms with the history, ${empty.ready.toFixed(0)} ms empty`,
  );
  return { history, empty };
}

async function measureBackend(
  name: string,
  url: string,
  cleanup: (namespace: string) => Promise<void>,
  processUrls: { readonly history: string; readonly empty: string },
): Promise<BackendFigures> {
  const { stores, store, node, seconds } = freshNode();
  const start = await processStart(
    name,
    stores,
    store,
    node.clock,
    processUrls.history,
    processUrls.empty,
  );
  const built = pictureOf(store);
  log(
    `${name}: built ${built.peers} peers, ${built.channels} channels, ${built.committed} committed of ${node.received} events in ${seconds.toFixed(1)} s`,
  );
  const main = namespaceOf(name);
  const side = namespaceOf(`${name}-concurrent`);
  const emptyNs = namespaceOf(`${name}-empty`);
  try {
    // Baseline: start with an empty store.
    const empty = await best(EMPTY_RUNS, url, emptyNs);
    log(
      `${name}: empty start: open + restore ${empty.openRestoreMs.toFixed(1)} ms (restore ${empty.restoreMs.toFixed(1)} ms)`,
    );

    // A keeper over the built store, on a fresh namespace: its first write is full.
    store.markDirty([...store.knownPeers()]);
    const stats = new HistoryStats();
    stats.restored = true;
    const bootstrapPeers = new BootstrapPeers();
    const kept = await keeperOver(url, main, stores, node.clock, stats, bootstrapPeers);
    const first = await withDelayMonitor(() => kept.keeper.snapshotNow());
    if (!first.value.ok) throw new Error(`${name}: the full snapshot failed`);
    const written = pictureOf(store);
    const full = {
      ...first.value,
      loopMaxMs: first.maxMs,
      statsLongestMs: stats.lastWriteLongestStepMs ?? NaN,
      bytes: stats.lastWriteBytes ?? first.value.bytes,
    };
    log(
      `${name}: full snapshot ${full.durationMs.toFixed(0)} ms, ${(full.bytes / MB).toFixed(1)} MB, ${full.peers} peers, longest step ${full.statsLongestMs.toFixed(1)} ms, loop max delay ${full.loopMaxMs.toFixed(1)} ms`,
    );

    const restored = await best(RESTORE_RUNS, url, main);
    log(
      `${name}: restore ${restored.restoreMs.toFixed(0)} ms, open + restore ${restored.openRestoreMs.toFixed(0)} ms: ${JSON.stringify(restored.picture)} (written ${JSON.stringify(written)})`,
    );

    // 60 s of events at 5,000/s, then the next (incremental) snapshot.
    applyEvents(store, node, INCREMENT_EVENTS);
    const next = await withDelayMonitor(() => kept.keeper.snapshotNow());
    if (!next.value.ok) throw new Error(`${name}: the incremental snapshot failed`);
    const incremental = {
      ...next.value,
      loopMaxMs: next.maxMs,
      statsLongestMs: stats.lastWriteLongestStepMs ?? NaN,
      bytes: stats.lastWriteBytes ?? next.value.bytes,
    };
    log(
      `${name}: incremental snapshot ${incremental.durationMs.toFixed(0)} ms, ${(incremental.bytes / MB).toFixed(1)} MB, ${incremental.peers} peers, longest step ${incremental.statsLongestMs.toFixed(1)} ms`,
    );
    await kept.records.close();

    // Ingest while a full snapshot is written, paced as the timer writes it (another fresh
    // namespace), against the same loop alone.
    // The loop speeds up for tens of seconds (compilation, the allocator): a
    // baseline measured on one side only would favour that side.
    const warmUntil = performance.now() + BEFORE_MS;
    const before = await ingestLoop(store, node, () => performance.now() >= warmUntil, Infinity);
    store.markDirty([...store.knownPeers()]);
    const sideStats = new HistoryStats();
    sideStats.restored = true;
    const sideKept = await keeperOver(
      url,
      side,
      stores,
      node.clock,
      sideStats,
      new BootstrapPeers(),
    );
    let done = false;
    const monitored = await withDelayMonitor(async () => {
      // Paced, as the timer's snapshots are (the final one at stop is not).
      const snapshot = sideKept.keeper.snapshotNow({ paced: true }).finally(() => {
        done = true;
      });
      const loop = await ingestLoop(store, node, () => done, Infinity);
      return { outcome: await snapshot, loop };
    });
    await sideKept.records.close();
    if (!monitored.value.outcome.ok) throw new Error(`${name}: the concurrent snapshot failed`);
    const withSnapshot = monitored.value.loop;
    const after = await ingestLoop(store, node, () => false, withSnapshot.events);
    const without = {
      events: before.events + after.events,
      ms: before.ms + after.ms,
    };
    log(
      `${name}: ingest during snapshot ${((withSnapshot.events / withSnapshot.ms) * 1000).toFixed(0)}/s over ${withSnapshot.ms.toFixed(0)} ms (snapshot ${monitored.value.outcome.durationMs.toFixed(0)} ms), without ${((without.events / without.ms) * 1000).toFixed(0)}/s; loop delay max ${monitored.maxMs.toFixed(1)} ms`,
    );
    return {
      start,
      name,
      built,
      received: node.received,
      buildSeconds: seconds,
      empty,
      full,
      restored,
      written,
      incremental,
      concurrent: {
        outcome: monitored.value.outcome,
        withSnapshot,
        without,
        loopMaxMs: monitored.maxMs,
        loopP99Ms: monitored.p99Ms,
      },
    };
  } finally {
    for (const ns of [main, side, emptyNs]) await cleanup(ns);
  }
}

/** Deletes every key of a namespace (Keyv's clear() is namespaced). */
async function clearNamespace(url: string, namespace: string): Promise<void> {
  const clock = new BenchClock(Date.now());
  const stats = new HistoryStats();
  const bootstrapPeers = new BootstrapPeers();
  const kept = await keeperOver(
    url,
    namespace,
    historyStores(clock, stats, bootstrapPeers),
    clock,
    stats,
    bootstrapPeers,
  );
  try {
    await kept.records.operate('write', `clearing ${namespace}`, (keyv) => keyv.clear());
  } finally {
    await kept.records.close();
  }
}

/** Row 4: the memory child, in a fresh process. */
async function memoryFigures(): Promise<HistoryMemoryFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chanfitness-history-memory-'));
  try {
    return await measureInFreshProcess<HistoryMemoryFigures>(
      join(import.meta.dirname, 'history', 'history-memory.ts'),
      [dataDir],
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  log(ensureBuilt());
  const dir = mkdtempSync(join(tmpdir(), 'chanfitness-history-bench-'));
  try {
    const sqliteUrl = `sqlite://${join(dir, 'history.sqlite')}`;
    const sqlite = await measureBackend('SQLite', sqliteUrl, () => Promise.resolve(), {
      history: `sqlite://${join(dir, 'process.sqlite')}`,
      empty: `sqlite://${join(dir, 'empty.sqlite')}`,
    });
    // The service's own namespace: on private servers, not the shared one.
    const [redisHistory, redisEmpty] = await Promise.all([
      PrivateRedisServer.start(),
      PrivateRedisServer.start(),
    ]);
    let redis: BackendFigures;
    try {
      redis = await measureBackend('Redis', REDIS_URL, (ns) => clearNamespace(REDIS_URL, ns), {
        history: redisHistory.url,
        empty: redisEmpty.url,
      });
    } finally {
      await redisHistory.dispose();
      await redisEmpty.dispose();
    }
    const built = sqlite.built;
    const memory = await memoryFigures();
    log(
      `memory: off ${(memory.off.rss / MB).toFixed(0)} MB RSS, ${(memory.off.heap / MB).toFixed(0)} MB heap; on ${(memory.on.rss / MB).toFixed(0)} MB RSS, ${(memory.on.heap / MB).toFixed(0)} MB heap (snapshot ${memory.snapshotOk ? 'ok' : 'FAILED'})`,
    );

    const rows: BenchRow[] = [];
    for (const b of [sqlite, redis]) {
      rows.push(
        {
          metric: `${b.name}: start to ready of the process (node dist/main.js, /readyz 200) with the history restored`,
          value: b.start.history.ready,
          unit: 'ms',
          baselineName: 'the same start with an empty store',
          baseline: b.start.empty.ready,
          ratio: b.start.history.ready / b.start.empty.ready,
          target: '<= 3x of baseline',
          pass: b.start.history.ready / b.start.empty.ready <= 3,
        },
        {
          metric: `${b.name}: start to ready with the history, absolute`,
          value: b.start.history.ready,
          unit: 'ms',
          target: '< 10 s',
          pass: b.start.history.ready < 10_000,
        },
      );
    }
    for (const b of [sqlite, redis]) {
      const r = b.restored;
      const e = b.empty;
      const ratio = r.openRestoreMs / e.openRestoreMs;
      const intact =
        r.picture.peers === b.written.peers &&
        r.picture.channels === b.written.channels &&
        r.picture.committed === b.written.committed;
      rows.push(
        {
          metric: `${b.name}: open + keeper.restore() in process (the part of the start that restores)${intact ? '' : ' — RESTORED STORE DIFFERS'}`,
          value: r.openRestoreMs,
          unit: 'ms',
          baselineName: 'open + restore, nothing persisted',
          baseline: e.openRestoreMs,
          ratio,
        },
        {
          metric: `${b.name}: keeper.restore() alone`,
          value: r.restoreMs,
          unit: 'ms',
          baselineName: 'restore, nothing persisted',
          baseline: e.restoreMs,
          ratio: r.restoreMs / e.restoreMs,
        },
        {
          metric: `${b.name}: first (full) snapshot write: duration`,
          value: b.full.durationMs,
          unit: 'ms',
        },
        {
          metric: `${b.name}: first (full) snapshot write: bytes (stats.lastWriteBytes)`,
          value: b.full.bytes / MB,
          unit: 'MB',
        },
        {
          metric: `${b.name}: first (full) snapshot write: longest synchronous step (stats.lastWriteLongestStepMs)`,
          value: b.full.statsLongestMs,
          unit: 'ms',
          target: '< 50 ms',
          pass: b.full.statsLongestMs < 50,
        },
        {
          metric: `${b.name}: first (full) snapshot write: event-loop delay, max (idle loop)`,
          value: b.full.loopMaxMs,
          unit: 'ms',
        },
        {
          metric: `${b.name}: incremental snapshot after 60 s at 5,000 events/s: duration`,
          value: b.incremental.durationMs,
          unit: 'ms',
          baselineName: 'full write',
          baseline: b.full.durationMs,
          ratio: b.incremental.durationMs / b.full.durationMs,
        },
        {
          metric: `${b.name}: incremental snapshot: bytes (${b.incremental.peers.toLocaleString('en-US')} peers rewritten)`,
          value: b.incremental.bytes / MB,
          unit: 'MB',
          baselineName: 'full write',
          baseline: b.full.bytes / MB,
          ratio: b.incremental.bytes / b.full.bytes,
        },
        {
          metric: `${b.name}: incremental snapshot: longest synchronous step`,
          value: b.incremental.statsLongestMs,
          unit: 'ms',
          target: '< 50 ms',
          pass: b.incremental.statsLongestMs < 50,
        },
      );
      const c = b.concurrent;
      const rate = (c.withSnapshot.events / c.withSnapshot.ms) * 1000;
      const base = (c.without.events / c.without.ms) * 1000;
      rows.push(
        {
          metric: `${b.name}: ingest (store.peerEvent, yield every 1,000) while a full snapshot is written, paced`,
          value: rate,
          unit: 'events/s',
          baselineName: 'same loop, no keeper',
          baseline: base,
          ratio: rate / base,
          target: '>= 0.9 of baseline',
          pass: rate / base >= 0.9,
        },
        {
          metric: `${b.name}: event-loop delay during that snapshot, max (monitorEventLoopDelay)`,
          value: c.loopMaxMs,
          unit: 'ms',
          target: '< 50 ms',
          pass: c.loopMaxMs < 50,
        },
        {
          metric: `${b.name}: event-loop delay during that snapshot, p99`,
          value: c.loopP99Ms,
          unit: 'ms',
        },
        {
          metric: `${b.name}: that snapshot's duration with ingest running`,
          value: c.outcome.durationMs,
          unit: 'ms',
          baselineName: 'full write, idle loop',
          baseline: b.full.durationMs,
          ratio: c.outcome.durationMs / b.full.durationMs,
        },
      );
    }
    rows.push(
      {
        metric: 'memory with history on (after a full snapshot, keeper state included): RSS',
        value: memory.on.rss / MB,
        unit: 'MB',
        baselineName: 'history off',
        baseline: memory.off.rss / MB,
        ratio: memory.on.rss / memory.off.rss,
        target: '<= 1.2x',
        pass: memory.on.rss / memory.off.rss <= 1.2,
      },
      {
        metric: 'memory with history on: V8 heap used + array buffers',
        value: memory.on.heap / MB,
        unit: 'MB',
        baselineName: 'history off',
        baseline: memory.off.heap / MB,
        ratio: memory.on.heap / memory.off.heap,
      },
      {
        metric: 'memory child: peak RSS (build and snapshot)',
        value: memory.peakRss / MB,
        unit: 'MB',
      },
    );

    report({
      name: 'History',
      rows,
      notes: [
        `The memory benchmark's store (same generator and seed: ${built.peers.toLocaleString('en-US')} peers, ${built.channels.toLocaleString('en-US')} channels, ${built.committed.toLocaleString('en-US')} committed of ${sqlite.received.toLocaleString('en-US')} peer events over 30 days; built afresh for each backend in ${sqlite.buildSeconds.toFixed(1)} s and ${redis.buildSeconds.toFixed(1)} s) in NodeStores configured as src/app.ts does with --history (retention 90 d: nothing compacted), kept by a HistoryKeeper over keyvHistoryKv(openFlapRecordStore(url, { namespace })) with the default 5 s operation timeout. SQLite: a file in a temporary directory; Redis: ${REDIS_URL}, private random namespaces, cleared afterwards.`,
        `Restore: a fresh NodeStores and keeper, as a new process would have; "open + restore" times openFlapRecordStore and keeper.restore() together (the in-process part of start to ready; the process start itself is not included), best of ${RESTORE_RUNS}. Baseline: the same on an empty namespace, best of ${EMPTY_RUNS}. The restored store was checked against the written one (peers, channels, committed events): SQLite ${JSON.stringify(sqlite.restored.picture)}, Redis ${JSON.stringify(redis.restored.picture)}, written ${JSON.stringify(sqlite.written)} / ${JSON.stringify(redis.written)}.`,
        `Snapshots: the first write of a keeper on a fresh namespace (every peer marked changed: a full write); then ${INCREMENT_EVENTS.toLocaleString('en-US')} peer events on random peers (each a flap), the clock advanced ${EVENT_MS} ms per event (60 s at 5,000 events/s), then the next snapshot. Bytes and longest step are the keeper's stats (lastWriteBytes, an estimate from the encoded lengths; lastWriteLongestStepMs, the maximum of the keeper's own event-loop delay monitor over the write). These two writes are unpaced, as at an orderly stop.`,
        `Ingest: store.peerEvent on random peers in a loop yielding (setImmediate) every ${CHUNK.toLocaleString('en-US')} events, run for as long as a full snapshot, paced as the timer's are (3% of a saturated event loop), is in flight (another keeper, fresh namespace, after the incremental one); baseline: the same loop with no keeper, for ${BEFORE_MS / 1000} s before and for as many events as the measured run after, summed (the loop speeds up over its first tens of seconds: with a baseline from one side only, 200,000 events before and the rest after, the same code measured 0.83 to 0.93). Event-loop delay: perf_hooks.monitorEventLoopDelay (resolution 1 ms) over the snapshot.`,
        `Memory: a fresh node --expose-gc process (bench/history/history-memory.ts bundled by esbuild, packages external) opens the SQLite flap record store as the service does, builds the same store, full GC, measures (off); then a keeper writes a full snapshot, full GC, measures again (on). Snapshot ${memory.snapshotOk ? 'ok' : 'FAILED'}, ${(memory.snapshotBytes / MB).toFixed(0)} MB.`,
      ],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
