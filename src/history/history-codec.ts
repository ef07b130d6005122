import { endianness } from 'node:os';
import { CodedError } from '../errors.js';
import type { LogEvents, LogHeader } from '../store/online-log.js';
import type { Gap, GapReason, ObservationImage } from '../store/node-observation.js';
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
export const SEGMENT_EVENTS = 256;

/**
 * Persisted state of another format than HISTORY_FORMAT. The code is the
 * reason it is ignored for (HistoryRejectReason), as counted and logged.
 */
export class HistoryFormatError extends CodedError<'format'> {
  constructor(message: string) {
    super('format', message);
  }
}

/** Persisted state that does not decode; the code is its HistoryRejectReason. */
export class HistoryCorruptError extends CodedError<'corrupt'> {
  constructor(message: string) {
    super('corrupt', message);
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
  observation: (node: string, gen: number): string => `hist:${node}:obs:${gen}`,
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
  /** Generation of the observation key (the node's gaps); absent while it never had one. */
  readonly obs?: number;
  /** Time of the node's latest status; absent when it never sent one. */
  readonly ls?: number;
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
  /** The node's unobserved time up to createdAt, when not 0. */
  readonly ua?: number;
  /**
   * [channel point, opened at, online time at the opening or null], and the
   * node's unobserved time up to the opening when not 0.
   */
  readonly ch: ([string, number, number | null] | [string, number, number | null, number])[];
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

/**
 * Events as text. Two encodings, told apart by the first character:
 *
 * - compact (`~` then base64): the first time as a little-endian float64,
 *   then per event a LEB128 varint of (k << 1 | kind), where the time is the
 *   previous one plus k * 2^scale. Times of a log never run backwards, and
 *   the difference of two close times is exact in floating point, so the
 *   times decode to the very same doubles; peers change state minutes apart,
 *   so an event takes 4 or 5 bytes instead of 9.
 * - raw (base64 only): times as little-endian float64, then one byte of kind
 *   per event. Written when the compact form would not give back the same
 *   doubles (times near zero, as tests use, where differences are not exact).
 *
 * The compact form's header: the byte 1, the scale as a signed byte, the
 * number of events as a varint, the first time.
 */
export function encodeEvents(events: LogEvents): string {
  return encodeCompact(events) ?? encodeRaw(events);
}

function encodeRaw(events: LogEvents): string {
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

const COMPACT_TAG = 1;
const COMPACT_PREFIX = '~';
/** Largest k: (k << 1 | kind) stays a safe integer. */
const MAX_STEP = 2 ** 52 - 1;

function encodeCompact(events: LogEvents): string | undefined {
  const { times, kinds } = events;
  const n = times.length;
  if (n === 0) return undefined;
  // The coarsest power of two every difference is a multiple of.
  let scale = Infinity;
  for (let i = 1; i < n; i++) {
    const prev = times[i - 1] as number;
    const d = (times[i] as number) - prev;
    if (!(d >= 0) || prev + d !== times[i]) return undefined;
    if (d > 0) scale = Math.min(scale, lowestBit(d));
  }
  if (scale === Infinity) scale = 0;
  if (scale < -128 || scale > 127) return undefined;
  const unit = 2 ** scale;
  // Header (at most 1 + 1 + 8 + 8 bytes), then at most 8 bytes per event.
  const buffer = scratch(18 + n * 8);
  buffer[0] = COMPACT_TAG;
  buffer.writeInt8(scale, 1);
  let at = writeVarint(buffer, 2, n);
  buffer.writeDoubleLE(times[0] as number, at);
  at += 8;
  for (let i = 0; i < n; i++) {
    const k = i === 0 ? 0 : ((times[i] as number) - (times[i - 1] as number)) / unit;
    if (k > MAX_STEP) return undefined;
    at = writeVarint(buffer, at, k * 2 + ((kinds[i] as number) & 1));
  }
  return COMPACT_PREFIX + buffer.toString('base64', 0, at);
}

const bits = new DataView(new ArrayBuffer(8));

/** The exponent of the lowest set bit of a positive finite double, from its bits. */
function lowestBit(d: number): number {
  bits.setFloat64(0, d, true);
  const lo = bits.getUint32(0, true);
  const hi = bits.getUint32(4, true);
  const exponent = (hi >>> 20) & 0x7ff;
  // The significand's low bits; normal numbers have an implicit bit 52.
  const top = (hi & 0xfffff) | (exponent === 0 ? 0 : 0x100000);
  const shift = exponent === 0 ? -1074 : exponent - 1075;
  if (lo !== 0) return shift + 31 - Math.clz32(lo & -lo);
  return shift + 32 + 31 - Math.clz32(top & -top);
}

/** Writes a non-negative safe integer as LEB128 at `at`; returns the end. */
function writeVarint(buffer: Buffer, at: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    buffer[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buffer[at++] = v;
  return at;
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
  const encoded = eventBytes(text, what);
  const events = { times: new Float64Array(encoded.n), kinds: new Uint8Array(encoded.n) };
  copyEvents(encoded, 0, encoded.n, events, 0, what);
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
  const encoded = eventBytes(text, what);
  if (encoded.n !== skip + count) {
    throw new HistoryCorruptError(`${what} does not hold the events it should`);
  }
  copyEvents(encoded, skip, count, into, at, what);
}

/** Encoded events, in the scratch buffer (valid until the next call). */
interface EncodedEvents {
  readonly bytes: Buffer;
  readonly n: number;
  /** Compact: the scale and where the first time starts; undefined for raw. */
  readonly compact: { readonly unit: number; readonly at: number } | undefined;
}

function eventBytes(text: unknown, what: string): EncodedEvents {
  if (typeof text !== 'string') throw new HistoryCorruptError(`${what}: events are not a string`);
  const compact = text.startsWith(COMPACT_PREFIX);
  const into = scratch(Math.ceil((text.length * 3) / 4));
  const length = compact
    ? into.write(text.slice(COMPACT_PREFIX.length), 'base64')
    : into.write(text, 'base64');
  const bytes = into.subarray(0, length);
  if (!compact) {
    if (length % 9 !== 0) throw new HistoryCorruptError(`${what}: events are truncated`);
    return { bytes, n: length / 9, compact: undefined };
  }
  if (length < 11 || bytes[0] !== COMPACT_TAG) {
    throw new HistoryCorruptError(`${what}: events of an unknown encoding`);
  }
  const unit = 2 ** bytes.readInt8(1);
  const [n, at] = readVarint(bytes, 2, what);
  if (at + 8 > length) throw new HistoryCorruptError(`${what}: events are truncated`);
  return { bytes, n, compact: { unit, at } };
}

/** Reads a LEB128 varint at `at`: [value, end]. */
function readVarint(bytes: Buffer, at: number, what: string): [number, number] {
  let value = 0;
  let factor = 1;
  for (let i = at; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return [value, i + 1];
    factor *= 0x80;
    if (factor > 2 ** 56) break;
  }
  throw new HistoryCorruptError(`${what}: events are truncated`);
}

/** Copies events [skip, skip + count) of encoded events into the columns at index at, checked. */
function copyEvents(
  encoded: EncodedEvents,
  skip: number,
  count: number,
  into: LogEvents,
  at: number,
  what: string,
): void {
  const { bytes, n, compact } = encoded;
  const { times, kinds } = into;
  if (compact === undefined) {
    if (LITTLE_ENDIAN) {
      new Uint8Array(times.buffer, times.byteOffset + at * 8, count * 8).set(
        bytes.subarray(skip * 8, (skip + count) * 8),
      );
    } else {
      for (let i = 0; i < count; i++) times[at + i] = bytes.readDoubleLE((skip + i) * 8);
    }
    kinds.set(bytes.subarray(n * 8 + skip, n * 8 + skip + count), at);
  } else {
    let time = bytes.readDoubleLE(compact.at);
    let pos = compact.at + 8;
    const end = bytes.length;
    const unit = compact.unit;
    let i = 0;
    for (; i < n && pos < end; i++) {
      // LEB128, inlined with 32-bit steps for the usual 1 to 4 bytes: this
      // loop runs once per restored event. Reads past the end give undefined,
      // which ends the number; the length check below then refuses it all.
      let byte = bytes[pos++] as number;
      let low = byte & 0x7f;
      let high = 0;
      if (byte >= 0x80) {
        byte = bytes[pos++] as number;
        low |= (byte & 0x7f) << 7;
        if (byte >= 0x80) {
          byte = bytes[pos++] as number;
          low |= (byte & 0x7f) << 14;
          if (byte >= 0x80) {
            byte = bytes[pos++] as number;
            low |= (byte & 0x7f) << 21;
            // Bits 28 and up in a second integer (times a minute apart at a
            // sub-microsecond scale take 5 bytes): no double until the end.
            for (let shift = 0; byte >= 0x80; shift += 7) {
              if (shift > 21) throw new HistoryCorruptError(`${what}: a step is too long`);
              byte = bytes[pos++] as number;
              high |= (byte & 0x7f) << shift;
            }
          }
        }
      }
      const kind = low & 1;
      if (i > 0) time += (high * 0x8000000 + (low >>> 1)) * unit;
      if (i >= skip) {
        times[at + i - skip] = time;
        kinds[at + i - skip] = kind;
      }
    }
    if (i !== n || pos !== end) {
      throw new HistoryCorruptError(`${what}: events do not add up to their count`);
    }
  }
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
    ...(m.unobservedAtCreation ? { ua: m.unobservedAtCreation } : {}),
    ch: m.channels.map((c) =>
      c.unobservedAtOpening
        ? [c.channelPoint, c.openedAt, c.atOpening ?? null, c.unobservedAtOpening]
        : [c.channelPoint, c.openedAt, c.atOpening ?? null],
    ),
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
    if (!Array.isArray(entry) || (entry.length !== 3 && entry.length !== 4)) {
      throw new HistoryCorruptError(`${what}: channel ${i} is not [point, openedAt, atOpening]`);
    }
    return {
      channelPoint: str(entry[0], `${what}.ch[${i}]`),
      openedAt: num(entry[1], `${what}.ch[${i}]`),
      atOpening: entry[2] === null ? undefined : num(entry[2], `${what}.ch[${i}]`),
      unobservedAtOpening: entry.length === 4 ? num(entry[3], `${what}.ch[${i}]`) : 0,
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
    unobservedAtCreation: m.ua === undefined ? 0 : num(m.ua, `${what}.m.ua`),
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

/** A node's gaps as stored: [start, end or null, reason]. */
interface StoredObservation {
  readonly v: number;
  /** Unobserved time of the gaps compacted away. */
  readonly b: number;
  /** End of the last gap compacted away, when one was. */
  readonly cu?: number;
  readonly g: [number, number | null, GapReason][];
  /** 1 when the last gap's end is only planned (the node is back, settling). */
  readonly s: 0 | 1;
}

const GAP_REASONS: readonly GapReason[] = ['LND_DOWN', 'BRIDGE_SILENT', 'EXPORTER_DOWN'];

/** The node's gaps, without its latest status (which the manifest carries). */
export function encodeObservation(image: ObservationImage): StoredObservation {
  return {
    v: HISTORY_FORMAT,
    b: image.base,
    ...(image.compactedUntil === undefined ? {} : { cu: image.compactedUntil }),
    g: image.gaps.map((gap) => [gap.start, gap.end ?? null, gap.reason]),
    s: image.settling ? 1 : 0,
  };
}

export function decodeObservation(
  value: unknown,
  lastStatus: number | undefined,
  what: string,
): ObservationImage {
  const o = record(value, what);
  checkFormat(o.v, what);
  if (!Array.isArray(o.g)) throw new HistoryCorruptError(`${what}: gaps are not a list`);
  const gaps: Gap[] = o.g.map((entry: unknown, i) => {
    if (
      !Array.isArray(entry) ||
      entry.length !== 3 ||
      !GAP_REASONS.includes(entry[2] as GapReason)
    ) {
      throw new HistoryCorruptError(`${what}: gap ${i} is not [start, end, reason]`);
    }
    return {
      start: num(entry[0], `${what}.g[${i}]`),
      end: entry[1] === null ? undefined : num(entry[1], `${what}.g[${i}]`),
      reason: entry[2] as GapReason,
    };
  });
  if (o.s !== 0 && o.s !== 1) throw new HistoryCorruptError(`${what}: bad settling flag`);
  return {
    base: num(o.b, `${what}.b`),
    compactedUntil: o.cu === undefined ? undefined : num(o.cu, `${what}.cu`),
    gaps,
    settling: o.s === 1,
    lastStatus,
  };
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
