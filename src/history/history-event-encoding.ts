import { endianness } from 'node:os';
import type { LogEvents } from '../store/online-log.js';
import { HistoryCorruptError, SEGMENT_EVENTS } from './history-format.js';

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
