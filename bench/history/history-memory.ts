/**
 * The memory side of bench/history.bench.ts, run as plain JavaScript (bundled
 * by esbuild, packages external) in a fresh `node --expose-gc` process, as
 * bench/memory/store-memory.ts is. The flap record store (SQLite, a file in the
 * directory given as argument) is opened first, as the service always opens
 * it; then the memory benchmark's store is built and measured (history off),
 * then a HistoryKeeper over that Keyv store writes a full snapshot and the
 * process is measured again (history on: keeper state included). Prints one
 * JSON line of figures (HistoryMemoryFigures).
 */
import { join } from 'node:path';
import { HistoryStats } from '../../src/history/history-stats.js';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { BenchClock, T0 } from '../memory/simulated-node.js';
import { buildNode, historyStores, keeperOver, NODE } from './history-fixture.js';

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with --expose-gc');

async function gcFully(): Promise<void> {
  collect?.();
  collect?.();
  await new Promise((resolve) => setTimeout(resolve, 500));
  collect?.();
}

interface Sample {
  /** V8 heap in use plus array buffers. */
  readonly heap: number;
  readonly rss: number;
}

function sample(): Sample {
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

export interface HistoryMemoryFigures {
  readonly off: Sample;
  readonly on: Sample;
  readonly snapshotOk: boolean;
  readonly snapshotBytes: number;
  readonly peakRss: number;
}

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: history-memory <dir>');
const clock = new BenchClock(T0);
const stats = new HistoryStats();
const bootstrapPeers = new BootstrapPeers();
const stores = historyStores(clock, stats, bootstrapPeers);
// Open as the service does (the flap records), before anything is measured.
const kept = await keeperOver(
  `sqlite://${join(dir, 'history.sqlite')}`,
  'chanfitness',
  stores,
  clock,
  stats,
  bootstrapPeers,
);
// Nothing persisted: as at a first start.
await kept.keeper.restore();
const store = stores.getOrCreate(NODE);
buildNode(store, clock);
await gcFully();
const off = sample();

const outcome = await kept.keeper.snapshotNow();
await gcFully();
const on = sample();
await kept.records.close();

const figures: HistoryMemoryFigures = {
  off,
  on,
  snapshotOk: outcome.ok,
  snapshotBytes: outcome.bytes,
  peakRss: process.resourceUsage().maxRSS * 1024,
};
process.stdout.write(`${JSON.stringify(figures)}\n`);
