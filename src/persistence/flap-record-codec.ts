import type { Deserialize, DeserializedData, Serialize } from 'keyv';
import { formatTimestamp, rfc3339ToMs } from '../lnd/timestamp.js';
import type { FlapRecord } from '../store/peer-monitor.js';
import { PersistenceError } from './errors.js';

/** A flap record as stored: `{"count": <int>, "lastFlap": "<RFC 3339>"}`. */
export interface StoredFlapRecord {
  readonly count: number;
  readonly lastFlap: string;
}

/** What a stored value decodes to: no record, a record, or a value that is not one. */
export type DecodedFlapRecord =
  | { readonly kind: 'absent' }
  | { readonly kind: 'record'; readonly record: FlapRecord }
  | { readonly kind: 'invalid'; readonly reason: string };

/** A stored text that is not JSON, handed on by keyvDeserialize so that it is reported, not thrown. */
export class UndecodableValue {
  constructor(readonly text: string) {}
}

/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the years RFC 3339 can write. */
const MIN_TIME = -62_167_219_200_000;
const MAX_TIME = 253_402_300_799_999;
const ABSENT: DecodedFlapRecord = { kind: 'absent' };

/** The Keyv key of a peer's record (Keyv adds the `chanfitness` namespace). */
export function flapRecordKey(node: string, pubkey: string): string {
  return `flap:${node}:${pubkey}`;
}

/** The stored form of a record; throws INVALID_FLAP_RECORD for one that cannot be stored. */
export function encodeFlapRecord(record: FlapRecord): StoredFlapRecord {
  if (!Number.isSafeInteger(record.count) || record.count < 0) {
    throw new PersistenceError(
      'INVALID_FLAP_RECORD',
      `flap count ${record.count} is not a non-negative integer`,
    );
  }
  if (!(record.lastFlap >= MIN_TIME && record.lastFlap <= MAX_TIME)) {
    throw new PersistenceError(
      'INVALID_FLAP_RECORD',
      `last flap time ${record.lastFlap} is out of range`,
    );
  }
  return { count: record.count, lastFlap: formatTimestamp(record.lastFlap) };
}

/** Decodes a stored value; anything but a well-formed record is `invalid`, never thrown. */
export function decodeFlapRecord(value: unknown): DecodedFlapRecord {
  if (value === undefined || value === null) return ABSENT;
  if (value instanceof UndecodableValue) {
    return { kind: 'invalid', reason: `not JSON: ${preview(value.text)}` };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'invalid', reason: `not an object: ${preview(JSON.stringify(value))}` };
  }
  const { count, lastFlap } = value as Record<string, unknown>;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    return { kind: 'invalid', reason: `count is not a non-negative integer: ${preview(count)}` };
  }
  const time = typeof lastFlap === 'string' ? rfc3339ToMs(lastFlap) : undefined;
  if (time === undefined) {
    return { kind: 'invalid', reason: `lastFlap is not an RFC 3339 time: ${preview(lastFlap)}` };
  }
  return { kind: 'record', record: { count, lastFlap: time } };
}

/**
 * Keyv's serializer: plain JSON, the exact inverse of keyvDeserialize. Keyv's
 * default walks every value by hand (with string concatenation, escaping
 * strings that start with ':', which keyvDeserialize would not undo): many
 * times slower than JSON.stringify on large values, such as history batches,
 * where it held the event loop for tens of milliseconds.
 */
export const keyvSerialize: Serialize = (data) => JSON.stringify(data);

/**
 * Keyv's deserializer for flap records. Unlike Keyv's default it never throws,
 * so one corrupt value cannot fail the reads of a whole batch of peers: text
 * that is not JSON becomes an UndecodableValue, reported as invalid by
 * decodeFlapRecord. A JSON value without Keyv's `{"value": …}` envelope (e.g.
 * written by another tool in the documented format) is taken as the value itself.
 */
export const keyvDeserialize: Deserialize = <Value>(text: string): DeserializedData<Value> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { value: new UndecodableValue(text) as Value };
  }
  if (typeof parsed === 'object' && parsed !== null && Object.hasOwn(parsed, 'value')) {
    return parsed;
  }
  return { value: parsed as Value };
};

function preview(value: unknown): string {
  // JSON.stringify answers undefined (typed string) for undefined and functions.
  const json = JSON.stringify(value) as string | undefined;
  const text = typeof value === 'string' ? value : (json ?? String(value));
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
