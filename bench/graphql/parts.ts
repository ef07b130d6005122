/**
 * Where a 100-channel page's CPU goes, part by part, measured in the server
 * process of `ours` (bench/graphql/server.ts) once its load runs are over: the
 * store's figures for every channel (lifetime and uptime at now), the page
 * selection over them (the figures included), and the JSON serialization of
 * the answer (with the serializer compiled for the operation, as the server
 * writes it, and with JSON.stringify). Each part runs in blocks after a
 * warm-up; the median block is reported, in µs of the main thread's CPU per
 * call.
 */
import { buildSchema, parse, type ExecutionResult } from 'graphql';
import { selectChannelPage } from '../../src/graphql/channel-page.js';
import { compileResultSerializer } from '../../src/graphql/result-serializer.js';
import { loadSchemaSource } from '../../src/graphql/schema-file.js';
import type { NodeStores } from '../../src/store/node-stores.js';
import { NODE, NOW, PAGE_QUERY } from './fixture.js';

export interface PageParts {
  /** store.channelUptimes(now) for the node's 10,000 channels. */
  readonly storeFigures: number;
  /** selectChannelPage of the first 100 by uptime ratio, storeFigures included. */
  readonly selection: number;
  /** The page's answer written by the serializer compiled for its operation. */
  readonly serialization: number;
  /** The same with JSON.stringify. */
  readonly jsonStringify: number;
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
  const serialize = compileResultSerializer(buildSchema(loadSchemaSource()), parse(PAGE_QUERY));
  if (serialize === undefined || serialize(result) !== answer) {
    throw new Error('the compiled serializer does not write the answer');
  }
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
    serialization: medianMicros(() => serialize(result)),
    jsonStringify: medianMicros(() => JSON.stringify(result)),
    answerBytes: Buffer.byteLength(answer),
  };
}
