import { endianness } from 'node:os';
import { CodedError } from '../errors.js';
import type { LogEvents, LogHeader } from '../store/online-log.js';
import type { ChannelImage, MonitorImage, PeerImage } from '../store/store-image.js';

/**
 * The persisted form of a store's history, as JSON values in Keyv. Every
 * decoder checks what it reads and throws HistoryFormatError (an older or
 * newer format) or HistoryCorruptError (anything else it cannot use): state
 * that cannot be trusted is ignored, never half-applied.
 */

/** Bumped on any incompatible change of what follows. */
export const HISTORY_FORMAT = 1;

/** Committed events per sealed segment of a peer's log (written once, never rewritten). */
export const SEGMENT_EVENTS = 128;

/** Persisted state of another format than HISTORY_FORMAT. */
export class HistoryFormatError extends CodedError<'HISTORY_FORMAT'> {
  constructor(message: string) {
    super('HISTORY_FORMAT', message);
  }
}

/** Persisted state that does not decode. */
export class HistoryCorruptError extends CodedError<'HISTORY_CORRUPT'> {
  constructor(message: string) {
    super('HISTORY_CORRUPT', message);
  }
}

/** Keyv keys (Keyv adds the `chanfitness` namespace). */
export const historyKeys = {
  nodes: 'hist:nodes',
  jetstream: 'hist:jetstream',
  manifest: (node: string): string => `hist:${node}:m`,
  bucket: (node: string, bucket: number, gen: number): string => `hist:${node}:b:${bucket}:${gen}`,
  segment: (node: string, pubkey: string, epoch: number, index: number): string =>
    `hist:${node}:s:${pubkey}:${epoch}:${index}`,
  bootstrap: (node: string, gen: number): string => `hist:${node}:boot:${gen}`,
};

/** The index of the nodes with history: written before a node's first manifest. */
export interface NodeIndex {
  readonly v: number;
  readonly nodes: string[];
}

/** A node's manifest: which generation of each bucket holds its peers. Written last. */
export interface Manifest {
  readonly v: number;
  /** Generation of this write; buckets written by it carry it in their keys. */
  readonly gen: number;
  /** When this write was captured (ms): where an unobserved span of a crash starts. */
  readonly writtenAt: number;
  readonly bucketCount: number;
  readonly segmentEvents: number;
  /** Bucket number -> generation of its current key. */
  readonly buckets: Record<string, number>;
  /** Generation of the bootstrap list key; absent when none was read. */
  readonly bootstrap?: number;
  /**
   * JetStream: every message of the stream up to this sequence is in this
   * state (or in a peer's own `through`, later); absent in core NATS mode.
   */
  readonly through?: number;
}

/** The JetStream resume point: every node's state includes every message up to `through`. */
export interface JetStreamMark {
  readonly v: number;
  readonly through: number;
  /** The stream and durable the sequence belongs to. */
  readonly stream: string;
  readonly durable: string;
}

/** A sealed segment: committed events [from, (index + 1) * SEGMENT_EVENTS) of a log epoch. */
export interface StoredSegment {
  readonly f: number;
  readonly d: string;
}

/** A peer in a bucket. */
export interface StoredPeer {
  readonly k: string;
  /** Connectivity: 1 online, 0 offline, null before any peer event. */
  readonly c: 0 | 1 | null;
  readonly t: number;
  /** JetStream sequence this peer's state includes every message of, when later than the manifest's. */
  readonly q?: number;
  readonly m?: StoredMonitor;
}

interface StoredMonitor {
  readonly f: number;
  readonly lf: number | null;
  readonly o: 0 | 1;
  readonly r: 0 | 1;
  readonly ca: number;
  /** [channel point, opened at, online time at the opening or null]. */
  readonly ch: [string, number, number | null][];
  readonly lg: StoredLog;
}

interface StoredLog {
  readonly e: number;
  readonly o: number;
  readonly n: number;
  readonly b: number;
  readonly s: [number, 0 | 1] | null;
  /** Sealed segments [first, sg) hold the events from the offset up to sg * SEGMENT_EVENTS. */
  readonly sg: number;
  /** The events after the sealed segments, up to n. */
  readonly tl: string;
}

/** A bucket: the peers whose pubkey hashes to it. */
export interface StoredBucket {
  readonly v: number;
  readonly peers: StoredPeer[];
}

/** The segments of a log that are sealed (full) given its end. */
export function sealedSegments(end: number): number {
  return Math.floor(end / SEGMENT_EVENTS);
}

/** First segment holding a retained event. */
export function firstSegment(offset: number): number {
  return Math.floor(offset / SEGMENT_EVENTS);
}

// ---- events ------------------------------------------------------------------

