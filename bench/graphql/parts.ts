/**
 * Where a 100-channel page's CPU goes, part by part, measured in the server
 * process of `ours` (bench/graphql/server.ts) once its load runs are over: the
 * store's figures for every channel (lifetime and uptime at now), the page
 * selection over them (the figures included), and the JSON serialization of
 * the answer (JSON.stringify, as the server writes it). Each part runs in
 * blocks after a warm-up; the median block is reported, in µs of the main
 * thread's CPU per call.
 */
import type { ExecutionResult } from 'graphql';
import { selectChannelPage } from '../../src/graphql/channel-page.js';
import type { NodeStores } from '../../src/store/node-stores.js';
import { NODE, NOW } from './fixture.js';

export interface PageParts {
  /** store.channelUptimes(now) for the node's 10,000 channels. */
  readonly storeFigures: number;
  /** selectChannelPage of the first 100 by uptime ratio, storeFigures included. */
  readonly selection: number;
  /** The page's answer written with JSON.stringify. */
  readonly serialization: number;
  readonly answerBytes: number;
}

const BLOCKS = 15;
const CALLS = 100;

function medianMicros(fn: () => unknown): number {
  for (let i = 0; i < CALLS * 3; i++) fn();
  const blocks: number[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const start = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) fn();
    const used = process.cpuUsage(start);
    blocks.push((used.user + used.system) / CALLS);
  }
  blocks.sort((x, y) => x - y);
  return blocks[Math.floor(BLOCKS / 2)] ?? Number.NaN;
}

export function measurePageParts(stores: NodeStores, answer: string): PageParts {
  const store = stores.get(NODE);
  if (store === undefined) throw new Error(`no store for ${NODE}`);
  const result = JSON.parse(answer) as ExecutionResult;
  return {
    storeFigures: medianMicros(() => store.channelUptimes(NOW)),
    selection: medianMicros(() =>
      selectChannelPage([{ store, allChannels: true }], {
        order: 'UPTIME_RATIO_ASC',
        first: 100,
        after: undefined,
        now: NOW,
      }),
    ),
    serialization: medianMicros(() => JSON.stringify(result)),
    answerBytes: Buffer.byteLength(answer),
  };
}
