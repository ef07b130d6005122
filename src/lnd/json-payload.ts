import { DecodeError } from './decode-error.js';

/** lnd's JSON as parsed: an object with unknown values. */
export type JsonObject = Record<string, unknown>;

/** Largest event message accepted (SPEC 3.4); a message of exactly this many bytes passes. */
export const MAX_EVENT_BYTES = 65_536;
/** Largest RPC reply accepted: ListChannels of a big node is megabytes, not gigabytes. */
export const MAX_RPC_REPLY_BYTES = 64 * 1024 * 1024;

/** One decoder for every message; fatal so that bytes that are not UTF-8 are not JSON. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a message that must be a JSON object, checking its size first so that
 * an oversized message costs no parsing: too_large, invalid_json (also for
 * bytes that are not UTF-8), or invalid_shape when the JSON is not an object.
 */
export function parseJsonObject(data: Uint8Array | string, maxBytes: number): JsonObject {
  return parseJsonText(messageText(data, maxBytes));
}

/**
 * A message as text: too_large over maxBytes (checked before decoding),
 * invalid_json for bytes that are not UTF-8.
 */
export function messageText(data: Uint8Array | string, maxBytes: number): string {
  if (exceedsBytes(data, maxBytes)) {
    throw new DecodeError('too_large', `message over ${maxBytes} bytes`);
  }
  if (typeof data === 'string') return data;
  try {
    return utf8.decode(data);
  } catch (err) {
    throw new DecodeError('invalid_json', 'message is not JSON', { cause: err });
  }
}

/** Parses text that must be a JSON object: invalid_json, or invalid_shape when not an object. */
export function parseJsonText(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DecodeError('invalid_json', 'message is not JSON', { cause: err });
  }
  if (!isJsonObject(value)) {
    throw new DecodeError('invalid_shape', `expected a JSON object, got ${jsonKind(value)}`);
  }
  return value;
}

/**
 * The message inside lnd's REST stream wrapper `{"result": …}`, or the message
 * itself when it is bare.
 */
export function unwrapResult(message: JsonObject): JsonObject {
  const result = message.result;
  if (result === undefined) return message;
  if (!isJsonObject(result)) {
    throw new DecodeError('invalid_shape', `result: expected an object, got ${jsonKind(result)}`);
  }
  return result;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a JSON value is, for error messages. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A string from a message, quoted and cut short for error messages. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function exceedsBytes(data: Uint8Array | string, maxBytes: number): boolean {
  if (typeof data !== 'string') return data.byteLength > maxBytes;
  // A UTF-16 code unit is 1 to 3 UTF-8 bytes: most strings are decided by their length.
  if (data.length > maxBytes) return true;
  if (data.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(data, 'utf8') > maxBytes;
}
