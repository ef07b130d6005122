/**
 * Substitute for src/lnd/decode-channel-event.ts
 * (bench/fast-path-decoder.bench.ts): decodeChannelEvent as it was with its
 * scanning fast path, and src's own decoder (JSON.parse and the checks) for
 * whatever the scanner does not answer.
 */
import { decodeChannelEvent as decodeChannelEventJson } from '../../../src/lnd/decode-channel-event.js';
import { MAX_EVENT_BYTES, messageText } from '../../../src/lnd/json-payload.js';
import type { ChannelEventMessage } from '../../../src/lnd/messages.js';
import { scanChannelEvent } from './channel-event-scan.js';

/** Exported too so that a benchmark process can tell this substitute is in place. */
export { decodeChannelEventJson };

export function decodeChannelEvent(data: Uint8Array | string): ChannelEventMessage {
  const text = messageText(data, MAX_EVENT_BYTES);
  return scanChannelEvent(text) ?? decodeChannelEventJson(text);
}
