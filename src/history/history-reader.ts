import type { ObservationImage } from '../store/node-observation.js';
import { OnlineLog, type LogEvents } from '../store/online-log.js';
import type { NodeHistories } from './history-bookkeeping.js';
import {
  decodeBootstrap,
  decodeBucket,
  decodeJetStreamMark,
  decodeManifest,
  decodeNodeIndex,
  decodeSegment,
} from './history-decoders.js';
import { decodeEventsInto } from './history-event-encoding.js';
import {
  HistoryCorruptError,
  historyKeys,
  SEGMENT_EVENTS,
  type Manifest,
} from './history-format.js';
import type { HistoryKeeperOptions } from './history-keeper-options.js';
import type { HistoryKv } from './history-kv.js';
import { decodeObservation } from './history-observation-encoding.js';
import { decodePeer, type DecodedPeer } from './history-peer-encoding.js';
import type { UnusableHistory } from './history-set-aside.js';

/** Buckets read and decoded together at a restore (see readPeers). */
const RESTORE_GROUP_BUCKETS = 16;

/** A node's persisted state, read and decoded. */
export interface PersistedNode {
  readonly manifest: Manifest;
  readonly peers: DecodedPeer[];
  readonly events: Map<string, LogEvents>;
  readonly bootstrap: string[] | undefined;
  readonly observation: ObservationImage | undefined;
}

/** What a restore read: the nodes the index names, the JetStream mark, the nodes that decoded. */
export interface PersistedHistory {
  readonly index: readonly string[];
  /** JetStream: the resume point, when the mark is of this stream and durable. */
  readonly mark: number | undefined;
  readonly nodes: readonly ({ readonly node: string } & PersistedNode)[];
}

/**
 * Reads the node index, the JetStream mark and every node's state. Rejects
 * when the store cannot be read; state of another format or that does not
 * decode is logged, counted and set aside (see UnusableHistory).
 */
export async function readHistory(
  options: HistoryKeeperOptions,
  histories: NodeHistories,
  unusable: UnusableHistory,
): Promise<PersistedHistory> {
  const { kv, stats, logger } = options;
  let index: string[] = [];
  try {
    const value = await kv.get(historyKeys.nodes);
    if (value !== undefined) index = decodeNodeIndex(value).nodes;
  } catch (err) {
    if (!unusable.rejected(err, 'the node index')) {
      stats.restoreFailures += 1;
      throw err;
    }
    unusable.setAsideIndex();
  }
  let mark: number | undefined;
  if (options.jetstream !== undefined) {
    try {
      const value = await kv.get(historyKeys.jetstream);
      if (value !== undefined) {
        const found = decodeJetStreamMark(value);
        const { stream, durable } = options.jetstream;
        if (found.stream === stream && found.durable === durable) {
          mark = found.through;
          histories.restoredThrough = found.through;
        } else {
          // Sequences of another stream (or consumer) say nothing of this one.
          logger.warn(
            { was: { stream: found.stream, durable: found.durable }, now: { stream, durable } },
            'the history was consumed from another stream or durable: reconciling with the nodes instead of resuming',
          );
        }
      }
    } catch (err) {
      if (!unusable.rejected(err, 'the JetStream mark')) {
        stats.restoreFailures += 1;
        throw err;
      }
    }
  }
  const loaded: ({ node: string } & PersistedNode)[] = [];
  for (const node of index) {
    try {
      const found = await readNode(kv, node);
      if (found !== undefined) loaded.push({ node, ...found });
    } catch (err) {
      if (!unusable.rejected(err, `the history of node ${node}`)) {
        stats.restoreFailures += 1;
        throw err;
      }
      unusable.setAside(node);
    }
  }
  return { index, mark, nodes: loaded };
}

/** Reads and decodes a node's manifest and all it names; undefined without a manifest. */
async function readNode(kv: HistoryKv, node: string): Promise<PersistedNode | undefined> {
  const manifestValue = await kv.get(historyKeys.manifest(node));
  if (manifestValue === undefined) return undefined;
  const manifest = decodeManifest(manifestValue, `manifest of ${node}`);
  const { peers, events } = await readPeers(kv, node, manifest);
  let bootstrap: string[] | undefined;
  if (manifest.bootstrap !== undefined) {
    const value = await kv.get(historyKeys.bootstrap(node, manifest.bootstrap));
    if (value === undefined) throw new HistoryCorruptError(`bootstrap list of ${node} is missing`);
    bootstrap = decodeBootstrap(value, `bootstrap list of ${node}`);
  }
  let observation: ObservationImage | undefined;
  if (manifest.obs !== undefined) {
    const value = await kv.get(historyKeys.observation(node, manifest.obs));
    if (value === undefined) throw new HistoryCorruptError(`gaps of ${node} are missing`);
    observation = decodeObservation(value, manifest.ls, `gaps of ${node}`);
  } else if (manifest.ls !== undefined) {
    observation = { base: 0, gaps: [], settling: false, lastStatus: manifest.ls };
  }
  return { manifest, peers, events, bootstrap, observation };
}

