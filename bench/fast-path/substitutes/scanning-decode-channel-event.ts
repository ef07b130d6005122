/**
 * Substitute for src/lnd/decode-channel-event.ts
 * (bench/fast-path-decoder.bench.ts): decodeChannelEvent as it was with its
 * scanning fast path, the general path for whatever the scanner does not answer.
 */
import { DecodeError } from '../../../src/lnd/decode-error.js';
import { scanChannelEvent } from './channel-event-scan.js';
import { envelopeOf } from '../../../src/lnd/event-envelope.js';
import {
  MAX_EVENT_BYTES,
  isJsonObject,
  jsonKind,
  messageText,
  parseJsonText,
  quote,
  type JsonObject,
} from '../../../src/lnd/json-payload.js';
import {
  CHANNEL_EVENT_TYPES,
  type ChannelEventMessage,
  type ChannelEventType,
} from '../../../src/lnd/messages.js';
import { CHANNEL_EVENT_FIELD } from '../../../src/lnd/channel-event-fields.js';
import { parseChannelPoint } from '../../../src/lnd/channel-point.js';
import { parsePubkey } from '../../../src/lnd/pubkey.js';

/** The type each oneof field carries, by field name. */
const FIELD_TYPES: ReadonlyMap<string, ChannelEventType> = new Map(
  CHANNEL_EVENT_TYPES.map((type) => [CHANNEL_EVENT_FIELD[type], type] as const),
);
/** Each type by its name: the constant is returned, not the message's copy of it. */
const CHANNEL_TYPES: ReadonlyMap<string, ChannelEventType> = new Map(
  CHANNEL_EVENT_TYPES.map((type) => [type, type] as const),
);

/**
 * Decodes lnd's ChannelEventUpdate JSON, bare or wrapped. The type comes from
 * `type`, else from the one oneof field present. Opens and closes are checked
 * down to their pubkey and channel point; the other types only need their
 * payload to be an object, as they are counted and change nothing.
 * Throws DecodeError.
 */
export function decodeChannelEvent(data: Uint8Array | string): ChannelEventMessage {
  const text = messageText(data, MAX_EVENT_BYTES);
  return scanChannelEvent(text) ?? decodeChannelEventJson(text);
}

/**
 * The general path of decodeChannelEvent: JSON.parse, then the checks. The
 * fast path (scanChannelEvent) answers as this does wherever it answers.
 */
export function decodeChannelEventJson(text: string): ChannelEventMessage {
  const { body, timestamp } = envelopeOf(parseJsonText(text));

  // The oneof allows one field; JSON null is an unset field. The message's own
  // keys are walked (a handful) rather than every field looked up: messages
  // come in many shapes, and lookups by a varying name on them (or a for-in
  // over them) kept the function from staying optimized.
  let present: ChannelEventType | undefined;
  let presentCount = 0;
  for (const key of Object.keys(body)) {
    const fieldType = FIELD_TYPES.get(key);
    if (fieldType === undefined) continue;
    const value = body[key];
    if (value !== undefined && value !== null) {
      present = fieldType;
      presentCount++;
    }
  }
  if (presentCount > 1) {
    throw new DecodeError('invalid_shape', 'several channel fields present, lnd sends one');
  }

  const type = channelEventType(body.type, present);
  const field = CHANNEL_EVENT_FIELD[type];
  const payload = body[field];
  if (payload === undefined || payload === null) {
    if (type === 'CHANNEL_UPDATE') return { type, timestamp };
    throw new DecodeError('invalid_shape', `${field}: missing for type ${type}`);
  }
  if (!isJsonObject(payload)) {
    throw new DecodeError(
      'invalid_shape',
      `${field}: expected an object, got ${jsonKind(payload)}`,
    );
  }
  if (type === 'OPEN_CHANNEL' || type === 'CLOSED_CHANNEL') {
    return {
      type,
      pubkey: parsePubkey(required(payload, 'remote_pubkey', field), `${field}.remote_pubkey`),
      channelPoint: parseChannelPoint(
        required(payload, 'channel_point', field),
        `${field}.channel_point`,
      ),
      timestamp,
    };
  }
  return { type, timestamp };
}

/** The type from `type`, else the one present oneof field's. */
function channelEventType(raw: unknown, present: ChannelEventType | undefined): ChannelEventType {
  if (raw === undefined || raw === null) {
    if (present === undefined) {
      throw new DecodeError('invalid_shape', 'no type and no channel field to infer it from');
    }
    return present;
  }
  if (typeof raw !== 'string') {
    throw new DecodeError('invalid_shape', `type: expected a string, got ${jsonKind(raw)}`);
  }
  const type = CHANNEL_TYPES.get(raw);
  if (type === undefined) {
    throw new DecodeError('unknown_type', `type: ${quote(raw)} is not a ChannelEventUpdate type`);
  }
  if (present !== undefined && present !== type) {
    throw new DecodeError(
      'invalid_shape',
      `type ${type} carries ${CHANNEL_EVENT_FIELD[present]}, not ${CHANNEL_EVENT_FIELD[type]}`,
    );
  }
  return type;
}

function required(payload: JsonObject, key: string, field: string): unknown {
  const value = payload[key];
  if (value === undefined || value === null) {
    throw new DecodeError('invalid_shape', `${field}.${key}: missing`);
  }
  return value;
}
