import { DecodeError } from './decode-error.js';
import { MAX_EVENT_BYTES, jsonKind, parseJsonObject, quote } from './json-payload.js';
import type { StatusMessage } from './messages.js';
import { parseTimestamp } from './timestamp.js';

/**
 * Decodes the bridge's `<prefix>.<node>.status`,
 * `{"lnd":"up"|"down","timestamp":"<RFC 3339>"}` (SPEC 4.4). The timestamp
 * is optional as in every other message (the receipt or stream time stands
 * in). Throws DecodeError.
 */
export function decodeStatus(data: Uint8Array | string): StatusMessage {
  const body = parseJsonObject(data, MAX_EVENT_BYTES);
  const lnd = body.lnd;
  if (lnd === undefined || lnd === null) throw new DecodeError('invalid_shape', 'lnd: missing');
  if (typeof lnd !== 'string') {
    throw new DecodeError('invalid_shape', `lnd: expected a string, got ${jsonKind(lnd)}`);
  }
  if (lnd !== 'up' && lnd !== 'down') {
    throw new DecodeError('unknown_type', `lnd: ${quote(lnd)} is neither "up" nor "down"`);
  }
  const raw = body.timestamp;
  const timestamp = raw === undefined || raw === null ? undefined : parseTimestamp(raw);
  return { type: lnd === 'up' ? 'LND_UP' : 'LND_DOWN', up: lnd === 'up', timestamp };
}
