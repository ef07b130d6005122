import { CodedError } from '../errors.js';

export type MetricsErrorCode = 'SCRAPE_ABORTED';

/** A scrape that stopped before its end: the destination closed or failed. */
export class MetricsError extends CodedError<MetricsErrorCode> {}
