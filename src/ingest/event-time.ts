/** Events more than this far ahead of the exporter's clock are rejected (SPEC 3.3). */
export const MAX_FUTURE_MS = 5 * 60_000;

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
