/** Events more than this far ahead of the exporter's clock are rejected (SPEC 3.3). */
export const MAX_FUTURE_MS = 5 * 60_000;

/**
 * Bitcoin's genesis block, 2009-01-03T18:15:05Z: no Lightning event is older,
 * so a payload timestamp before it is unusable (`0001-01-01T00:00:00Z` would
 * otherwise give a channel a lifetime of two thousand years).
 */
export const MIN_EVENT_TIME_MS = Date.UTC(2009, 0, 3, 18, 15, 5);

/**
 * SPEC 3.3: the payload timestamp, else the JetStream message time, else the
 * time of receipt.
 */
export function eventTime(
  payload: number | undefined,
  stream: number | undefined,
  receipt: number,
): number {
  return payload ?? stream ?? receipt;
}

/** Whether a payload timestamp is one an lnd event can have: not before the genesis block. */
export function plausiblePayloadTime(payload: number | undefined): boolean {
  return payload === undefined || payload >= MIN_EVENT_TIME_MS;
}
