import { CodedError } from '../errors.js';
import type { StoreRejection } from '../lnd/reject-reason.js';

export type StoreErrorCode =
  /** A lookup of a peer the store does not monitor: lnd's ErrPeerNotFound. */
  | 'PEER_NOT_FOUND'
  /** A lookup of a channel the store does not have (getChanInfo): lnd's ErrChannelNotFound. */
  | 'CHANNEL_NOT_FOUND'
  /**
   * A PeerMonitor asked to add a channel it has or to remove one it has not:
   * the fact the store rejects such an event for, spelled as its rejection.
   */
  | StoreRejection
  | 'INVALID_RANGE'
  /** Persisted state that cannot be a store's (restore). */
  | 'INVALID_STATE';

/** An error of the channel event store, with lnd's meanings (ErrPeerNotFound, ...). */
export class StoreError extends CodedError<StoreErrorCode> {}
