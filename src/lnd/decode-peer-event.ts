import { DecodeError } from './decode-error.js';
import { readEventEnvelope } from './event-envelope.js';
import { PEER_EVENT_TYPES, type PeerEventMessage, type PeerEventType } from './messages.js';
import { jsonKind, quote } from './json-payload.js';
import { parsePubkey } from './pubkey.js';

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
  const { body, timestamp } = readEventEnvelope(data);
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
