/**
 * lnd's flap-count arithmetic: the rate-limit tiers that bound a flapping peer's
 * event log, and the cooldown that lets old flaps fade.
 */

/** Flaps per rate-limit tier. */
export const RATE_LIMIT_SCALE = 200;

/** Minimum spacing of committed events, by tier (ms): 1 s, 5 s, 30 s, 1 min, 30 min, 1 h. */
export const RATE_LIMITS_MS: readonly number[] = [
  1_000,
  5_000,
  30_000,
  60_000,
  30 * 60_000,
  60 * 60_000,
];

/** The flap count is multiplied by this once per cooldown period without a flap. */
export const FLAP_COOLDOWN_FACTOR = 0.95;

/** 8 hours: no cooldown applies before a full period has passed. */
export const FLAP_COOLDOWN_PERIOD_MS = 8 * 60 * 60_000;

/** The minimum time between two committed events for a peer with this flap count. */
export function rateLimitMs(flapCount: number): number {
  const tier = Math.min(Math.floor(flapCount / RATE_LIMIT_SCALE), RATE_LIMITS_MS.length - 1);
  return RATE_LIMITS_MS[tier] ?? 0;
}

/**
 * The flap count scaled down by 0.95 per 8 h since the last flap, fractional
 * periods allowed, truncated; unchanged before a full period has passed.
 */
export function cooldownFlapCount(now: number, flapCount: number, lastFlap: number): number {
  const elapsed = now - lastFlap;
  if (elapsed < FLAP_COOLDOWN_PERIOD_MS) return flapCount;
  const factor = Math.pow(FLAP_COOLDOWN_FACTOR, elapsed / FLAP_COOLDOWN_PERIOD_MS);
  return Math.floor(flapCount * factor);
}