/**
 * Reads and decodes a node's buckets and the sealed segments of their peers'
 * logs, a group of buckets at a time and two groups at once: the store reads
 * one group while the event loop decodes another, and the encoded segments
 * never all live at once.
 */
async function readPeers(
  kv: HistoryKv,
  node: string,
  manifest: Manifest,
): Promise<{ peers: DecodedPeer[]; events: Map<string, LogEvents> }> {
  const bucketEntries = Object.entries(manifest.buckets);
  const groups: DecodedPeer[][] = [];
  const events = new Map<string, LogEvents>();
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < bucketEntries.length) {
      const group = groups.length;
      const entries = bucketEntries.slice(next, next + RESTORE_GROUP_BUCKETS);
      next += entries.length;
      groups.push([]);
      const values: unknown[] = [];
      await kv.getEach(
        entries.map(([bucket, gen]) => historyKeys.bucket(node, Number(bucket), gen)),
        (from, batch) => {
          batch.forEach((value, i) => (values[from + i] = value));
        },
      );
      const peers: DecodedPeer[] = [];
      entries.forEach(([bucket], i) => {
        const what = `bucket ${bucket} of ${node}`;
        const value = values[i];
        if (value === undefined) throw new HistoryCorruptError(`${what} is missing`);
        decodeBucket(value, what).peers.forEach((peer, j) =>
          peers.push(decodePeer(peer, `${what}, peer ${j}`)),
        );
      });
      groups[group] = peers;
      await readSegments(kv, node, peers, events);
    }
  };
  await Promise.all([reader(), reader()]);
  return { peers: groups.flat(), events };
}

/**
 * Fills each peer's log columns (in the log's own layout: restoring adopts
 * them without a copy) from its sealed segments, decoded batch by batch as
 * the store answers, and its tail.
 */
async function readSegments(
  kv: HistoryKv,
  node: string,
  peers: readonly DecodedPeer[],
  events: Map<string, LogEvents>,
): Promise<void> {
  const logged = peers.filter((p) => p.segments !== undefined && p.image.monitor !== undefined);
  const allColumns = OnlineLog.columnsFor(
    logged.map((p) => (p.image.monitor ? p.image.monitor.log.end - p.image.monitor.log.offset : 0)),
  );
  const keys: string[] = [];
  const targets: { columns: LogEvents; offset: number; j: number; pubkey: string }[] = [];
  logged.forEach((p, k) => {
    const s = p.segments;
    const m = p.image.monitor;
    if (s === undefined || m === undefined) return;
    const { offset, end } = m.log;
    const columns = allColumns[k] as LogEvents;
    const tail = p.tail;
    const tailAt = Math.max(offset, s.end * SEGMENT_EVENTS) - offset;
    if (tail === undefined || tailAt + tail.times.length !== end - offset) {
      throw new HistoryCorruptError(`the log of ${p.image.pubkey} on ${node} does not add up`);
    }
    columns.times.set(tail.times, tailAt);
    columns.kinds.set(tail.kinds, tailAt);
    events.set(p.image.pubkey, columns);
    for (let j = s.first; j < s.end; j++) {
      keys.push(historyKeys.segment(node, p.image.pubkey, s.epoch, j));
      targets.push({ columns, offset, j, pubkey: p.image.pubkey });
    }
  });
  await kv.getEach(keys, (from, values) => {
    values.forEach((value, i) => {
      const { columns, offset, j, pubkey } = targets[from + i] as (typeof targets)[0];
      const what = `segment ${j} of ${pubkey} on ${node}`;
      if (value === undefined) throw new HistoryCorruptError(`${what} is missing`);
      const segment = decodeSegment(value, what);
      const first = Math.max(offset, j * SEGMENT_EVENTS);
      const skip = first - segment.from;
      if (skip < 0) throw new HistoryCorruptError(`${what} starts after the log's offset`);
      decodeEventsInto(
        segment.data,
        what,
        skip,
        (j + 1) * SEGMENT_EVENTS - first,
        columns,
        first - offset,
      );
    });
  });
}
