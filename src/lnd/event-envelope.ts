import { MAX_EVENT_BYTES, parseJsonObject, unwrapResult, type JsonObject } from './json-payload.js';
import { parseTimestamp } from './timestamp.js';

/** An event message with its wrapper taken off. */
export interface EventEnvelope {
  /** The lnd message itself (ChannelEventUpdate or PeerEvent). */
  readonly body: JsonObject;
  /** The optional `timestamp`, ms since the epoch. */
  readonly timestamp: number | undefined;
}

/**
 * Reads an event message, bare or wrapped as `{"result": …}`: at most 64 KiB,
 * a JSON object. Its `timestamp` sits beside `type`, or beside `result` in a
 * wrapped message (the inner one wins); JSON null counts as absent, as proto3
 * JSON reads it.
 */
export function readEventEnvelope(data: Uint8Array | string): EventEnvelope {
  return envelopeOf(parseJsonObject(data, MAX_EVENT_BYTES));
}

/** The envelope of a parsed event message. */
export function envelopeOf(message: JsonObject): EventEnvelope {
  const body = unwrapResult(message);
  const raw = body.timestamp ?? (body === message ? undefined : message.timestamp);
  const timestamp = raw === undefined || raw === null ? undefined : parseTimestamp(raw);
  return { body, timestamp };
}
