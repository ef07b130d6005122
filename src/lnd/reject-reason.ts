/**
 * Why the store could not apply an otherwise well-formed event (the store's
 * ApplyOutcome), and the code of the StoreError a PeerMonitor throws for the
 * same fact: one spelling from the store to the metric label.
 */
export const STORE_REJECTIONS = [
  /** An open for a channel the store already has. */
  'duplicate_channel',
  /** A close for a channel (or peer) the store does not know. */
  'unknown_channel',
] as const;
export type StoreRejection = (typeof STORE_REJECTIONS)[number];

/**
 * Every reason a message can be rejected for: the `reason` label of
 * chanfitness_events_rejected_total (lower case, as the metric contract has
 * them). The decoders' reasons are DecodeError codes; the store's are its
 * rejections; the last two are the ingest's refusals of a node.
 */
export const REJECT_REASONS = [
  /** Over the 64 KiB message limit. */
  'too_large',
  /** Not JSON. */
  'invalid_json',
  /** JSON, but not the shape of the lnd message the subject carries. */
  'invalid_shape',
  /** A `type` lnd does not have. */
  'unknown_type',
  /** Not a 33-byte compressed public key in hex. */
  'invalid_pubkey',
  /** Not `<64 hex txid>:<output index>`. */
  'invalid_channel_point',
  /** Not an RFC 3339 timestamp, or one before Bitcoin's genesis block (no Lightning event is older). */
  'invalid_timestamp',
  /** More than 5 minutes ahead of the exporter's clock. */
  'future_timestamp',
  ...STORE_REJECTIONS,
  /** On the subjects of a node that --nats.nodes does not name. */
  'node_not_allowed',
  /** On the subjects of a new node while --nats.max-nodes nodes are tracked already. */
  'too_many_nodes',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];
