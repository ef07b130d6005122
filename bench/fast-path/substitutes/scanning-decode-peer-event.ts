/**
 * Substitute for src/lnd/decode-peer-event.ts (bench/fast-path-decoder.bench.ts):
 * decodePeerEvent as it was with its scanning fast path, the general path
 * (JSON.parse and the checks) for whatever the scanner does not answer.
 */
import { DecodeError } from '../../../src/lnd/decode-error.js';
import { envelopeOf } from '../../../src/lnd/event-envelope.js';
import {
  PEER_EVENT_TYPES,
  type PeerEventMessage,
  type PeerEventType,
} from '../../../src/lnd/messages.js';
import {
  MAX_EVENT_BYTES,
  jsonKind,
  messageText,
  parseJsonText,
  quote,
} from '../../../src/lnd/json-payload.js';
import { scanPeerEvent } from './peer-event-scan.js';
import { parsePubkey } from '../../../src/lnd/pubkey.js';

/** Each type by its name: the constant is returned, not the message's copy of it. */
const PEER_TYPES: ReadonlyMap<string, PeerEventType> = new Map(
  PEER_EVENT_TYPES.map((type) => [type, type] as const),
);

/**
 * Decodes lnd's PeerEvent JSON, `{"pub_key": "02…", "type": "PEER_ONLINE"}`,
 * bare or wrapped. A missing type is PEER_ONLINE, the proto3 default that
 * lnd's JSON leaves out. Throws DecodeError.
 */
export function decodePeerEvent(data: Uint8Array | string): PeerEventMessage {
  const text = messageText(data, MAX_EVENT_BYTES);
  return scanPeerEvent(text) ?? decodePeerEventJson(text);
}

/**
 * The general path of decodePeerEvent: JSON.parse, then the checks. The fast
 * path (scanPeerEvent) answers as this does wherever it answers at all.
 */
export function decodePeerEventJson(text: string): PeerEventMessage {
  const { body, timestamp } = envelopeOf(parseJsonText(text));
  const rawPubkey = body.pub_key;
  if (rawPubkey === undefined || rawPubkey === null) {
    throw new DecodeError('invalid_shape', 'pub_key: missing');
  }
  const pubkey = parsePubkey(rawPubkey, 'pub_key');
  return { type: peerEventType(body.type), pubkey, timestamp };
}

function peerEventType(raw: unknown): PeerEventType {
  if (raw === undefined || raw === null) return 'PEER_ONLINE';
  if (typeof raw !== 'string') {
    throw new DecodeError('invalid_shape', `type: expected a string, got ${jsonKind(raw)}`);
  }
  const type = PEER_TYPES.get(raw);
  if (type === undefined) {
    throw new DecodeError('unknown_type', `type: ${quote(raw)} is not a PeerEvent type`);
  }
  return type;
}
