/**
 * The measuring side of bench/memory.bench.ts, run as plain JavaScript (bundled
 * by esbuild) in a fresh `node --expose-gc` process, so that its RSS is that of
 * node and the store alone, without the TypeScript loader. Prints one JSON
 * line of figures (MemoryFigures).
 */
import type { Clock } from '../../src/clock.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { seededRandom } from '../../test/support/seeded-random.js';

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with --expose-gc');

const PEERS = 20_000;
const CHANNELS = 100_000;
const DAYS = 30;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.parse('2024-01-01T00:00:00Z');

/**
 * Reliability classes: mean time online and offline between flaps. Most peers
 * are well connected; a tail restarts or loses connectivity several times a day.
 */
const CLASSES = [
  { name: 'reliable', share: 0.5, onlineMs: 24 * HOUR, offlineMs: 15 * MINUTE },
  { name: 'average', share: 0.35, onlineMs: 4 * HOUR, offlineMs: 20 * MINUTE },
  { name: 'flaky', share: 0.15, onlineMs: HOUR, offlineMs: 5 * MINUTE },
] as const;

class BenchClock implements Clock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
}

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

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** A flat string, as JSON.parse hands ingestion its pubkeys and channel points (no rope). */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

const random = seededRandom(42);
const exponential = (mean: number): number => -mean * Math.log(1 - random());

await gcFully();
const empty: Sample = { heap: heapBytes(), rss: process.memoryUsage().rss };

const clock = new BenchClock(T0);
const store = new ChannelEventStore({
  node: 'bench',
  clock,
  readFlapRecord: () => Promise.resolve(undefined),
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

interface SimPeer {
  readonly pubkey: string;
  readonly onlineMs: number;
  readonly offlineMs: number;
  online: boolean;
  /** When the peer next changes state. */
  next: number;
}

const peers: SimPeer[] = [];
const classCounts = new Map<string, number>();
for (let p = 0; p < PEERS; p++) {
  const u = random();
  let acc = 0;
  let cls: (typeof CLASSES)[number] = CLASSES[0];
  for (const c of CLASSES) {
    acc += c.share;
    cls = c;
    if (u < acc) break;
  }
  classCounts.set(cls.name, (classCounts.get(cls.name) ?? 0) + 1);
  const pubkey = flat((p % 2 === 0 ? '02' : '03') + hex(p, 8) + 'ab'.repeat(28));
  const online = random() < 0.9;
  peers.push({
    pubkey,
    onlineMs: cls.onlineMs,
    offlineMs: cls.offlineMs,
    online,
    next: T0 + exponential(online ? cls.onlineMs : cls.offlineMs),
  });
}

// Channels: the peers' connections first (as lnd reports them), then the opens,
// spread over the peers (1 to 9 each, 5 on average) in the first minutes.
const begun = performance.now();
for (const peer of peers) store.peerEvent(peer.pubkey, peer.online, T0);
let opened = 0;
for (let c = 0; c < CHANNELS; c++) {
  const peer = peers[c < PEERS ? c : Math.floor(random() * PEERS)];
  if (peer === undefined) continue;
  const txid = hex(c, 8) + 'cd'.repeat(28);
  store.openChannel(peer.pubkey, flat(`${txid}:${c % 3}`), T0 + 1 + (c % 600) * 100);
  opened++;
}
await store.idle();
clock.time = T0 + 10 * MINUTE;
await gcFully();
const withChannels: Sample = { heap: heapBytes(), rss: process.memoryUsage().rss };

// History: day by day, every peer's flaps of that day in time order (per peer
// the store only needs order; interleaving by day mixes the logs' growth).
let received = 0;
for (let day = 0; day < DAYS; day++) {
  const end = T0 + (day + 1) * DAY;
  for (const peer of peers) {
    while (peer.next < end) {
      peer.online = !peer.online;
      store.peerEvent(peer.pubkey, peer.online, peer.next);
      received++;
      peer.next += Math.max(1, exponential(peer.online ? peer.onlineMs : peer.offlineMs));
    }
  }
}
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
