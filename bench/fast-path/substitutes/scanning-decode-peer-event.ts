/**
 * Substitute for src/lnd/decode-peer-event.ts (bench/fast-path-decoder.bench.ts):
 * decodePeerEvent as it was with its scanning fast path, and src's own decoder
 * (JSON.parse and the checks) for whatever the scanner does not answer.
 */
import { decodePeerEvent as decodePeerEventJson } from '../../../src/lnd/decode-peer-event.js';
import { MAX_EVENT_BYTES, messageText } from '../../../src/lnd/json-payload.js';
import type { PeerEventMessage } from '../../../src/lnd/messages.js';
import { scanPeerEvent } from './peer-event-scan.js';

/** Exported too so that a benchmark process can tell this substitute is in place. */
export { decodePeerEventJson };

export function decodePeerEvent(data: Uint8Array | string): PeerEventMessage {
  const text = messageText(data, MAX_EVENT_BYTES);
  return scanPeerEvent(text) ?? decodePeerEventJson(text);
}
