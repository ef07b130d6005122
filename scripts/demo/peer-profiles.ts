const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** How a simulated peer behaves: mean lengths of its online and offline spells. */
export interface PeerProfile {
  readonly name: 'stable' | 'flaky' | 'mostly-offline' | 'flapping' | 'hyper-flapping';
  readonly meanOnlineMs: number;
  readonly meanOfflineMs: number;
  /** Relative chance of being picked for a new channel. */
  readonly channelWeight: number;
  /** Share of the peers with this profile. */
  readonly share: number;
}

/**
 * The mix of peers a routing node sees. The flapping ones flap fast enough to
 * pass 200 flaps (the rate limiter's second tier) within a few simulated hours,
 * the hyper-flapping ones 1000 (the last tiers) within the first hour.
 */
export const PEER_PROFILES: readonly PeerProfile[] = [
  {
    name: 'stable',
    meanOnlineMs: 36 * HOUR,
    meanOfflineMs: 4 * MINUTE,
    channelWeight: 3,
    share: 0.45,
  },
  {
    name: 'flaky',
    meanOnlineMs: 3 * HOUR,
    meanOfflineMs: 20 * MINUTE,
    channelWeight: 2,
    share: 0.25,
  },
  {
    name: 'mostly-offline',
    meanOnlineMs: 40 * MINUTE,
    meanOfflineMs: 6 * HOUR,
    channelWeight: 1,
    share: 0.15,
  },
  {
    name: 'flapping',
    meanOnlineMs: 60 * SECOND,
    meanOfflineMs: 30 * SECOND,
    channelWeight: 1,
    share: 0.1,
  },
  {
    name: 'hyper-flapping',
    meanOnlineMs: 4 * SECOND,
    meanOfflineMs: 2 * SECOND,
    channelWeight: 1,
    share: 0.05,
  },
];

/**
 * How many peers of each profile make `total`: every profile at least once when
 * there is room, the stable ones taking the rest.
 */
export function profileCounts(total: number): Map<PeerProfile, number> {
  const counts = new Map<PeerProfile, number>();
  let assigned = 0;
  // The rarest profiles first, so that a small demo still has a flapping peer.
  for (const profile of PEER_PROFILES.slice(1).reverse()) {
    const count = Math.min(total - assigned, Math.max(1, Math.round(total * profile.share)));
    counts.set(profile, count);
    assigned += count;
  }
  const [stable] = PEER_PROFILES;
  if (stable !== undefined) counts.set(stable, total - assigned);
  return counts;
}
