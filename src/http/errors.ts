import { CodedError } from '../errors.js';

export type HttpServerErrorCode =
  'INVALID_LISTEN_ADDRESS' | 'LISTEN_FAILED' | 'TLS_FILE_UNREADABLE' | 'TLS_INVALID';

/** A configuration or start-up failure of the HTTP server; the message names the flag. */
export class HttpServerError extends CodedError<HttpServerErrorCode> {}
