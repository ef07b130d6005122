/**
 * The measuring side of bench/memory.bench.ts, run as plain JavaScript (bundled
 * by esbuild) in a fresh `node --expose-gc` process, so that its RSS is that of
 * node and the store alone, without the TypeScript loader. Prints one JSON
 * line of figures (MemoryFigures).
 */
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { seededRandom } from '../../test/support/seeded-random.js';
import {
  BenchClock,
  CLASSES,
  DAY,
  DAYS,
  MINUTE,
  openChannels,
  playHistory,
  simulatedPeers,
  T0,
} from './simulated-node.js';

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with --expose-gc');

/**
 * Full collections, then a pause for V8's background threads to hand freed
 * pages back, then one more collection, so that RSS shows what is live.
 */
async function gcFully(): Promise<void> {
  collect?.();
  collect?.();
  await new Promise((resolve) => setTimeout(resolve, 500));
  collect?.();
}

/** V8 heap in use plus ArrayBuffer backing stores (the typed arrays of the logs). */
function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const random = seededRandom(42);

await gcFully();
const empty: Sample = { heap: heapBytes(), rss: process.memoryUsage().rss };

const clock = new BenchClock(T0);
const store = new ChannelEventStore({
  node: 'bench',
  clock,
});

interface Sample {
  /** V8 heap in use plus array buffers. */
  readonly heap: number;
  readonly rss: number;
}

export interface MemoryFigures {
  readonly peers: number;
  readonly channels: number;
  readonly received: number;
  readonly committed: number;
  readonly maxCommitted: number;
  readonly logBytes: number;
  readonly days: number;
  readonly classes: {
    name: string;
    peers: number;
    onlineMs: number;
    offlineMs: number;
  }[];
  readonly empty: Sample;
  readonly withChannels: Sample;
  readonly withHistory: Sample;
  /** After every channel's info was computed once. */
  readonly afterQueries: Sample;
  readonly logBytesAfterQueries: number;
  readonly checksum: number;
  readonly peakRss: number;
  readonly usage: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  readonly spaces: { name: string; size: number; used: number }[];
  readonly buildSeconds: number;
}

const { peers, classCounts } = simulatedPeers(random);

// Channels: the peers' connections first (as lnd reports them), then the opens.
const begun = performance.now();
const opened = openChannels(store, peers, random);
clock.time = T0 + 10 * MINUTE;
await gcFully();
const withChannels: Sample = { heap: heapBytes(), rss: process.memoryUsage().rss };

// History: day by day, every peer's flaps of that day in time order.
const received = playHistory(store, peers, random);
const buildSeconds = (performance.now() - begun) / 1000;
clock.time = T0 + DAYS * DAY;
await gcFully();
const withHistory: Sample = { heap: heapBytes(), rss: process.memoryUsage().rss };

let committed = 0;
let logBytes = 0;
let maxCommitted = 0;
for (const peer of store.peers()) {
  committed += peer.log.committedCount;
  logBytes += peer.log.byteSize;
  maxCommitted = Math.max(maxCommitted, peer.log.committedCount);
}

// What the first scrape leaves behind: every channel's info computed once
// (each channel memoizes its opening, long logs get their time directory).
let checksum = 0;
for (const channel of store.channels()) checksum += store.channelInfo(channel).uptime;
await gcFully();
const afterQueries: Sample = { heap: heapBytes(), rss: process.memoryUsage().rss };
let logBytesAfterQueries = 0;
for (const peer of store.peers()) logBytesAfterQueries += peer.log.byteSize;
const peakRss = process.resourceUsage().maxRSS * 1024;

const usage = process.memoryUsage();
const spaces = (await import('node:v8'))
  .getHeapSpaceStatistics()
  .filter((space) => space.space_size > 0)
  .map((space) => ({
    name: space.space_name,
    size: space.space_size,
    used: space.space_used_size,
  }));

const figures: MemoryFigures = {
  peers: store.peerCount,
  channels: opened,
  received,
  committed,
  maxCommitted,
  logBytes,
  days: DAYS,
  classes: CLASSES.map((c) => ({
    name: c.name,
    peers: classCounts.get(c.name) ?? 0,
    onlineMs: c.onlineMs,
    offlineMs: c.offlineMs,
  })),
  empty,
  withChannels,
  withHistory,
  afterQueries,
  logBytesAfterQueries,
  checksum,
  peakRss,
  usage: {
    heapTotal: usage.heapTotal,
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
  },
  spaces,
  buildSeconds,
};
process.stdout.write(`${JSON.stringify(figures)}\n`);
