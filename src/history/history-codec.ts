/**
 * The persisted form of a store's history, as JSON values in Keyv. Every
 * decoder checks what it reads and throws HistoryFormatError (an older or
 * newer format) or HistoryCorruptError (anything else it cannot use): state
 * that cannot be trusted is ignored, never half-applied.
 *
 * The module in parts: keys, format and stored shapes (history-format), the
 * events of a log (history-event-encoding), peers (history-peer-encoding),
 * a node's gaps (history-observation-encoding), and the decoders of the
 * other values (history-decoders) with their checks (history-validation).
 */

export {
  decodeBootstrap,
  decodeBucket,
  decodeJetStreamMark,
  decodeManifest,
  decodeNodeIndex,
  decodeSegment,
} from './history-decoders.js';
export { decodeEvents, decodeEventsInto, encodeEvents } from './history-event-encoding.js';
export {
  firstSegment,
  HISTORY_FORMAT,
  HistoryCorruptError,
  HistoryFormatError,
  historyKeys,
  sealedSegments,
  SEGMENT_EVENTS,
  type JetStreamMark,
  type Manifest,
  type NodeIndex,
  type StoredBucket,
  type StoredPeer,
  type StoredSegment,
} from './history-format.js';
export { decodeObservation, encodeObservation } from './history-observation-encoding.js';
export { decodePeer, encodePeer, type DecodedPeer } from './history-peer-encoding.js';
