import { GraphQLError } from 'graphql';
import { CodedError } from '../errors.js';
import { StoreError, type StoreErrorCode } from '../store/errors.js';

/** The `extensions.code` values a client can be given on purpose (the schema documents each). */
export const API_ERROR_CODES = [
  'BAD_USER_INPUT',
  'NODE_NOT_FOUND',
  'CHANNEL_NOT_FOUND',
  'PEER_NOT_FOUND',
  'STORE_UNAVAILABLE',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** An error of the GraphQL API meant for the client: a bad argument or something not found. */
export class ApiError extends CodedError<ApiErrorCode> {}

export function badUserInput(message: string): ApiError {
  return new ApiError('BAD_USER_INPUT', message);
}

/** What each store error means to a client; the others are bugs and stay masked. */
const STORE_CODES: Partial<Record<StoreErrorCode, ApiErrorCode>> = {
  PEER_NOT_FOUND: 'PEER_NOT_FOUND',
  CHANNEL_NOT_FOUND: 'CHANNEL_NOT_FOUND',
  INVALID_RANGE: 'BAD_USER_INPUT',
};

/**
 * The GraphQL error a client sees for an error raised on purpose, or undefined
 * for anything else (which yoga then masks and logs). A GraphQLError without
 * an original error is what yoga passes through unmasked.
 */
export function clientError(err: unknown): GraphQLError | undefined {
  let code: ApiErrorCode | undefined;
  if (err instanceof ApiError) code = err.code;
  else if (err instanceof StoreError) code = STORE_CODES[err.code];
  if (code === undefined || !(err instanceof Error)) return undefined;
  return new GraphQLError(err.message, { extensions: { code } });
}

/** Rethrows an error raised on purpose as the client's GraphQL error; anything else as is. */
function rethrow(err: unknown): never {
  throw clientError(err) ?? err;
}

/**
 * Runs a resolver body, turning our coded errors into client errors, for
 * synchronous and asynchronous bodies alike.
 */
export function withClientErrors<T>(body: () => T): T {
  let result: T;
  try {
    result = body();
  } catch (err) {
    rethrow(err);
  }
  if (result instanceof Promise) return result.catch(rethrow) as T;
  return result;
}
