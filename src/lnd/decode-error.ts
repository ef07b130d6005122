import { CodedError } from '../errors.js';
import type { RejectReason } from './reject-reason.js';

/**
 * A message that cannot be decoded. The code is the rejection reason, so the
 * ingest shell counts `chanfitness_events_rejected_total{reason=code}` as is.
 */
export class DecodeError extends CodedError<RejectReason> {}
