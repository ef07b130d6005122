import { CodedError } from '../errors.js';

export type StoreErrorCode =
  | 'PEER_NOT_FOUND'
  | 'CHANNEL_NOT_FOUND'
  | 'DUPLICATE_CHANNEL'
  | 'INVALID_RANGE'
  /** Persisted state that cannot be a store's (restore). */
  | 'INVALID_STATE';

/** An error of the channel event store, with lnd's meanings (ErrPeerNotFound, ...). */
export class StoreError extends CodedError<StoreErrorCode> {}