/** Typed arrays are in the host's byte order: copied as they are on little-endian hosts. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** Times as little-endian float64, then one byte of kind per event, in base64. */
export function encodeEvents(events: LogEvents): string {
  const n = events.times.length;
  const buffer = scratch(n * 9);
  if (LITTLE_ENDIAN) {
    buffer.set(new Uint8Array(events.times.buffer, events.times.byteOffset, n * 8));
  } else {
    for (let i = 0; i < n; i++) buffer.writeDoubleLE(events.times[i] as number, i * 8);
  }
  buffer.set(events.kinds.subarray(0, n), n * 8);
  return buffer.toString('base64', 0, n * 9);
}

/**
 * One buffer for every encoding and decoding, grown when needed: a snapshot or
 * a restore handles tens of thousands of segments, and a buffer each (memory
 * outside the V8 heap) made V8 collect garbage in the middle of ingestion.
 * Its contents are valid until the next call.
 */
let scratchBuffer = Buffer.alloc(SEGMENT_EVENTS * 9);

function scratch(bytes: number): Buffer {
  if (scratchBuffer.length < bytes)
    scratchBuffer = Buffer.alloc(Math.max(bytes, scratchBuffer.length * 2));
  return scratchBuffer;
}

export function decodeEvents(text: unknown, what: string): LogEvents {
  const buffer = eventBytes(text, what);
  const n = buffer.length / 9;
  const events = { times: new Float64Array(n), kinds: new Uint8Array(n) };
  copyEvents(buffer, 0, n, events, 0, what);
  return events;
}

/**
 * Decodes the events of a segment straight into a log's columns: `count`
 * events from the `skip`-th on, at index `at`. Throws when it holds another number.
 */
export function decodeEventsInto(
  text: unknown,
  what: string,
  skip: number,
  count: number,
  into: LogEvents,
  at: number,
): void {
  const buffer = eventBytes(text, what);
  if (buffer.length / 9 !== skip + count) {
    throw new HistoryCorruptError(`${what} does not hold the events it should`);
  }
  copyEvents(buffer, skip, count, into, at, what);
}

/** The bytes of encoded events, in the scratch buffer (valid until the next call). */
function eventBytes(text: unknown, what: string): Buffer {
  if (typeof text !== 'string') throw new HistoryCorruptError(`${what}: events are not a string`);
  const into = scratch(Math.ceil((text.length * 3) / 4));
  const length = into.write(text, 'base64');
  if (length % 9 !== 0) throw new HistoryCorruptError(`${what}: events are truncated`);
  return into.subarray(0, length);
}

/** Copies events [skip, skip + count) of an encoded buffer into the columns at index at, checked. */
function copyEvents(
  buffer: Buffer,
  skip: number,
  count: number,
  into: LogEvents,
  at: number,
  what: string,
): void {
  const n = buffer.length / 9;
  const { times, kinds } = into;
  if (LITTLE_ENDIAN) {
    new Uint8Array(times.buffer, times.byteOffset + at * 8, count * 8).set(
      buffer.subarray(skip * 8, (skip + count) * 8),
    );
  } else {
    for (let i = 0; i < count; i++) times[at + i] = buffer.readDoubleLE((skip + i) * 8);
  }
  kinds.set(buffer.subarray(n * 8 + skip, n * 8 + skip + count), at);
  for (let i = at; i < at + count; i++) {
    if (!Number.isFinite(times[i]) || (kinds[i] as number) > 1) {
      throw new HistoryCorruptError(`${what}: event ${i - at + skip} is not a time and a kind`);
    }
  }
}

// ---- peers -------------------------------------------------------------------

/** A peer as stored, with its tail events (those after its sealed segments). */
export function encodePeer(
  image: PeerImage,
  tail: LogEvents | undefined,
  through: number | undefined,
): StoredPeer {
  const m = image.monitor;
  return {
    k: image.pubkey,
    c: image.connectivity === undefined ? null : image.connectivity ? 1 : 0,
    t: image.latest,
    ...(through === undefined ? {} : { q: through }),
    ...(m === undefined ? {} : { m: encodeMonitor(m, tail) }),
  };
}

function encodeMonitor(m: MonitorImage, tail: LogEvents | undefined): StoredMonitor {
  const log = m.log;
  return {
    f: m.flapCount,
    lf: m.lastFlap ?? null,
    o: m.online ? 1 : 0,
    r: m.recordMerged ? 1 : 0,
    ca: m.createdAt,
    ch: m.channels.map((c) => [c.channelPoint, c.openedAt, c.atOpening ?? null]),
    lg: {
      e: log.epoch,
      o: log.offset,
      n: log.end,
      b: log.cumBase,
      s: log.staged === undefined ? null : [log.staged.time, log.staged.online ? 1 : 0],
      sg: Math.max(sealedSegments(log.end), firstSegment(log.offset)),
      tl: tail === undefined ? '' : encodeEvents(tail),
    },
  };
}

