/**
 * Memory benchmark (issue 6, item 6; issue 3's memory bullet): RSS and heap of
 * one node's store with 100k channels over 20k peers and a month of simulated
 * peer history, built through the public API, with bytes per channel and per
 * logged event from heap deltas:
 *   per channel = (store with the channels, no events) - (empty process), / channels
 *   per event   = (store with the history) - (store with no events), / committed events
 * "Heap" is V8's used heap plus ArrayBuffer backing stores (the logs' arrays
 * live outside the V8 heap).
 *
 * The measuring code (bench/memory/store-memory.ts, with the store) runs in a
 * fresh `node --expose-gc` process, bundled (bench/memory/fresh-process.ts).
 */
import { join } from 'node:path';
import { measureInFreshProcess } from './memory/fresh-process.js';
import type { MemoryFigures } from './memory/store-memory.js';
import { report } from './result.js';

const MB = 2 ** 20;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const figures = await measureInFreshProcess<MemoryFigures>(
  join(import.meta.dirname, 'memory', 'store-memory.ts'),
);

const f = figures;
const mb = (b: number): number => b / MB;
const perChannel = (f.withChannels.heap - f.empty.heap) / f.channels;
const perEvent = (f.withHistory.heap - f.withChannels.heap) / f.committed;
const perChannelQueried = (f.afterQueries.heap - f.withHistory.heap) / f.channels;
const space = (name: string): string => {
  const s = f.spaces.find((x) => x.name === name);
  return s === undefined ? '?' : `${mb(s.size).toFixed(0)} MB (${mb(s.used).toFixed(0)} used)`;
};
process.stderr.write(
  `memory: ${f.channels} channels, ${f.peers} peers, ${f.committed} committed of ${f.received} events; RSS ${mb(f.withHistory.rss).toFixed(0)} MB, heap used ${mb(f.usage.heapUsed).toFixed(0)} MB of ${mb(f.usage.heapTotal).toFixed(0)}, array buffers ${mb(f.usage.arrayBuffers).toFixed(0)} MB; new space ${space('new_space')}, old space ${space('old_space')}\n`,
);

report({
  name: 'Memory: one store with 100k channels over 20k peers and a month of history',
  rows: [
    {
      metric:
        'RSS with the store built and every channel\u2019s info computed once (after full GC)',
      value: mb(f.afterQueries.rss),
      unit: 'MB',
      target: '< 300 MB',
      pass: f.afterQueries.rss < 300 * MB,
    },
    {
      metric: 'RSS with the store built, before any query',
      value: mb(f.withHistory.rss),
      unit: 'MB',
    },
    { metric: 'peak RSS while building', value: mb(f.peakRss), unit: 'MB' },
    { metric: 'RSS of the same process before the store', value: mb(f.empty.rss), unit: 'MB' },
    {
      metric: 'V8 heap used + array buffers, store built',
      value: mb(f.withHistory.heap),
      unit: 'MB',
    },
    {
      metric: 'bytes per channel (channel and its share of its peer, no history)',
      value: perChannel,
      unit: 'B',
    },
    {
      metric: 'bytes per logged (committed) event',
      value: perEvent,
      unit: 'B',
      baselineName: 'OnlineLog arrays, no spare capacity',
      baseline: 17,
      ratio: perEvent / 17,
    },
    {
      metric: 'log buffer bytes per committed event (spare capacity included)',
      value: f.logBytes / f.committed,
      unit: 'B',
    },
    {
      metric:
        'bytes per channel added by a first channel-info pass (memos, time directories of long logs)',
      value: perChannelQueried,
      unit: 'B',
    },
    {
      metric: 'log bytes per committed event after that pass (time directories included)',
      value: f.logBytesAfterQueries / f.committed,
      unit: 'B',
    },
    { metric: 'committed events', value: f.committed, unit: 'events' },
    { metric: 'peer events received', value: f.received, unit: 'events' },
    {
      metric: 'committed events per peer (mean)',
      value: f.committed / f.peers,
      unit: 'events',
    },
    { metric: 'committed events of the busiest peer', value: f.maxCommitted, unit: 'events' },
    {
      metric: 'build time (opens and history through the store)',
      value: f.buildSeconds,
      unit: 's',
    },
  ],
  notes: [
    `${f.peers.toLocaleString('en-US')} peers, ${f.channels.toLocaleString('en-US')} channels opened through openChannel (1 to 9 per peer, 5 on average), then ${f.days} days of online/offline events through peerEvent with exponential session lengths by reliability class: ${f.classes.map((c) => `${c.name} ${c.peers} peers (online ~${c.onlineMs / HOUR} h, offline ~${c.offlineMs / MINUTE} min)`).join(', ')}.`,
    'Per channel: growth of V8 used heap plus array buffers from the empty process to the store with the channels and their monitored peers (no history yet), divided by the channels. Per event: growth from there to the store with the history, divided by the committed events; it includes the logs\u2019 spare capacity (capacities double).',
    `Measured in a fresh plain-node process (the store bundled to JavaScript by esbuild) started with --expose-gc, after full collections. At the end: V8 heap ${mb(f.usage.heapTotal).toFixed(0)} MB committed of which ${mb(f.usage.heapUsed).toFixed(0)} MB used (new space ${space('new_space')}, old space ${space('old_space')}), array buffers ${mb(f.usage.arrayBuffers).toFixed(0)} MB.`,
  ],
});
