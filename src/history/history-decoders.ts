import {
  HistoryCorruptError,
  HistoryFormatError,
  SEGMENT_EVENTS,
  type JetStreamMark,
  type Manifest,
  type NodeIndex,
  type StoredBucket,
} from './history-format.js';
import { checkFormat, int, num, record, str } from './history-validation.js';

/**
 * Decoders of a node's manifest and buckets, its sealed segments, the node
 * index, the JetStream mark and the bootstrap lists. Each checks what the
 * callers read of the value; peers are decoded by decodePeer.
 */

export function decodeBucket(value: unknown, what: string): StoredBucket {
  const b = record(value, what);
  checkFormat(b.v, what);
  if (!Array.isArray(b.peers)) throw new HistoryCorruptError(`${what}: peers are not a list`);
  return b as unknown as StoredBucket;
}

export function decodeManifest(value: unknown, what: string): Manifest {
  const m = record(value, what);
  checkFormat(m.v, what);
  int(m.gen, `${what}.gen`);
  num(m.writtenAt, `${what}.writtenAt`);
  if (m.segmentEvents !== SEGMENT_EVENTS) {
    throw new HistoryFormatError(`${what}: segments of ${String(m.segmentEvents)} events`);
  }
  int(m.bucketCount, `${what}.bucketCount`);
  const buckets = record(m.buckets, `${what}.buckets`);
  for (const [key, gen] of Object.entries(buckets)) {
    const bucket = Number(key);
    if (!Number.isInteger(bucket) || bucket < 0 || bucket >= (m.bucketCount as number)) {
      throw new HistoryCorruptError(`${what}: bucket ${key} out of range`);
    }
    int(gen, `${what}.buckets.${key}`);
  }
  if (m.bootstrap !== undefined) int(m.bootstrap, `${what}.bootstrap`);
  if (m.obs !== undefined) int(m.obs, `${what}.obs`);
  if (m.ls !== undefined) num(m.ls, `${what}.ls`);
  if (m.through !== undefined) int(m.through, `${what}.through`);
  return m as unknown as Manifest;
}

/** A sealed segment's first absolute index and its encoded events (decoded by decodeEventsInto). */
export function decodeSegment(value: unknown, what: string): { from: number; data: unknown } {
  const s = record(value, what);
  return { from: int(s.f, `${what}.f`), data: s.d };
}

export function decodeNodeIndex(value: unknown): NodeIndex {
  const x = record(value, 'node index');
  checkFormat(x.v, 'node index');
  if (!Array.isArray(x.nodes) || !x.nodes.every((n) => typeof n === 'string')) {
    throw new HistoryCorruptError('node index: nodes are not a list of names');
  }
  return x as unknown as NodeIndex;
}

export function decodeJetStreamMark(value: unknown): JetStreamMark {
  const x = record(value, 'JetStream mark');
  checkFormat(x.v, 'JetStream mark');
  int(x.through, 'JetStream mark.through');
  str(x.stream, 'JetStream mark.stream');
  str(x.durable, 'JetStream mark.durable');
  return x as unknown as JetStreamMark;
}

export function decodeBootstrap(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((n) => typeof n === 'string')) {
    throw new HistoryCorruptError(`${what}: not a list of pubkeys`);
  }
  return value;
}