/** A decoded peer: its image, where its log's sealed segments are, and its tail. */
export interface DecodedPeer {
  readonly image: PeerImage;
  readonly through: number | undefined;
  /** Segment numbers [first, end) to read, with the log's epoch; undefined without a monitor. */
  readonly segments:
    { readonly epoch: number; readonly first: number; readonly end: number } | undefined;
  readonly tail: LogEvents | undefined;
}

export function decodePeer(value: unknown, what: string): DecodedPeer {
  const p = record(value, what);
  const pubkey = str(p.k, `${what}.k`);
  const c = p.c;
  if (c !== 0 && c !== 1 && c !== null) throw new HistoryCorruptError(`${what}: bad connectivity`);
  const image: { -readonly [K in keyof PeerImage]: PeerImage[K] } = {
    pubkey,
    connectivity: c === null ? undefined : c === 1,
    latest: num(p.t, `${what}.t`),
    monitor: undefined,
  };
  const through = p.q === undefined ? undefined : num(p.q, `${what}.q`);
  if (p.m === undefined) return { image, through, segments: undefined, tail: undefined };
  const m = record(p.m, `${what}.m`);
  const lg = record(m.lg, `${what}.m.lg`);
  const staged = lg.s;
  let stagedEvent: LogHeader['staged'];
  if (staged === null) stagedEvent = undefined;
  else if (Array.isArray(staged) && staged.length === 2 && (staged[1] === 0 || staged[1] === 1)) {
    stagedEvent = { time: num(staged[0], `${what}.staged`), online: staged[1] === 1 };
  } else throw new HistoryCorruptError(`${what}: bad staged event`);
  const header: LogHeader = {
    epoch: int(lg.e, `${what}.lg.e`),
    offset: int(lg.o, `${what}.lg.o`),
    end: int(lg.n, `${what}.lg.n`),
    cumBase: num(lg.b, `${what}.lg.b`),
    staged: stagedEvent,
  };
  if (header.end < header.offset)
    throw new HistoryCorruptError(`${what}: log ends before its offset`);
  if (!Array.isArray(m.ch)) throw new HistoryCorruptError(`${what}: channels are not a list`);
  const channels: ChannelImage[] = m.ch.map((entry: unknown, i) => {
    if (!Array.isArray(entry) || entry.length !== 3) {
      throw new HistoryCorruptError(`${what}: channel ${i} is not [point, openedAt, atOpening]`);
    }
    return {
      channelPoint: str(entry[0], `${what}.ch[${i}]`),
      openedAt: num(entry[1], `${what}.ch[${i}]`),
      atOpening: entry[2] === null ? undefined : num(entry[2], `${what}.ch[${i}]`),
    };
  });
  const o = m.o;
  const r = m.r;
  if ((o !== 0 && o !== 1) || (r !== 0 && r !== 1)) {
    throw new HistoryCorruptError(`${what}: bad monitor flags`);
  }
  image.monitor = {
    flapCount: int(m.f, `${what}.m.f`),
    lastFlap: m.lf === null ? undefined : num(m.lf, `${what}.m.lf`),
    online: o === 1,
    recordMerged: r === 1,
    createdAt: num(m.ca, `${what}.m.ca`),
    channels,
    log: header,
  };
  const sg = int(lg.sg, `${what}.lg.sg`);
  const first = firstSegment(header.offset);
  const tail = decodeEvents(lg.tl, `${what} tail`);
  const tailFrom = Math.max(header.offset, sg * SEGMENT_EVENTS);
  if (sg < first || tailFrom + tail.times.length !== header.end) {
    throw new HistoryCorruptError(`${what}: log segments and tail do not add up`);
  }
  return { image, through, segments: { epoch: header.epoch, first, end: sg }, tail };
}

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

function checkFormat(v: unknown, what: string): void {
  if (v !== HISTORY_FORMAT) {
    throw new HistoryFormatError(
      `${what}: format ${String(v)}, this version reads ${HISTORY_FORMAT}`,
    );
  }
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HistoryCorruptError(`${what}: not an object`);
  }
  return value as Record<string, unknown>;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '')
    throw new HistoryCorruptError(`${what}: not a string`);
  return value;
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new HistoryCorruptError(`${what}: not a number`);
  }
  return value;
}

function int(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new HistoryCorruptError(`${what}: not a non-negative integer`);
  }
  return value as number;
}
